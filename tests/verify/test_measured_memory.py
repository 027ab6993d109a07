"""The partitioner's memory model against the host runtime's measured per-tile allocation: equal
to the byte on every tile (variables, vertex state and receive buffers, the runtime's totalBytes)
and, per tile, the receive buffers (receiveBytes) on their own. shd_mlp and shd_deep_16ipu are
too large to build in the tests (shd_mlp: by hand, docs/plan.md)."""

from __future__ import annotations

import json

import pytest

from snncc.verify.memory import measure_allocation
from snncc.driver import build, compile_spec
from snncc.codegen.render import write_build_dir
from snncc.partition import check_allocation, make_plan
from snncc.runtime.build import default_cache_root

from codegen_helpers import ROOT, small_spec


def _measure(spec_path, tmp_path):
    ir, files = compile_spec(spec_path)
    binary = build(write_build_dir(files, tmp_path / "b"), "host", cache_root=default_cache_root())
    return make_plan(ir), measure_allocation(ir, binary, tmp_path / "run")


def _receive_report(tmp_path) -> dict[int, tuple[int, str]]:
    """{tile: (receiveBytes, receiveComputeSet)} of the report measure_allocation left."""
    data = json.loads((tmp_path / "run" / "report.json").read_text())
    return {int(t["tile"]): (int(t["receiveBytes"]), t["receiveComputeSet"]) for t in data["tiles"]}


def _check_receive(plan, tmp_path) -> None:
    measured = _receive_report(tmp_path)
    model = plan.tile_memory.category("receive")
    wrong = [(t, int(model[t]), b) for t, (b, _) in measured.items() if int(model[t]) != b]
    assert not wrong, f"{len(wrong)} tiles differ (tile, model, measured): {wrong[:5]}"
    assert sum(b for b, _ in measured.values()) == int(model.sum()) > 0
    # the compute set of the peak: the model names the first compute set in step order that reaches
    # it, the runtime the first in its own order; where the peak is unique, the same
    names = {t: plan.tile_memory.receive_compute_set(t) for t in measured}
    agree = sum(names[t] == cs for t, (b, cs) in measured.items() if b)
    assert agree >= 0.5 * sum(1 for b, _ in measured.values() if b)


@pytest.mark.parametrize("name", ["digits", "recurrent", "cuba", "pipelined"])
def test_memory_model_matches_measured_allocation(name, tmp_path):
    plan, measured = _measure(ROOT / "examples" / f"{name}.json", tmp_path)
    check = check_allocation(plan, measured, tolerance=0.0)  # receive buffers included (MEASURED_CATEGORIES)
    assert len(check.tiles) >= 100
    assert check.ok, check.describe()
    _check_receive(plan, tmp_path)


def test_memory_model_cuba_sparse_backward_membrane_max(tmp_path):
    spec = small_spec("memsmall", hidden=[
        {"kind": "neuron", "id": "h", "size": 9, "neuron": {"model": "cuba_lif", "beta": 0.9, "alpha": 0.5},
         "sparsity": {"gradient_threshold": 0.5}}], decoding="membrane_max",
        readout={"kind": "neuron", "id": "out", "size": 3, "neuron": {"model": "li", "beta": 0.9}},
        optimizer={"kind": "sgd", "lr": 0.1, "momentum": 0.9})
    path = tmp_path / "memsmall.json"
    path.write_text(json.dumps(spec))
    plan, measured = _measure(path, tmp_path)
    check = check_allocation(plan, measured, tolerance=0.0)
    assert check.ok, check.describe()
    _check_receive(plan, tmp_path)


@pytest.mark.parametrize("name", ["cuba", "digits"])
def test_memory_model_matches_measured_allocation_float16(name, tmp_path):
    """Mixed precision: 2-byte membranes, currents and weight copies, float32 the rest."""
    spec = json.loads((ROOT / "examples" / f"{name}.json").read_text())
    spec["training"]["precision"] = "float16"
    del spec["$schema"]
    path = tmp_path / f"{name}16.json"
    path.write_text(json.dumps(spec))
    plan, measured = _measure(path, tmp_path)
    check = check_allocation(plan, measured, tolerance=0.0)
    assert check.ok, check.describe()
    _check_receive(plan, tmp_path)
