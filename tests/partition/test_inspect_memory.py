"""`snncc inspect` and `snncc plan` report the same bytes per memory category: inspect shows
the plan's model per population (the IR has no memory model of its own)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from snncc.cli import main
from snncc.ir import spec_to_ir
from snncc.partition import make_plan
from snncc.partition.memory import CAT, CATEGORIES
from snncc.partition.report import memory_by_population
from snncc.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def _category_line(out: str) -> dict[str, str]:
    line = next(x for x in out.splitlines() if x.startswith("memory by category: "))
    return dict(item.split(" ", 1) for item in line.removeprefix("memory by category: ").split(", "))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_inspect_and_plan_report_the_same_bytes_per_category(example, capsys):
    assert main(["inspect", str(example)]) == 0
    inspected = _category_line(capsys.readouterr().out)
    assert main(["plan", str(example)]) == 0
    planned = _category_line(capsys.readouterr().out)
    assert list(inspected) == list(CATEGORIES)
    assert inspected == planned
    # and to the byte: the populations' rows and the tiles' code add up to the plan's table
    ir = spec_to_ir(load_spec(example))
    plan = make_plan(ir, pipelined=False)
    rows, tiles = memory_by_population(ir, plan)
    assert sorted(rows) == sorted(p.id for p in ir.populations)
    assert np.array_equal(sum(rows.values(), tiles), plan.tile_memory.bytes.sum(axis=0))


def test_population_bytes_hand_computed():
    """input l0 (8) -> l1 (6 LIF, 2 spikes, gradient threshold) -> l2 (4), T 3, B 2, Adam."""
    pops = [{"kind": "input", "id": "l0", "size": 8},
            {"kind": "neuron", "id": "l1", "size": 6, "neuron": {"model": "lif", "beta": 0.9},
             "sparsity": {"max_spikes": 2, "gradient_threshold": 0.9}},
            {"kind": "neuron", "id": "l2", "size": 4, "neuron": {"model": "lif", "beta": 0.9}}]
    projs = [{"id": "p1", "source": "l0", "target": "l1"}, {"id": "p2", "source": "l1", "target": "l2"}]
    doc = {"name": "chain", "timesteps": 3, "populations": pops, "projections": projs,
           "readout": {"population": "l2"}, "data": {"kind": "synthetic", "num_classes": 4},
           "training": {"batch_size": 2, "optimizer": {"kind": "adam"}}}
    ir = spec_to_ir(parse_spec(json.dumps(doc)))
    rows, _ = memory_by_population(ir, make_plan(ir, pipelined=False))
    l1 = {c: int(rows["l1"][CAT[c]]) for c in CATEGORIES}
    B, T, n, C, e = 2, 3, 6, 2, 4
    weights = (8 * n + n) * e  # w [8][6] and b, float32
    assert l1["weights"] == weights
    assert l1["gradients"] == weights + 3 * B * n * e  # dw, db; the dS ring (1 slot), carryU, dI
    assert l1["optimizer"] == 2 * weights  # Adam: two moments of w and of b
    assert l1["state"] == 3 * n * e  # beta, threshold, gradient level per neuron
    # membranes (T + 1) B n, and on the list tiles ids T C, counts T 2, overflow T per sample
    assert l1["history"] == (T + 1) * B * n * e + B * T * (C + 2 + 1) * 4
    assert l1["spike_lists"] == B * (C + 2) * 4 + B * n * e  # the ring (1 slot) of ids and counts; the spike codes
    assert l1["reduction"] == 0  # its input is an input population: no partials
    # l2 without a gradient threshold keeps every membrane too; its list capacity is its size
    assert int(rows["l2"][CAT["history"]]) == (T + 1) * B * 4 * e + B * T * (4 + 2 + 1) * 4
