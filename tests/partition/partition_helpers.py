"""Building small specs as JSON documents, and a brute-force oracle of the bytes per tile."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from hypothesis import settings

from snncc.ir import spec_to_ir
from snncc.partition import constants as k
from snncc.partition.check import check_plan
from snncc.partition.memory import CAT, NCAT, population_memory, vertex_code
from snncc.spec import parse_spec

ROOT = Path(__file__).resolve().parents[2]


def profile() -> settings:
    """This directory's hypothesis profile (registered in its conftest.py)."""
    return settings.get_profile("partition-ci" if os.environ.get("CI") else "partition-dev")


def document(populations, projections, readout, *, timesteps=5, batch=2, optimizer=None, target=None):
    return {
        "name": "t",
        "timesteps": timesteps,
        "populations": populations,
        "projections": projections,
        "readout": {"population": readout, "decoding": "spike_count"},
        "training": {"batch_size": batch, "optimizer": optimizer or {"kind": "adam"}},
        "data": {"kind": "synthetic", "num_classes": next(p["size"] for p in populations if p["id"] == readout)},
        "target": target or {},
    }


def ir_of(doc):
    return spec_to_ir(parse_spec(json.dumps(doc), "model.json"), check=True)


def example_ir(name: str, **target):
    doc = json.loads((ROOT / "examples" / f"{name}.json").read_text())
    if target:
        doc.setdefault("target", {}).update(target)
    return ir_of(doc)


def static_bytes(table: np.ndarray) -> np.ndarray:
    """A byte table without its receive column: what brute_force_tile_bytes can check (the receive
    buffers are checked by hand and against the host runtime's measure)."""
    return np.delete(table, CAT["receive"], axis=1)


def brute_force_tile_bytes(ir, plan) -> np.ndarray:
    """Bytes per tile summed slice by slice in plain Python (an oracle for the vectorised sum), the
    receive buffers (which depend on every placement) left 0."""
    mems = {p.id: population_memory(ir, p) for p in ir.populations}
    table = np.zeros((plan.num_tiles, NCAT), dtype=np.int64)
    types: dict[int, set[str]] = {}
    for pl in plan.placements:
        pm = mems[pl.population]
        if pl.kind == "neuron":
            for j in range(pl.num_tiles):
                start, stop = pl.neuron_range(j)
                tile = pl.first_tile + j
                table[tile] += pm.slice_bytes(np.array([stop - start]), pl.num_tiles)[0]
                if j == 0:
                    table[tile] += pm.readout_tile_bytes()  # loss tensors and vertices (readout only)
                types.setdefault(tile, set()).update(pm.slice_vertex_types())
        for j in range(pl.list_tiles):
            samples = min(pl.samples_per_list_tile, plan.batch_per_replica - j * pl.samples_per_list_tile)
            tile = pl.list_tile(j)
            table[tile] += pm.list_tile_bytes(np.array([samples]))[0]
            types.setdefault(tile, set()).update(pm.list_vertex_types())
    for tile, names in types.items():
        table[tile, -1] += sum(vertex_code(t) for t in names) + k.TILE_RESERVE_BYTES
    return table


def check_invariants(ir, plan) -> None:
    """check_plan finds no problem; and, counted neuron by neuron and sample by sample: every neuron
    placed once, every sample's list on one list tile, no tile over its bytes."""
    problems = check_plan(ir, plan)
    assert not problems, "\n".join(problems)
    limit = plan.bytes_per_tile
    assert plan.tile_memory.totals.max() <= limit
    for pop in ir.populations:
        pl = plan.placement(pop.id)
        ipu_tiles = range(pl.ipu * plan.tiles_per_ipu, (pl.ipu + 1) * plan.tiles_per_ipu)
        assert pl.first_tile in ipu_tiles and pl.first_tile + pl.num_tiles - 1 in ipu_tiles
        if pop.kind == "neuron":
            owner = np.full(pop.size, -1)
            for j in range(pl.num_tiles):
                start, stop = pl.neuron_range(j)
                assert stop > start  # no empty tile in a range
                assert (owner[start:stop] == -1).all()
                owner[start:stop] = pl.first_tile + j
            assert (owner >= 0).all()
            assert all(pl.tile_of_neuron(i) == owner[i] for i in range(0, pop.size, max(1, pop.size // 50)))
        if pop.spikes:
            held = np.zeros(plan.batch_per_replica, dtype=int)
            for j in range(pl.list_tiles):
                assert pl.list_tile(j) in pl.tiles
                lo = j * pl.samples_per_list_tile
                held[lo : lo + pl.samples_per_list_tile] += 1
            assert (held == 1).all()
            assert len({pl.list_tile(j) for j in range(pl.list_tiles)}) == pl.list_tiles


def large_layer_ir():
    """A layer of 400 neurons of 200 inputs each (1.3 MB with Adam) before a 2-neuron readout of
    its own, on an IPU of 64 tiles of 64 KiB: it needs at least 20 tiles."""
    return ir_of(document(
        [{"kind": "input", "id": "inp", "size": 200, "sparsity": {"max_spikes": 10}},
         {"kind": "neuron", "id": "hid", "size": 400, "neuron": {"model": "lif", "beta": 0.9}},
         {"kind": "neuron", "id": "out", "size": 2, "neuron": {"model": "lif", "beta": 0.9}}],
        [{"id": "p", "source": "inp", "target": "hid"}, {"id": "q", "source": "hid", "target": "out", "delay": 1}],
        "out", target={"tiles_per_ipu": 64, "bytes_per_tile": 65536}))
