"""Codelet classes: every member of a class renders the same code, and classes with
different records render different code (snncc.lower.classes, templates/codelets/)."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from snncc.codegen.render import environment, render
from snncc.ir import spec_to_ir
from snncc.lower import classes, lower
from snncc.partition import make_plan
from snncc.partition.target import host_ir
from snncc.spec import load_spec

from codegen_helpers import ROOT
from random_specs import small_specs, spec_file


EXAMPLES = sorted((ROOT / "examples").glob("*.json"))

#: family -> (template, macro); Backward also takes the program's Scores
MACROS = {"Forward": ("forward", "forward"), "Compact": ("compact", "compact"),
          "ListSlot": ("list_slot", "list_slot"), "Backward": ("backward", "backward"),
          "WeightGrad": ("weight_grad", "weight_grad"), "ReduceSum": ("reduce", "reduce_sum"),
          "Reduce": ("reduce", "reduce")}


def _program(path: Path, layout: str):
    ir = spec_to_ir(load_spec(path))
    if layout == "cpu":
        ir = host_ir(ir, 2)
    plan = make_plan(ir)
    return lower(ir, plan), plan


def _codelet(env, prog, record, fields) -> str:
    name, macro = MACROS[record.family]
    fn = getattr(env.get_template(f"codelets/{name}.cpp.j2").module, macro)
    args = (record, classes.scores(prog), fields) if record.family == "Backward" else (record, fields)
    return str(fn(*args, prog.state))


def check_classes(prog, plan) -> None:
    env = environment()
    vts = {v.name: v for v in prog.vertex_types}
    texts: dict[str, set[str]] = {}
    records: dict[str, object] = {}
    for member, name, record in classes.member_records(prog):
        vt = vts[name]
        assert record.key == vt.cls, (member, record)
        records.setdefault(vt.cls, record)
        texts.setdefault(vt.cls, set()).add(_codelet(env, prog, record, vt.fields))
    for cls, seen in texts.items():
        assert len(seen) == 1, f"the members of {cls} render {len(seen)} different codelets"
    code = {cls: next(iter(seen)) for cls, seen in texts.items()}
    for a, b in itertools.combinations(sorted(code), 2):
        assert records[a] != records[b], (a, b)
        assert code[a] != code[b], f"{a} and {b} have different records and the same code"
    model_cpp = render(prog, plan)["codelets/model.cpp"].decode()
    for cls, text in code.items():  # what the assembled file holds, once per class
        assert model_cpp.count(text) == 1, cls
    assert [c.cls for c in classes.codelets(prog)] == sorted(code)


@pytest.mark.parametrize("layout", ["ipu", "cpu"])
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_members_of_a_class_render_the_same_codelet(path, layout):
    check_classes(*_program(path, layout))


@settings(max_examples=20, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_specs())
def test_random_specs_members_of_a_class_render_the_same_codelet(case):
    spec, _ = case
    with spec_file(spec) as path:
        for layout in ("ipu", "cpu"):
            check_classes(*_program(path, layout))


def test_a_class_not_named_by_its_record_is_refused():
    prog, _ = _program(ROOT / "examples/digits.json", "ipu")
    vts = tuple(dataclasses.replace(v, cls="Compact_g") if v.cls == "Compact" else v for v in prog.vertex_types)
    with pytest.raises(ValueError, match="has the record of Compact"):
        classes.codelets(dataclasses.replace(prog, vertex_types=vts))


def test_two_records_under_one_name_are_refused(monkeypatch):
    prog, _ = _program(ROOT / "examples/shd_deep_16ipu.json", "ipu")
    members = classes.member_records(prog)
    forward = [m for m in members if m[2].family == "Forward"]
    assert len({name for _, name, _ in forward}) < len(forward)  # a class with several members
    real = classes.member_records

    def one_differs(p):
        out = list(real(p))
        k = next(i for i, m in enumerate(out) if m[2].family == "Forward")
        out[k] = (out[k][0], out[k][1], dataclasses.replace(out[k][2], spikes=not out[k][2].spikes))
        return tuple(out)

    monkeypatch.setattr(classes, "member_records", one_differs)
    with pytest.raises(ValueError, match="another member"):
        classes.codelets(prog)


def _records():
    """Every record the lowering can make (Forward with up to two incoming projections):
    li never spikes and has no reset; every other model spikes."""
    models = [("li", False, "none")] + [(m, True, r) for m in ("lif", "cuba_lif", "if")
                                        for r in ("subtract", "zero", "zero_updated", "none")]
    flags = (False, True)
    inputs = [()] + [(classes.ForwardInput(b, d),) for b in flags for d in flags]
    inputs += [a + b for a in inputs[1:] for b in inputs[1:]]
    out = [classes.ForwardClass(m, r, s, g and s, i) for m, s, r in models for g in flags for i in inputs]
    out += [classes.BackwardClass(m, r, s, g and s, ro) for m, s, r in models for g in flags for ro in flags]
    out += [classes.CompactClass(g) for g in flags] + [classes.ListSlotClass(lag) for lag in flags]
    out += [classes.WeightGradClass(b, x, x and g, d) for b in flags for x in flags for g in flags for d in flags]
    out += [classes.ReduceClass(g, d) for g in flags for d in flags] + [classes.ReduceSumClass()]
    return list(dict.fromkeys(out))


def test_class_names_tell_every_record_apart():
    names: dict[str, object] = {}
    for record in _records():
        other = names.setdefault(record.key, record)
        assert other == record, f"{record.key} names both {other} and {record}"
