"""Property tests: random models that fit comfortably always plan, and the plan keeps its invariants."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from partition_helpers import brute_force_tile_bytes, static_bytes, document, ir_of, profile
from snncc.partition import PlanError, make_plan, model_bytes
from test_plan import check_invariants


@st.composite
def models(draw):
    n_hidden = draw(st.integers(1, 4))
    sizes = [draw(st.integers(1, 120))] + [draw(st.integers(2, 150)) for _ in range(n_hidden)]
    sizes.append(draw(st.integers(2, 10)))
    ids = ["inp"] + [f"h{i}" for i in range(1, n_hidden + 1)] + ["out"]

    def sparsity(size):
        s = {}
        choice = draw(st.sampled_from(["none", "activity", "spikes"]))
        if choice == "activity":
            s["max_activity"] = draw(st.floats(0.01, 1.0))
        elif choice == "spikes":
            s["max_spikes"] = draw(st.integers(1, size))
        return s

    def neuron():
        model = draw(st.sampled_from(["lif", "if", "cuba_lif"]))
        n = {"model": model}
        if model != "if":
            n["beta"] = 0.9
        if model == "cuba_lif":
            n["alpha"] = 0.8
        return n

    pops = [{"kind": "input", "id": "inp", "size": sizes[0], "sparsity": sparsity(sizes[0])}]
    for pid, size in zip(ids[1:], sizes[1:]):
        pop = {"kind": "neuron", "id": pid, "size": size, "neuron": neuron(), "sparsity": sparsity(size)}
        if draw(st.booleans()):
            pop["sparsity"]["gradient_threshold"] = 0.9
        pops.append(pop)
    projs = []
    for i in range(1, len(ids)):
        proj = {"id": f"p{i}", "source": ids[i - 1], "target": ids[i], "delay": draw(st.integers(0, 1)),
                "bias": draw(st.booleans())}
        if draw(st.booleans()):
            if draw(st.booleans()):
                proj["connectivity"] = {"kind": "sparse", "fan_in": draw(st.integers(1, sizes[i - 1]))}
            else:
                proj["connectivity"] = {"kind": "sparse", "probability": draw(st.floats(0.05, 1.0))}
        projs.append(proj)
    if draw(st.booleans()):  # a recurrent hidden layer
        h = draw(st.sampled_from(ids[1:-1]))
        projs.append({"id": "rec", "source": h, "target": h, "delay": 1})
    if n_hidden > 1 and draw(st.booleans()):  # a skip connection
        projs.append({"id": "skip", "source": "inp", "target": ids[-2]})
    target = {"tiles_per_ipu": draw(st.integers(2, 64)), "num_ipus": draw(st.integers(1, 3)),
              # small tiles too, so that memory, not only compute, decides the layout
              "bytes_per_tile": draw(st.sampled_from([638976, 131072, 65536]))}
    optimizer = draw(st.sampled_from([{"kind": "adam"}, {"kind": "sgd"}, {"kind": "sgd", "momentum": 0.9}]))
    doc = document(pops, projs, "out", timesteps=draw(st.integers(2, 8)), batch=draw(st.integers(1, 8)),
                   optimizer=optimizer, target=target)
    if draw(st.booleans()):
        doc["training"]["precision"] = "float16"
    return doc


@settings(parent=profile())
@given(models())
def test_random_models_that_fit_plan_with_invariants(doc):
    ir = ir_of(doc)
    t = ir.settings.target
    capacity = t.num_ipus * t.tiles_per_ipu * t.bytes_per_tile
    try:
        plan = make_plan(ir)
    except PlanError as exc:
        assert "\n" not in str(exc) and "to fit:" in str(exc) and "population '" in str(exc)
        # a model far below the target's capacity must plan, unless tiles are so small (64 KiB) that
        # buffers every tile of a population holds (dense id lists, reduction buffers, code) fill one
        if t.bytes_per_tile > 65536:
            assert model_bytes(ir) > capacity / 4, f"refused a model of {model_bytes(ir)} B for {capacity} B: {exc}"
        return
    check_invariants(ir, plan)
    assert np.array_equal(static_bytes(plan.tile_memory.bytes), static_bytes(brute_force_tile_bytes(ir, plan)))
    assert make_plan(ir).to_json() == plan.to_json()
    assert plan.cost.step_cycles > 0
