"""Planning stays near-linear in the populations: a long chain validates and plans in
bounded time, with the same plan as before (the examples' plans are pinned elsewhere), and
the memoised declarations equal freshly built ones."""

from __future__ import annotations

import json
import time

import pytest

from partition_helpers import example_ir
from snncc.ir import spec_to_ir
from snncc import vertices as A
from snncc.partition import make_plan
from snncc.partition.memory import population_memory
from snncc.spec import parse_spec

#: a chain this long took 9 s to validate and plan with the quadratic steps (reachability per
#: population over all projections, a projection lookup per projection, every cyclic collection
#: walking the whole IR); about 7 s of this process's CPU time now (so that other processes on a
#: loaded machine do not count), most of it the cost model's walk over 4 compute sets per
#: population and timestep twice (the plan and its pipelined variant)
CHAIN = 3000
SECONDS = 15.0
#: near-linear: three times the populations take at most this many times the CPU time (a
#: quadratic step would take 9 times)
RATIO = 4.5


def chain(n: int) -> dict:
    """input -> p1 -> ... -> p{n-1}, four neurons each, the readout on the last."""
    pops = [{"kind": "input", "id": "inp", "size": 4}]
    pops += [{"kind": "neuron", "id": f"p{i}", "size": 4, "neuron": {"model": "lif", "beta": 0.9}} for i in range(1, n)]
    projs = [{"id": f"e{i}", "source": "inp" if i == 1 else f"p{i - 1}", "target": f"p{i}"} for i in range(1, n)]
    return {"name": "chain", "timesteps": 2, "populations": pops, "projections": projs,
            "readout": {"population": f"p{n - 1}", "decoding": "spike_count"},
            "training": {"batch_size": 1, "epochs": 1},
            "data": {"kind": "synthetic", "num_classes": 4, "num_samples": 20}}


def _plan_seconds(n: int):
    text = json.dumps(chain(n), indent=1)
    start = time.process_time()
    ir = spec_to_ir(parse_spec(text))
    plan = make_plan(ir)
    return time.process_time() - start, plan


def test_a_long_chain_validates_and_plans_in_bounded_time():
    third, _ = _plan_seconds(CHAIN // 3)
    seconds, plan = _plan_seconds(CHAIN)
    assert seconds < SECONDS, f"{CHAIN} populations took {seconds:.1f} s"
    assert seconds < RATIO * third, f"{CHAIN} populations took {seconds:.1f} s, {CHAIN // 3} took {third:.1f} s"
    # a zero-delay chain: one stage per layer, each layer spread over its own tiles
    assert [p.population for p in plan.placements] == ["inp"] + [f"p{i}" for i in range(1, CHAIN)]
    assert [p.stage for p in plan.placements] == [-1] + list(range(CHAIN - 1))
    assert plan.cost.supersteps > 4 * CHAIN
    # pipelined, every layer runs in one stage
    assert plan.pipelined is not None and plan.pipelined.supersteps < plan.cost.supersteps
    assert plan.tile_memory.totals.max() <= plan.bytes_per_tile


@pytest.mark.parametrize("name", ["digits", "recurrent", "cuba", "pipelined"])
def test_memoised_declarations_equal_fresh_ones(name):
    ir = example_ir(name)
    for pop in ir.populations:
        pm = population_memory(ir, pop)
        view, incoming = pm.facts, pm.projections
        assert pm.tensors == A.population_tensors.__wrapped__(view, pm.timesteps, pm.batch)
        assert pm.compact_decl == A.compact_vertex.__wrapped__(view)
        if pop.kind == "neuron":
            assert pm.forward_decl == A.forward_vertex.__wrapped__(view, incoming)
            assert pm.backward_decl == A.backward_vertex.__wrapped__(view, pm.readout[0] if pm.readout else "")
        for pr, tensors, weightgrad, optimizer in zip(incoming, pm.projection_tensors, pm.weightgrad_decls,
                                                      pm.optimizer_decls):
            assert tensors == A.projection_tensors.__wrapped__(pr, pm.batch, pm.state_copies)
            assert weightgrad == A.weightgrad_vertex.__wrapped__(pr)
            assert optimizer == A.optimizer_vertices.__wrapped__(pr.bias, pm.optimizer_family, pm.state_copies)


def test_memo_tells_apart_what_the_builders_read():
    ir = example_ir("digits")
    pm = population_memory(ir, ir.population("output"))
    view, (pr,) = pm.facts, pm.projections
    # one incoming projection or two, with or without bias: different Forward fields
    one = A.forward_vertex(view, [pr])
    two = A.forward_vertex(view, [pr, pr])
    assert len(two.fields) > len(one.fields)
    unbiased = A.forward_vertex(view, (type(pr)(**{**pr.__dict__, "bias": False}),))
    assert len(unbiased.fields) < len(one.fields)
    # ids are not read: a renamed population gets the same (shared) declaration
    renamed = type(view)(**{**view.__dict__, "id": "renamed"})
    assert A.compact_vertex(renamed) is A.compact_vertex(view)
