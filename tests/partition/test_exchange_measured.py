"""The cost model's exchange bytes per compute set against the host runtime's report.

The runtime counts, once per execution of a compute set, every element connected to a
vertex field on another tile (docs/runtime.md); the cost model counts the same from
snncc.partition.allocation's vertex declarations and the plan. Equal to the byte on every
compute set of digits (13), recurrent (14), cuba (12) and pipelined (12), and so are the per-tile
peaks of the receive buffers (the runtime report's receiveBytes). Builds are cached
by content (tests/verify/test_measured_memory.py builds the same four programs), so this
is slow only on a cold cache.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from partition_helpers import ROOT
from snncc.partition import make_plan
from snncc.partition.cost import compute_set_costs


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits", "recurrent", "cuba", "pipelined"])
def test_exchange_bytes_per_compute_set_match_the_runtime(name, tmp_path):
    from snncc import tensorfile
    from snncc.driver import build, compile_spec
    from snncc.codegen.render import write_build_dir
    from snncc.lower import neuron_parameters
    from snncc.runtime.build import default_cache_root

    ir, files = compile_spec(ROOT / "examples" / f"{name}.json")
    binary = build(write_build_dir(files, tmp_path / "b"), "host", cache_root=default_cache_root())
    # exchange is static: zero weights and an empty batch give the same report (and no torch import)
    init = {k: np.asarray(v, np.float32) for k, v in neuron_parameters(ir).items()}
    for pr in ir.projections:
        n_in, n_out = ir.shapes(pr).weight
        init[f"weight.{pr.id}"] = np.zeros((n_in, n_out), np.float32)
        if pr.bias:
            init[f"bias.{pr.id}"] = np.zeros(n_out, np.float32)
    s = ir.settings
    inputs = next(p for p in ir.populations if p.kind == "input")
    tensorfile.write(tmp_path / "init.bin", init)
    tensorfile.write(tmp_path / "batch.bin", {"inputs": np.zeros((s.timesteps, s.batch_size, inputs.size), np.uint8),
                                              "labels": np.zeros(s.batch_size, np.uint32)})
    report = tmp_path / "report.json"
    proc = subprocess.run([str(binary), str(tmp_path / "init.bin"), str(tmp_path / "batch.bin"),
                           str(tmp_path / "out.bin"), "1"], capture_output=True, text=True,
                          env=dict(os.environ, SNNCC_RUNTIME_REPORT=str(report), SNNCC_NUM_THREADS="1"))
    assert proc.returncode in (0, 3), proc.stderr[-500:]
    data = json.loads(report.read_text())
    measured = {cs["name"]: cs for cs in data["computeSets"]}
    plan = make_plan(ir)
    model = compute_set_costs(ir, plan)
    assert set(model) == set(measured)
    for name, cs in measured.items():
        assert model[name]["exchange_bytes"] == cs["exchangeBytes"], name
        assert model[name]["executions"] == cs["executions"], name
    # per tile, the peak over compute sets of its receive buffers: what the runtime reserves
    receive = plan.tile_memory.category("receive")
    tiles = {int(t["tile"]): int(t["receiveBytes"]) for t in data["tiles"]}
    assert {t: int(receive[t]) for t in tiles} == tiles
    assert int(receive.sum()) == sum(tiles.values())
