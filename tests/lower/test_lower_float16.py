"""Mixed precision in the lowering (docs/training.md, "float16"): which tensors are half,
which stay float, what the vertices connect to, and the plan's bytes, hand-computed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from snncc.ir import spec_to_ir
from snncc.lower import check_program, lower
from snncc.partition import make_plan
from snncc.partition.memory import population_memory
from snncc.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]


def _ir(tmp_path, name: str, precision: str):
    spec = json.loads((ROOT / "examples" / f"{name}.json").read_text())
    spec["training"]["precision"] = precision
    del spec["$schema"]
    path = tmp_path / f"{name}_{precision}.json"
    path.write_text(json.dumps(spec))
    return spec_to_ir(load_spec(path))


@pytest.fixture(scope="module")
def cuba16(tmp_path_factory):
    ir = _ir(tmp_path_factory.mktemp("cuba16"), "cuba", "float16")
    plan = make_plan(ir)
    return ir, plan, lower(ir, plan)


def test_state_and_weight_copies_are_half_sums_gradients_and_masters_float(cuba16):
    ir, plan, prog = cuba16
    dtypes = {t.name: t.dtype for t in prog.tensors}
    assert prog.state == "half"
    for pop in prog.neuron_populations:
        assert dtypes[f"{pop.id}.mem"] == "half"
        assert dtypes[f"{pop.id}.current"] == "float"  # the input sums of a timestep
        for what in ("dS", "carryU", "dI", "beta", "threshold"):
            assert dtypes.get(f"{pop.id}.{what}", "float") == "float", what
        if pop.model == "cuba_lif":
            assert dtypes[f"{pop.id}.syn"] == "half" and dtypes[f"{pop.id}.carrySyn"] == "float"
    for pr in prog.projections:
        assert dtypes[f"{pr.id}.w"] == "float" and dtypes[f"{pr.id}.wh"] == "half"
        for what in ("dw", "m", "v"):
            assert dtypes[f"{pr.id}.{what}"] == "float"
        if pr.bias:
            assert dtypes[f"{pr.id}.b"] == "float" and dtypes[f"{pr.id}.bh"] == "half"
    assert check_program(prog, plan) == []


def test_the_network_reads_the_half_copies_and_the_optimizer_writes_them(cuba16):
    _, _, prog = cuba16
    forward = [v for v in prog.vertex_types if v.decl.family == "Forward"]
    assert forward and all(v.name.endswith("<half>") for v in forward)
    for v in forward:
        weights = [f for f in v.fields if f.name.startswith("w")]
        assert weights and all(f.what == "wh" and f.elem == "T" for f in weights)
    for v in prog.vertex_types:
        if v.decl.family == "WeightGrad":
            assert all(f.what == "wh" for f in v.fields if f.name == "w")
            assert {f.elem for f in v.fields if f.name in ("dw", "dI", "partials")} <= {"float"}
    update = [g for e in prog.elements for g in e.groups if prog.compute_sets[g.compute_set] == "update"]
    assert update and all(g.vertex == "snncc::AdamUpdateHalf<float>" for g in update)
    copies = {f.what for g in update for f in prog.patterns[g.pattern].fields if f.name == "copy"}
    assert copies == {"wh", "bh"} & {t.name.split(".")[-1] for t in prog.tensors}


def test_check_refuses_an_edge_to_a_tensor_of_another_type(cuba16):
    """Poplar refuses to connect a half tensor to a float field: so does check_program."""
    _, plan, prog = cuba16
    pop = prog.neuron_populations[0]

    def as_float(t):
        return dataclasses.replace(t, dtype="float") if t.name == f"{pop.id}.mem" else t

    elements = tuple(dataclasses.replace(e, tensors=tuple(as_float(t) for t in e.tensors)) for e in prog.elements)
    bad = dataclasses.replace(prog, elements=elements, tensors=tuple(as_float(t) for t in prog.tensors))
    problems = check_program(bad, plan)
    assert any("field 'mem' holds half, tensor 'mem' is float" in p for p in problems), problems


def test_float16_plan_bytes_by_hand(tmp_path):
    """digits' hidden population, a slice of n neurons: float16 stores the membrane history in
    2 bytes instead of 4, adds the float input sums (B values) and the half copies of the
    incoming weights and bias (n_in + 1 values), and one 4-byte field to the tile's Forward
    vertex (the sums) and to its two update vertices (the copies); everything else is unchanged."""
    ir32, ir16 = _ir(tmp_path, "digits", "float32"), _ir(tmp_path, "digits", "float16")
    pop = next(p for p in ir32.populations if p.id == "hidden")
    m32 = population_memory(ir32, pop)
    m16 = population_memory(ir16, next(p for p in ir16.populations if p.id == "hidden"))
    T, B, n_in = ir32.settings.timesteps, ir32.settings.batch_size, 64
    assert next(iter(ir32.incoming("hidden"))).source == "pixels" and ir32.population("pixels").size == n_in
    for n in (1, 10, 32):
        diff = int(m32.slice_bytes(np.array([n])).sum() - m16.slice_bytes(np.array([n])).sum())
        want = (T + 1) * B * 2 * n - B * 4 * n - (n_in + 1) * 2 * n - 3 * 4
        assert diff == want, (n, diff, want)
