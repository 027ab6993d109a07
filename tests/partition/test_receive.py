"""Receive buffers in the memory model: counted by hand, refused with a message, made room for by
the partitioner, shown by the report. (Against the host runtime's measure: tests/verify.)"""

from __future__ import annotations

import numpy as np
import pytest

from partition_helpers import large_layer_ir, check_invariants, document, example_ir, ir_of
from snncc.cli import main
from snncc.partition import PlanError, make_plan
from snncc.partition.cost import receive_peaks
from snncc.partition.memory import CAT, population_memory

BATCH = 32


def _fan_in_model(bytes_per_tile: int):
    # an input of 100 channels (lists of up to 100 ids) into 64 neurons, into a readout of 4, on 16 tiles
    pops = [{"kind": "input", "id": "inp", "size": 100},
            {"kind": "neuron", "id": "hid", "size": 64, "neuron": {"model": "lif", "beta": 0.9}},
            {"kind": "neuron", "id": "out", "size": 4, "neuron": {"model": "lif", "beta": 0.9}}]
    projs = [{"id": "a", "source": "inp", "target": "hid"}, {"id": "b", "source": "hid", "target": "out"}]
    return ir_of(document(pops, projs, "out", batch=BATCH, timesteps=5,
                          target={"tiles_per_ipu": 16, "bytes_per_tile": bytes_per_tile}))


#: what a Forward (and a WeightGrad) vertex of hid receives on a tile holding one of the input's
#: 16 list tiles of 2 samples: the input's ring (1 slot) of ids [32][1][100] and counts [32][1][2],
#: 4 B each, less the tile's own 2 samples, plus the timestep counter t (on the readout's first tile)
RING = BATCH * 100 * 4 - 2 * 100 * 4 + BATCH * 2 * 4 - 2 * 2 * 4


def test_receive_buffers_by_hand():
    ir = _fan_in_model(200_000)
    plan = make_plan(ir)
    check_invariants(ir, plan)
    inp, hid, out = (plan.placement(p) for p in ("inp", "hid", "out"))
    assert (hid.first_tile, hid.num_tiles, inp.list_tiles, inp.samples_per_list_tile) == (0, 16, 16, 2)
    receive = plan.tile_memory.category("receive")
    for tile in hid.tiles:
        t_remote = 0 if tile == out.first_tile else 4
        assert receive[tile] == RING + t_remote, tile
        # the first compute set reaching the peak: the forward (weightgrad.stage0 receives as much)
        assert plan.tile_memory.receive_compute_set(tile) == "forward.stage0"
    assert RING == 12240
    # part of the tile's bytes: the plan's limit counts them
    assert plan.tile_memory.totals[0] == plan.tile_memory.bytes[0].sum()
    assert plan.tile_memory.bytes[0, CAT["receive"]] == RING + 4


def test_receive_buffers_that_do_not_fit_are_refused_by_name():
    # with 60000 bytes per tile the variables, vertex state and code of every tile fit, but not
    # with the 12240-byte receive buffers of the Forward vertex on top
    ir = _fan_in_model(60_000)
    with pytest.raises(PlanError) as info:
        make_plan(ir)
    msg = str(info.value)
    assert "\n" not in msg
    assert "population 'hid'" in msg and "compute set 'forward.stage0'" in msg
    assert "12240 of them receive buffers" in msg
    assert "Forward field 'ids0' of 'hid' 12000" in msg  # 32 - 2 samples x 100 ids x 4 B
    assert "a lower max_activity (or max_spikes) of 'inp'" in msg  # what shrinks them
    assert "available: 60000 bytes per tile" in msg
    # with 70000 bytes it fits, the same placement: the tiles over 60000 bytes are over by their
    # receive buffers only
    plan = make_plan(_fan_in_model(70_000))
    totals, receive = plan.tile_memory.totals, plan.tile_memory.category("receive")
    assert 60_000 < totals.max() <= 70_000
    assert (totals - receive).max() <= 60_000


def test_the_partitioner_spreads_a_population_to_make_room_for_receive_buffers():
    # 400 neurons of 200 inputs each with Adam on tiles of 64 KiB: placed by time, hid gets 40 tiles
    # (its readout, 2 neurons of 400 inputs, is then the slowest and cannot get faster), where a tile
    # overflows by its receive buffers; spread over more tiles, the slices leave room for them
    from snncc.partition import _place

    ir = large_layer_ir()
    memories = {p.id: population_memory(ir, p) for p in ir.populations}
    first, _, table = _place(ir, memories)
    table[:, CAT["receive"]] = receive_peaks(ir, memories, first, len(table))[0].bytes
    assert table.sum(axis=1).max() > 65536  # placed by time and variables alone, it would not fit
    plan = make_plan(ir)
    check_invariants(ir, plan)
    by = {p.population: p for p in first}
    assert plan.placement("hid").num_tiles > by["hid"].num_tiles


def test_every_example_counts_receive_buffers():
    # every tile that runs a vertex reading another tile's data holds a receive buffer (at least t)
    ir = example_ir("digits")
    plan = make_plan(ir)
    receive = plan.tile_memory.category("receive")
    used = plan.tile_memory.used_tiles()
    assert (receive[used] > 0).all()
    assert plan.tile_memory.totals.max() <= plan.bytes_per_tile


def test_shd_mlp_on_one_ipu_is_compute_bound_and_the_report_says_where_time_goes(capsys):
    ir = example_ir("shd_mlp")
    plan = make_plan(ir)
    assert plan.num_ipus == 1
    assert plan.cost.exchange_cycles < plan.cost.compute_cycles
    # the per-compute-set figures add up to the step
    total = sum(c.cycles for c in plan.compute_sets)
    assert total == pytest.approx(plan.cost.step_cycles, rel=1e-9)
    assert sum(c.executions * c.compute_cycles for c in plan.compute_sets) == pytest.approx(plan.cost.compute_cycles)
    from snncc.partition.report import text
    out = text(plan)
    receive = plan.tile_memory.category("receive")
    tile = int(receive.argmax())
    assert (f"receive buffers (per tile, the peak over compute sets of what its vertices read from other tiles): "
            f"largest") in out
    assert f"({int(receive[tile]):,} B) on tile {tile} in {plan.tile_memory.receive_compute_set(tile)}" in out
    assert "where the time goes" in out
    for phase in ("forward", "backward", "optimizer"):
        assert any(line.split()[:1] == [phase] for line in out.splitlines())
    assert "weightgrad.stage0" in out  # the costliest compute set is listed


def test_plan_json_names_each_tiles_receive_peak(tmp_path, capsys):
    import json

    from partition_helpers import ROOT

    assert main(["plan", str(ROOT / "examples" / "digits.json"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    tm = data["tile_memory"]
    assert "receive" in tm["categories"] and len(tm["receive_at"]) == len(tm["tiles"])
    col = tm["categories"].index("receive")
    for row, at in zip(tm["bytes"], tm["receive_at"]):
        assert (at >= 0) == (row[col] > 0)
    assert {c["name"] for c in data["compute_sets"]} == set(tm["receive_compute_sets"])
    assert np.isclose(sum(c["executions"] * (c["compute_cycles"] + c["exchange_cycles"] + c["link_cycles"]
                                               + c["sync_cycles"]) for c in data["compute_sets"]),
                      data["cost"]["step_cycles"])


def test_reduce_sum_cycles_by_hand():
    from snncc.partition.cycles import reduce_sum_cycles

    # E = 100 entries over P = 4 target tiles: chunks of 25, over 6 workers 5 each; per entry 4 tiles
    # x (load, add) + clear and store = 10 instructions; x 6 (barrel) + one vertex launch of 100
    assert reduce_sum_cycles(100, 4, 6).tolist() == [6 * 5 * 10 + 100] * 4
