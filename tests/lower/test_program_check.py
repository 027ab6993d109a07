"""Between the stages: check_plan and check_program find nothing on every example (both target
shapes) and on random specs, and each planted bad index is reported with its element and index."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings

from codegen_helpers import ROOT
from random_specs import small_specs, spec_file
from snncc.driver import LAYOUTS, compile_model
from snncc.lower.check import check_program
from snncc.partition.check import check_plan


EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def check_stages(path, layout: str) -> None:
    compiled = compile_model(path, layout, 2)
    problems = check_plan(compiled.ir, compiled.plan)
    assert not problems, "\n".join(problems)
    problems = check_program(compiled.program, compiled.plan)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_passes_the_verifiers(path, layout):
    check_stages(path, layout)


@settings(max_examples=20, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_specs())
def test_random_specs_pass_the_verifiers(case):
    spec, _ = case
    with spec_file(spec) as path:
        for layout in LAYOUTS:
            check_stages(path, layout)


# --------------------------------------------------------------------------- planted faults


@pytest.fixture(scope="module")
def digits():
    compiled = compile_model(ROOT / "examples/digits.json", "ipu")
    assert check_program(compiled.program, compiled.plan) == []
    return compiled.program, compiled.plan


def _element(prog, eid: str):
    return next(e for e in prog.elements if e.id == eid)


def _with_element(prog, eid: str, **change):
    return dataclasses.replace(prog, elements=tuple(
        dataclasses.replace(e, **change) if e.id == eid else e for e in prog.elements))


def _with_tensor(prog, eid: str, what: str, **change):
    e = _element(prog, eid)
    tensors = tuple(dataclasses.replace(t, **change) if t.name.split(".")[-1] == what else t for t in e.tensors)
    return _with_element(prog, eid, tensors=tensors)


def _with_field(prog, family: str, field: str, **change):
    """The program with one field of the patterns of a vertex family's types changed."""
    names = {v.name for v in prog.vertex_types if v.decl.family == family}
    used = {g.pattern for e in prog.elements for g in e.groups if g.vertex in names}
    patterns = tuple(dataclasses.replace(p, fields=tuple(dataclasses.replace(f, **change) if f.name == field else f
                                                         for f in p.fields)) if k in used else p
                     for k, p in enumerate(prog.patterns))
    return dataclasses.replace(prog, patterns=patterns)


def _reported(problems, *words) -> bool:
    return any(all(w in m for w in words) for m in problems)


def _tiles(prog, eid, **change):
    return dataclasses.replace(_element(prog, eid).tiles, **change)


def _faults(prog):
    """(name, the faulty program, words one message must hold)."""
    hidden = _element(prog, "hidden")
    groups = hidden.groups
    return [
        ("tensor rows", _with_tensor(prog, "hidden", "ringIds", rows=257), ("'hidden'", "'ringIds'", "257 rows")),
        ("tensor rows of a weight", _with_tensor(prog, "hidden_to_output", "w", rows=255),
         ("'hidden_to_output'", "'w'", "255 rows")),
        ("tensor layout", _with_tensor(prog, "hidden_to_output", "partials", layout="single"),
         ("'hidden_to_output'", "'partials'")),
        ("tensor owner", _with_tensor(prog, "hidden_to_output", "w", owner="hidden"),
         ("'hidden_to_output'", "'w'", "owned by 'hidden'")),
        ("field slice", _with_field(prog, "Forward", "ids0", slice="tile"), ("'hidden'", "'ids0'", "'ringIds'")),
        ("field tensor", _with_field(prog, "Backward", "dS", what="dZ"), ("'hidden'", "'dS'", "'dZ'")),
        ("field index", _with_field(prog, "Forward", "w0", index=1), ("'hidden'", "'w0'", "incoming index 1")),
        ("field role", _with_field(prog, "WeightGrad", "dI", role="in"), ("'hidden_to_output'", "'dI'")),
        ("field value", _with_field(prog, "Compact", "C", what="C9"), ("'hidden'", "'C'", "'C9'")),
        ("tile range beyond the target", _with_element(prog, "output", tiles=_tiles(prog, "output", first_tile=5000)),
         ("'output'", "5000")),
        ("tile range not the plan's", _with_element(prog, "output", tiles=_tiles(prog, "output", first_tile=330)),
         ("'output'", "first_tile=330", "plan")),
        ("neurons per tile", _with_element(prog, "hidden", tiles=_tiles(prog, "hidden", neurons_per_tile=2)),
         ("'hidden'", "neurons_per_tile 2")),
        ("list offset", _with_element(prog, "output", tiles=_tiles(prog, "output", list_offset=10)),
         ("'output'", "list_offset 10")),
        ("constant", _with_element(prog, "hidden", values=tuple((k, 255 if k == "C" else v) for k, v in hidden.values)),
         ("'hidden'", "'C' = 255", "256")),
        ("delay constant", _with_element(prog, "hidden_to_output", values=tuple(
            (k, 1 if k == "delay" else v) for k, v in _element(prog, "hidden_to_output").values)),
         ("'hidden_to_output'", "'delay' = 1")),
        ("incoming index", _with_element(prog, "hidden", incoming=(9,)), ("'hidden'", "incoming 0 index 9")),
        ("source index", _with_element(prog, "hidden_to_output", source=0), ("'hidden_to_output'", "source index 0")),
        ("compute set index", _with_element(prog, "hidden", groups=(dataclasses.replace(groups[0], compute_set=99),)
                                             + groups[1:]), ("'hidden'", "compute set index 99")),
        ("vertex type", _with_element(prog, "hidden", groups=(dataclasses.replace(groups[0], vertex="nope"),)
                                      + groups[1:]), ("'hidden'", "'nope'", "no such vertex type")),
        ("pattern index", _with_element(prog, "hidden", groups=(dataclasses.replace(groups[0], pattern=999),)
                                        + groups[1:]), ("'hidden'", "pattern index 999")),
        ("pattern of another type", _with_element(prog, "hidden", groups=(dataclasses.replace(
            groups[0], pattern=groups[-1].pattern),) + groups[1:]), ("'hidden'", f"pattern {groups[-1].pattern}")),
        ("step member", dataclasses.replace(prog, loss_step=dataclasses.replace(prog.loss_step, members=("hidden",))),
         ("'loss'", "'hidden'", "no Loss vertex")),
        ("step name", dataclasses.replace(prog, update=dataclasses.replace(prog.update, name="updates")),
         ("'updates'", "no such compute set")),
        ("tensor list", dataclasses.replace(prog, tensors=prog.tensors[1:]), (f"'{prog.tensors[0].name}'",)),
    ]


FAULT_NAMES = (
    "tensor rows",
    "tensor rows of a weight",
    "tensor layout",
    "tensor owner",
    "field slice",
    "field tensor",
    "field index",
    "field role",
    "field value",
    "tile range beyond the target",
    "tile range not the plan's",
    "neurons per tile",
    "list offset",
    "constant",
    "delay constant",
    "incoming index",
    "source index",
    "compute set index",
    "vertex type",
    "pattern index",
    "pattern of another type",
    "step member",
    "step name",
    "tensor list",
)


def test_the_fault_list_is_complete(digits):
    assert tuple(name for name, _, _ in _faults(digits[0])) == FAULT_NAMES


@pytest.mark.parametrize("fault", FAULT_NAMES)
def test_a_planted_fault_is_reported(digits, fault):
    prog, plan = digits
    _, bad, words = next(f for f in _faults(prog) if f[0] == fault)
    problems = check_program(bad, plan)
    assert _reported(problems, *words), problems


def test_a_plan_the_program_does_not_follow_is_reported(digits):
    prog, plan = digits
    moved = dataclasses.replace(plan, placements=tuple(
        dataclasses.replace(p, num_tiles=9) if p.population == "output" else p for p in plan.placements))
    assert _reported(check_program(prog, moved), "'output'", "num_tiles=9", "plan")
