"""The per-tile memory model against hand-computed byte counts, and the allocation hook."""

from __future__ import annotations

import numpy as np
import pytest

from partition_helpers import document, ir_of
from snncc.partition import check_allocation, make_plan
from snncc.partition.memory import CATEGORIES, MEASURED_CATEGORIES, population_memory

INPUT = {"kind": "input", "id": "inp", "size": 10, "sparsity": {"max_spikes": 3}}
HIDDEN = {"kind": "neuron", "id": "hid", "size": 8, "neuron": {"model": "lif", "beta": 0.9},
          "sparsity": {"max_spikes": 2}}
OUTPUT = {"kind": "neuron", "id": "out", "size": 2, "neuron": {"model": "lif", "beta": 0.9}}


def small(connectivity=None, optimizer=None):
    p1 = {"id": "p1", "source": "inp", "target": "hid"}
    if connectivity:
        p1["connectivity"] = connectivity
    return ir_of(document([INPUT, HIDDEN, OUTPUT], [p1, {"id": "p2", "source": "hid", "target": "out"}], "out",
                          timesteps=5, batch=2, optimizer=optimizer))


def by_category(row):
    return dict(zip(CATEGORIES, (int(v) for v in row)))


def test_dense_slice_bytes_by_hand():
    ir = small()
    pm = population_memory(ir, ir.population("hid"))
    # slice of 4 neurons; batch 2, 5 timesteps, float32, Adam, input capacity 3, own capacity 2
    got = by_category(pm.slice_bytes(np.array([4]))[0])
    # what the lowering allocates (snncc/vertices/decls.py), counted by hand:
    assert got == {
        "weights": 10 * 4 * 4 + 4 * 4,  # 10 x 4 weights + 4 biases
        "gradients": (40 + 4) * 4 + 3 * 2 * 4 * 4,  # accumulators + dS ring (1 slot), carried dL/dU, dL/dI
        "optimizer": 2 * 44 * 4,  # Adam's two moments
        "state": 2 * 4 * 4,  # per-neuron beta and threshold
        "history": 6 * 2 * 4 * 4,  # membranes of T + 1 rows (row 0: the initial state) x batch
        "spike_lists": 2 * 4 * 4,  # code: the current timestep's spike codes (what Compact reads)
        "reduction": 0,  # the input gets no gradient; hid's partials live on out's tiles
        # field states (4 B each, the optimizer's SPAN w 8 B): Forward 8 + beta, threshold, C0, delay0,
        # slots0; Backward 7 + beta, threshold, slots; WeightGrad 7 + C, nin, delay, slots;
        # Adam for weights and for biases 2 x (8 + 4 x 4), Reduce of p2 (dense) t, sums, dS, n, lo, G,
        # delay, slots
        "vertices": 13 * 4 + 10 * 4 + 11 * 4 + 2 * 24 + 8 * 4,
        "receive": 0,  # filled in by the plan after placement (it depends on where the data lives)
        "code": 2 * 64,  # exchange code of 2 transfers (an estimate, not measured by the runtime)
    }


def test_list_tile_bytes_by_hand():
    ir = small()
    pm = population_memory(ir, ir.population("hid"))
    got = by_category(pm.list_tile_bytes(np.array([2]))[0])
    assert got["history"] == 5 * 2 * (2 * 4 + 8 + 4)  # 2 samples' lists, counts, overflow for 5 timesteps
    assert got["spike_lists"] == 2 * 1 * (2 * 4 + 8)  # the ring of 1 slot: 2 samples' lists and counts
    # the Compact vertex's fields (t, 6 edges, nb, C, tiles, q, r, slots) and the backward ListSlot's
    # (t, 4 edges, nb, C, slots, lag)
    assert got["vertices"] == 13 * 4 + 9 * 4
    inp = population_memory(ir, ir.population("inp"))
    got = by_category(inp.list_tile_bytes(np.array([1]))[0])
    assert got["history"] == 5 * (3 * 4 + 8 + 4)  # streamed in, no compaction
    assert got["spike_lists"] == 1 * 1 * (3 * 4 + 8)
    assert got["vertices"] == 8 * 4 + 9 * 4  # the forward and backward ListSlot vertices


def test_output_reduction_and_sgd_by_hand():
    ir = small(optimizer={"kind": "sgd", "lr": 0.1})
    pm = population_memory(ir, ir.population("out"))
    got = by_category(pm.slice_bytes(np.array([1]))[0])
    assert got["optimizer"] == 0  # plain SGD keeps no state
    # partials [batch][hid's 8 neurons] (hid has a dense backward), and a chunk of their sums over out's
    # tiles: 16 entries over the 2 tiles of a 1-neuron slice of out's 2 neurons
    assert got["reduction"] == 2 * 8 * 4 + 8 * 4
    assert got["weights"] == (8 + 1) * 4


def test_sparse_fan_in_stores_values_indices_and_row_offsets():
    ir = small(connectivity={"kind": "sparse", "fan_in": 3})
    pm = population_memory(ir, ir.population("hid"))
    got = by_category(pm.slice_bytes(np.array([4]))[0])
    assert got["weights"] == 3 * 4 * (4 + 4) + (10 + 1) * 4 + 4 * 4  # values+indices, CSR offsets, biases
    assert got["gradients"] == (12 + 4) * 4 + 3 * 2 * 4 * 4


def test_sparse_probability_bound_covers_the_expectation():
    ir = small(connectivity={"kind": "sparse", "probability": 0.3})
    inc = population_memory(ir, ir.population("hid")).incoming[0]
    n = np.array([1, 4, 8])
    stored = inc.stored(n)
    assert np.all(stored >= 0.3 * 10 * n) and np.all(stored <= 10 * n)


def test_allocation_hook_reports_relative_error():
    plan = make_plan(small())
    totals = plan.tile_memory.bytes[:, [CATEGORIES.index(c) for c in MEASURED_CATEGORIES]].sum(axis=1)
    measured = {t: int(totals[t]) for t in plan.tile_memory.used_tiles()}
    check = check_allocation(plan, measured)
    assert check.ok and check.max_relative_error == 0.0
    worst = plan.tile_memory.used_tiles()[0]
    measured[worst] = int(totals[worst] * 1.1)
    check = check_allocation(plan, measured)
    assert not check.ok and check.worst_tile == worst
    assert check.max_relative_error == pytest.approx(abs(totals[worst] - measured[worst]) / measured[worst])
    assert "tolerance 5%" in check.describe()
    # a tile the program uses but the plan does not is an error too
    assert not check_allocation(plan, {**measured, worst: int(totals[worst]), 10**4: 100}).ok


def test_allocation_hook_by_category():
    plan = make_plan(small())
    cats = ("weights", "gradients", "optimizer")
    measured = {t: int(plan.tile_memory.bytes[t, :3].sum()) for t in plan.tile_memory.used_tiles()}
    assert check_allocation(plan, measured, categories=cats).ok
    with pytest.raises(ValueError, match="unknown memory categories"):
        check_allocation(plan, measured, categories=("bogus",))
