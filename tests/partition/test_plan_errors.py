"""A model the planner cannot place, or a target it cannot time, gives a reason, never an
exception of its own: advice for every memory category, a located refusal of a clock that is
no tile's, and a plan.json that is strict JSON."""

from __future__ import annotations

import json

import pytest

from partition_helpers import example_ir
from snncc.ir import spec_to_ir
from snncc.partition import CATEGORIES, PlanError, make_plan
from snncc.partition import PER_TILE_ADVICE
from snncc.partition.report import text
from snncc.partition.target import with_target
from snncc.spec import parse_spec
from snncc.spec.errors import SpecError


def test_every_category_has_advice():
    assert sorted(PER_TILE_ADVICE) == sorted(CATEGORIES)


def fan_in_model(fan_in: int, bytes_per_tile: int) -> dict:
    """`fan_in` one-neuron populations, each fed by the input, all projecting into `out`:
    per neuron of `out`, exchange code (64 bytes per transfer, 5 per projection from a neuron
    population) outgrows every other category."""
    hidden = [f"h{i}" for i in range(fan_in)]
    return {
        "name": "t", "timesteps": 1,
        "populations": [{"kind": "input", "id": "inp", "size": 1}]
        + [{"kind": "neuron", "id": h, "size": 1, "neuron": {"model": "lif", "beta": 0.9}} for h in hidden]
        + [{"kind": "neuron", "id": "out", "size": 2, "neuron": {"model": "lif", "beta": 0.9}}],
        "projections": [{"id": f"a_{h}", "source": "inp", "target": h, "bias": False} for h in hidden]
        + [{"id": f"b_{h}", "source": h, "target": "out", "bias": False} for h in hidden],
        "readout": {"population": "out", "decoding": "spike_count"},
        "training": {"batch_size": 1, "epochs": 1, "optimizer": {"kind": "sgd"}},
        "data": {"kind": "synthetic", "num_classes": 2, "num_samples": 10},
        "target": {"bytes_per_tile": bytes_per_tile},
    }


def test_a_population_whose_largest_share_is_code_gets_advice():
    # 40 inputs into `out`: per neuron 12,800 bytes of exchange code, 3,748 of vertex state;
    # a tile of 16 KiB cannot hold one neuron of `out` with its vertex code and reserve
    ir = spec_to_ir(parse_spec(json.dumps(fan_in_model(40, 16384))))
    with pytest.raises(PlanError) as err:
        make_plan(ir)
    message = str(err.value)
    assert message.startswith("the model does not fit: population ")
    assert "more IPUs would not help" in message and "\n" not in message


def test_code_advice_when_code_leads():
    from snncc.partition import _per_tile_fixes
    from snncc.partition.memory import population_memory

    ir = spec_to_ir(parse_spec(json.dumps(fan_in_model(40, 16384))))
    fixes = _per_tile_fixes(population_memory(ir, ir.population("out")), 16384)
    assert fixes.startswith(PER_TILE_ADVICE["code"]), fixes
    assert "code 12800" in fixes


@pytest.mark.parametrize("clock", [1e-300, 1.0, 999_999.0, 1.01e11, 1e300])
def test_a_clock_that_is_no_tiles_is_refused_where_it_is_written(clock):
    doc = json.loads(json.dumps(fan_in_model(1, 638976)))
    doc["target"]["clock_hz"] = clock
    text_ = json.dumps(doc, indent=1)
    with pytest.raises(SpecError) as err:
        parse_spec(text_, "m.json")
    (problem,) = err.value.problems
    line = text_[: text_.index('"clock_hz"')].count("\n") + 1
    assert (problem.line, problem.pointer) == (line, "/target/clock_hz")
    assert "is not a tile clock" in problem.message


@pytest.mark.parametrize("clock", [1e6, 1.33e9, 1e11])
def test_clocks_in_range_plan(clock):
    doc = fan_in_model(1, 638976)
    doc["target"]["clock_hz"] = clock
    plan = make_plan(spec_to_ir(parse_spec(json.dumps(doc))))
    assert plan.cost.samples_per_second > 0
    json.loads(plan.to_json(), parse_constant=lambda c: pytest.fail(f"plan.json holds {c}"))


def test_report_and_json_of_a_clock_past_the_checks():
    # a target set in code, past the spec's checks, so slow that a step takes forever: the
    # report still prints (no division by the zero samples/s); plan.json refuses to hold the
    # infinite step time rather than write "Infinity"
    ir = example_ir("digits")
    ir = with_target(ir, ir.settings.target.model_copy(update={"clock_hz": 5e-324}))
    plan = make_plan(ir)
    assert plan.cost.step_seconds == float("inf") and plan.cost.samples_per_second == 0.0
    assert text(plan).rstrip().endswith("speed-up unknown")
    with pytest.raises(ValueError):
        plan.to_json()
