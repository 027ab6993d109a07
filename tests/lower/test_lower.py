"""The lowering's decisions, checked against the IR and the plan."""

from __future__ import annotations

import pytest

from snncc.ir import spec_to_ir
from snncc.lower import LoweringError, lower
from snncc.partition import make_plan
from snncc.spec import load_spec

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _program(name):
    ir = spec_to_ir(load_spec(ROOT / "examples" / f"{name}.json"))
    return ir, lower(ir, make_plan(ir))


def test_deterministic_and_follows_the_plan():
    ir, a = _program("recurrent")
    _, b = _program("recurrent")
    assert a == b
    plan = make_plan(ir)
    for pl in plan.placements:
        p = a.population(pl.population)
        assert (p.tiles.first_tile, p.tiles.num_tiles, p.tiles.neurons_per_tile) == (
            pl.first_tile, pl.num_tiles, pl.neurons_per_tile)
    # hidden feeds itself back with delay 1: its dL/dS ring has 2 slots
    assert a.population("hidden").ring_slots == 2
    assert a.population("output").ring_slots == 1


def test_one_forward_superstep_per_stage():
    _, pipe = _program("pipelined")  # delay-1 stack: one stage
    # the input's lists of timestep t into its ring slot first (tile-local), then one superstep per kind
    assert [c.vertex for c in pipe.forward] == ["ListSlot", "Forward", "Compact", "Tick"]
    assert pipe.forward[1].members == ("layer1", "layer2", "layer3", "layer4", "output")
    _, dig = _program("digits")  # zero-delay chain: two stages
    assert [c.name for c in dig.forward] == ["lists.forward", "forward.stage0", "compact.stage0", "forward.stage1",
                                             "compact.stage1", "tick.forward"]
    # reverse order in the backward pass; reductions only into neuron populations
    # the ring slots are restored (timestep t - lag) first
    assert [c.name for c in dig.backward] == ["lists.backward", "backward.stage1", "weightgrad.stage1", "partialsum.stage1",
                                                 "reduce.hidden_to_output",
                                              "backward.stage0", "weightgrad.stage0", "tick.backward"]


def test_li_readout_has_no_list_and_neuron_parameters_are_tensors():
    ir, prog = _program("cuba")
    ro = prog.population("readout")
    assert not ro.spikes and not any(t.name.startswith("readout.ids") for t in prog.tensors)
    names = {t.name for t in prog.tensors if t.init}
    assert {"hidden.beta", "hidden.alpha", "hidden.threshold", "readout.beta"} <= names
    assert "readout.threshold" not in names
    import numpy as np
    from snncc.lower import neuron_parameters
    params = neuron_parameters(ir)
    assert params["beta.hidden"].dtype == np.float32 and params["beta.hidden"].shape == (ir.population("hidden").size,)
    assert set(params) == {f"{t.name.split('.')[1]}.{t.owner}" for t in prog.tensors if t.init}


def test_codelet_classes_are_per_feature_combination_not_per_population():
    _, prog = _program("shd_deep_16ipu")
    model = [v for v in prog.vertex_types if v.codelet == "model.cpp"]
    # ListSlot, Forward, Compact, Backward and WeightGrad twice each, ReduceSum, Reduce and Loss
    assert len(prog.neuron_populations) > 100 and len(model) <= 13


def test_unsupported_is_one_line(tmp_path):
    import json
    spec = json.loads((ROOT / "examples/digits.json").read_text())
    spec["projections"][0]["connectivity"] = {"kind": "sparse", "fan_in": 8}
    del spec["$schema"]
    (tmp_path / "s.json").write_text(json.dumps(spec))
    ir = spec_to_ir(load_spec(tmp_path / "s.json"))
    with pytest.raises(LoweringError, match="sparse connectivity") as err:
        lower(ir, make_plan(ir))
    assert "\n" not in str(err.value)
