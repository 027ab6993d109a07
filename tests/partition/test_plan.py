"""The partitioner and the Plan: invariants on every example, the acceptance models, the CLI."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from partition_helpers import large_layer_ir, ROOT, brute_force_tile_bytes, static_bytes, check_invariants, document, example_ir, ir_of
from snncc.cli import main
from snncc.partition import PlanError, make_plan
from snncc.partition.cycles import forward_cycles
from snncc.partition.memory import population_memory

EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.json"))


@pytest.mark.parametrize("name", [e for e in EXAMPLES if e != "shd_deep_16ipu"])
def test_every_example_plans(name):
    ir = example_ir(name)
    plan = make_plan(ir)
    check_invariants(ir, plan)
    assert np.array_equal(static_bytes(plan.tile_memory.bytes), static_bytes(brute_force_tile_bytes(ir, plan)))
    assert plan.cost.step_seconds > 0 and plan.cost.samples_per_second > 0
    assert plan.tile_memory.category("receive").max() > 0  # counted, and within bytes_per_tile (check_invariants)
    assert make_plan(ir).to_json() == plan.to_json()


@pytest.mark.slow
def test_deep_16_ipu_model_plans_fast_in_contiguous_blocks():
    ir = example_ir("shd_deep_16ipu")
    assert len(ir.populations) == 195 and ir.settings.target.num_ipus == 16
    start = time.process_time()
    plan = make_plan(ir)
    elapsed = time.process_time() - start
    assert elapsed < 5.0, f"planning took {elapsed:.2f} s of CPU time"
    check_invariants(ir, plan)  # every tile within bytes_per_tile, receive buffers counted
    assert plan.tile_memory.category("receive").max() > 0
    chain = [plan.placement(p.id).ipu for p in ir.populations]
    assert chain == sorted(chain)  # a deep chain is cut into contiguous blocks of layers
    assert len(set(chain)) >= 15
    # 193 zero-delay layers: the pipelined variant is predicted much faster. The cost model follows
    # the generated program's compute sets: pipelining turns 193 forward, compact, backward and
    # weightgrad supersteps per timestep into one each, but the program still runs one
    # reduce.<projection> superstep per projection (192 per timestep either way), each moving the
    # target tiles' whole partials. Predicted 9.3x (24 -> 224 samples/s; before the spike lists were
    # read from per-timestep ring buffers: 11.7x, 17 -> 204), exchange-dominated by the reductions.
    assert plan.pipelined is not None and plan.pipelined.samples_per_second > 8 * plan.cost.samples_per_second
    assert plan.cost.link_bytes_per_timestep > 0


@pytest.mark.slow
def test_deep_model_on_one_ipu_is_refused(tmp_path, capsys):
    doc = json.loads((ROOT / "examples" / "shd_deep_16ipu.json").read_text())
    doc["target"]["num_ipus"] = 1
    del doc["$schema"]
    path = tmp_path / "deep1.json"
    path.write_text(json.dumps(doc))
    assert main(["plan", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"snncc plan: error: {path}: the model does not fit: population 'hidden")
    assert "638976 bytes per tile" in err  # the bytes available
    assert "MiB" in err  # the bytes needed
    assert "num_ipus >= 4" in err  # 3.2 GB of weights, gradients and Adam state need 4 IPUs of 900 MB


def test_shd_on_one_ipu_is_balanced():
    plan = make_plan(example_ir("shd_mlp"))
    c = plan.cost
    # the reading: summed over the step's supersteps (the generated program's compute sets), the
    # busiest tile's vertex cycles against the mean over the tiles working in that superstep
    # (predicted 1.0005 for shd_mlp)
    assert c.compute_cycles <= 1.10 * c.compute_mean_cycles
    assert plan.num_ipus == 1 and plan.placement("hidden1").num_tiles > 1000


def test_pipelined_prediction_only_with_zero_delay_projections():
    assert make_plan(example_ir("pipelined")).pipelined is None
    plan = make_plan(example_ir("shd_mlp"))
    assert plan.pipelined is not None
    # three stages become one: fewer supersteps per step
    assert plan.pipelined.supersteps < plan.cost.supersteps


def test_forward_cycles_by_hand():
    doc = document(
        [{"kind": "input", "id": "inp", "size": 4, "sparsity": {"max_spikes": 2}},
         {"kind": "neuron", "id": "hid", "size": 6, "neuron": {"model": "lif", "beta": 0.9}}],
        [{"id": "p", "source": "inp", "target": "hid"}], "hid", batch=6, timesteps=1)
    ir = ir_of(doc)
    pm = population_memory(ir, ir.population("hid"))
    # the Forward MultiVertex deals B n = 36 (sample, neuron) items to 6 workers, 6 each; an
    # item sums 2 listed ids x 4 instructions, adds 1 bias and updates (12): 21 instructions;
    # x 6 (barrel: a worker issues every 6th cycle) + one vertex launch of 100
    assert forward_cycles(pm, np.array([6]), 6)[0] == 6 * 21 * 6 + 100
    # 1 neuron per tile: 6 items, one per worker
    assert forward_cycles(pm, np.array([1]), 6)[0] == 1 * 21 * 6 + 100


def test_cost_follows_the_generated_programs_compute_sets():
    """The model's supersteps are the lowered Program's compute sets: per timestep its forward
    and backward sequences, then loss and update."""
    from snncc.lower import lower
    from snncc.partition.cost import compute_set_costs

    for name in ("digits", "recurrent", "cuba", "pipelined"):
        ir = example_ir(name)
        plan = make_plan(ir)
        program = lower(ir, plan)
        t = ir.settings.timesteps
        assert plan.cost.supersteps == t * (len(program.forward) + len(program.backward)) + 2
        assert set(compute_set_costs(ir, plan)) == set(program.compute_sets)


def test_more_populations_than_tiles_share_tiles():
    pops = [{"kind": "input", "id": "inp", "size": 5}]
    pops += [{"kind": "neuron", "id": f"h{i}", "size": 3, "neuron": {"model": "lif", "beta": 0.9}} for i in range(6)]
    projs = [{"id": f"p{i}", "source": "inp" if i == 0 else f"h{i - 1}", "target": f"h{i}", "delay": 1}
             for i in range(6)]
    ir = ir_of(document(pops, projs, "h5", target={"tiles_per_ipu": 2}))
    plan = make_plan(ir)
    check_invariants(ir, plan)
    assert np.array_equal(static_bytes(plan.tile_memory.bytes), static_bytes(brute_force_tile_bytes(ir, plan)))
    assert len({plan.placement(f"h{i}").first_tile for i in range(6)}) == 2


def test_memory_bound_layout_spreads_a_large_layer():
    # 200 x 400 weights with Adam: 1.3 MB for the layer, tiles of 64 KiB: needs >= 20 tiles (a small
    # readout of its own: the loss tile of a readout of 400 neurons on every tile would not fit the
    # receive buffers of the loss, which reads the readout's lists whole)
    ir = large_layer_ir()
    plan = make_plan(ir)
    check_invariants(ir, plan)
    assert plan.placement("hid").num_tiles >= 20


def test_too_large_for_any_tile_names_population_and_sizes():
    doc = document(
        [{"kind": "input", "id": "inp", "size": 5000, "sparsity": {"max_spikes": 10}},
         {"kind": "neuron", "id": "wide", "size": 4, "neuron": {"model": "lif", "beta": 0.9}}],
        [{"id": "p", "source": "inp", "target": "wide"}], "wide", target={"bytes_per_tile": 32768})
    with pytest.raises(PlanError, match=r"population 'wide' needs .*a single neuron needs \d+ bytes") as info:
        make_plan(ir_of(doc))
    assert "sparse connectivity or a smaller fan-in" in str(info.value)
    assert "more IPUs would not help" in str(info.value)


def test_cli_report_json_and_plot(tmp_path, capsys):
    model = str(ROOT / "examples" / "digits.json")
    assert main(["plan", model]) == 0
    out = capsys.readouterr().out
    assert "plan digits: 1 IPU x 1472 tiles" in out and "samples/s" in out and "hidden" in out
    png = tmp_path / "mem.png"
    assert main(["plan", model, "--json", "--plot", str(png)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "snncc-plan/1"
    assert [p["population"] for p in data["populations"]] == ["pixels", "hidden", "output"]
    assert len(data["tile_memory"]["bytes"]) == len(data["tile_memory"]["tiles"])
    assert png.read_bytes().startswith(b"\x89PNG")


def test_cli_bad_file_is_one_line(tmp_path, capsys):
    assert main(["plan", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err


def test_min_neurons_per_tile_bounds_a_population_by_its_size():
    # digits on 8 tiles: 256 hidden and 10 output neurons; at least 64 per tile -> at most 4 and 1
    # tiles; without the bound (an IPU target's 1) both spread over more.
    spread = make_plan(example_ir("digits", tiles_per_ipu=8, bytes_per_tile=4 << 20))
    bounded = make_plan(example_ir("digits", tiles_per_ipu=8, bytes_per_tile=4 << 20, min_neurons_per_tile=64))
    tiles = {p.population: p.num_tiles for p in bounded.placements if p.kind == "neuron"}
    assert tiles == {"hidden": 4, "output": 1}
    assert all(p.num_tiles > tiles[p.population] for p in spread.placements if p.kind == "neuron")
    check_invariants(example_ir("digits", tiles_per_ipu=8, bytes_per_tile=4 << 20, min_neurons_per_tile=64), bounded)
