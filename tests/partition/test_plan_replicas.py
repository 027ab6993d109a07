"""Data-parallel replicas (target.replication_factor R): the plan counts R x num_ipus IPUs and
plans one replica's batch / R samples; the cost model adds the ring all-reduce of the weight and
bias gradients per step (docs/plan.md, "Replicas")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from partition_helpers import check_invariants, document, ir_of
from snncc.cli import main
from snncc.partition import constants as k
from snncc.partition import make_plan
from snncc.partition.report import text
from snncc.partition.target import cpu_target, with_target

LIF = {"model": "lif", "beta": 0.9}
#: a chain inp(6) -> hid(8) -> out(3), dense; hid_to_out without a bias
POPULATIONS = [{"kind": "input", "id": "inp", "size": 6},
               {"kind": "neuron", "id": "hid", "size": 8, "neuron": LIF},
               {"kind": "neuron", "id": "out", "size": 3, "neuron": LIF}]
PROJECTIONS = [{"id": "inp_to_hid", "source": "inp", "target": "hid"},
               {"id": "hid_to_out", "source": "hid", "target": "out", "bias": False}]
#: dw and db by hand: 6 x 8 weights + 8 biases, 8 x 3 weights
GRADIENTS = 6 * 8 + 8 + 8 * 3


def _ir(replicas: int, per_replica: int = 2, **target):
    return ir_of(document(POPULATIONS, PROJECTIONS, "out", batch=replicas * per_replica,
                          target={"replication_factor": replicas, **target}))


def _ring_cycles(replicas: int, elements: int, bytes_per_second: float, clock_hz: float = 1.33e9) -> float:
    """The all-reduce term by hand: a ring sends 2 (R - 1) / R of the float32 gradients per replica."""
    return 2 * (replicas - 1) / replicas * elements * 4 / bytes_per_second * clock_hz


@pytest.mark.parametrize("replicas", [2, 3])
def test_replicas_add_the_gradient_all_reduce_to_one_replicas_step(replicas):
    one, many = make_plan(_ir(1)), make_plan(_ir(replicas))
    check_invariants(_ir(replicas), many)
    assert (many.replication_factor, many.num_ipus, many.ipus_used) == (replicas, 1, replicas)
    assert many.batch_per_replica == one.batch_per_replica == 2  # batch 2 R split over R replicas
    assert many.samples_per_step == 2 * replicas
    # one replica's program is the same: tiles, bytes and every compute set
    assert many.placements == one.placements and many.ipus == one.ipus
    assert np.array_equal(many.tile_memory.bytes, one.tile_memory.bytes)
    assert many.compute_sets == one.compute_sets
    a, b = many.cost, one.cost
    assert (a.forward_cycles, a.backward_cycles, a.optimizer_cycles) == (b.forward_cycles, b.backward_cycles,
                                                                         b.optimizer_cycles)
    # the step is longer by exactly the all-reduce, counted from the spec by hand
    term = _ring_cycles(replicas, GRADIENTS, 320e9)
    assert a.gradient_elements == b.gradient_elements == GRADIENTS
    assert a.allreduce_bytes == round(2 * (replicas - 1) / replicas * GRADIENTS * 4)
    assert a.allreduce_cycles == pytest.approx(term, rel=1e-12)
    assert a.step_cycles - b.step_cycles == pytest.approx(term, rel=1e-9)
    assert a.step_seconds - b.step_seconds == pytest.approx(term / 1.33e9, rel=1e-9)
    # the replicas run in parallel: the whole batch per step
    assert a.samples_per_second == pytest.approx(2 * replicas / a.step_seconds)
    # and so is the pipelined prediction's (the chain's zero-delay projection made delay-1)
    assert many.pipelined is not None and one.pipelined is not None
    assert many.pipelined.step_cycles - one.pipelined.step_cycles == pytest.approx(term, rel=1e-9)


def test_one_replica_has_no_all_reduce():
    plan = make_plan(_ir(1))
    c = plan.cost
    assert (c.allreduce_bytes, c.allreduce_cycles) == (0, 0.0)
    assert c.step_cycles == c.forward_cycles + c.backward_cycles + c.optimizer_cycles
    assert plan.ipus_used == 1 and plan.samples_per_step == plan.batch_per_replica == 2
    report = text(plan)
    assert report.startswith("plan t: 1 IPU x 1472 tiles, 624.0 KiB per tile, batch 2 per replica, 5 timesteps\n")
    assert "all-reduce" not in report and "replicas" not in report


def test_every_ipu_of_a_replica_reduces_its_own_gradients():
    """num_ipus 2, R 2: 4 IPUs; each IPU all-reduces the gradients it holds with its counterpart,
    so the IPU holding the most sets the time."""
    target = {"num_ipus": 2, "tiles_per_ipu": 8}
    pops = POPULATIONS + [{"kind": "neuron", "id": "out2", "size": 5, "neuron": LIF}]
    projs = [PROJECTIONS[0], {"id": "hid_to_out", "source": "hid", "target": "out"},
             {"id": "out_to_out2", "source": "out", "target": "out2"}]
    irs = {r: ir_of(document(pops, projs, "out2", batch=2 * r, target={"replication_factor": r, **target}))
           for r in (1, 2)}
    one, many = make_plan(irs[1]), make_plan(irs[2])
    check_invariants(irs[2], many)
    assert many.ipus_used == 4 and many.batch_per_replica == 2
    per_ipu = [0, 0]
    for target_id, elements in (("hid", 6 * 8 + 8), ("out", 8 * 3 + 3), ("out2", 3 * 5 + 5)):
        per_ipu[many.placement(target_id).ipu] += elements
    assert min(per_ipu) > 0  # the chain is cut over both IPUs
    assert many.cost.gradient_elements == sum(per_ipu)
    term = _ring_cycles(2, max(per_ipu), 320e9)
    assert many.cost.step_cycles - one.cost.step_cycles == pytest.approx(term, rel=1e-9)


def test_cpu_layout_all_reduce_is_mpis_estimate():
    ir = _ir(2)
    cpu = with_target(ir, cpu_target(ir.settings.target, threads=2, memory_bytes=2**30))
    many = make_plan(cpu, layout="cpu")
    one = make_plan(with_target(_ir(1), cpu_target(_ir(1).settings.target, threads=2, memory_bytes=2**30)),
                    layout="cpu")
    assert many.allreduce_bytes_per_second == k.ALLREDUCE_MPI_BYTES_PER_SECOND
    term = _ring_cycles(2, GRADIENTS, k.ALLREDUCE_MPI_BYTES_PER_SECOND)
    assert many.cost.step_cycles - one.cost.step_cycles == pytest.approx(term, rel=1e-9)
    assert many.to_dict()["replicas"]["layout"] == "cpu"
    assert "2 replicas (one per MPI rank)" in text(many) and "MPI_Allreduce" in text(many)
    with pytest.raises(ValueError, match="layout"):
        make_plan(ir, layout="gpu")


def test_cli_reports_replicas(tmp_path, capsys):
    doc = document(POPULATIONS, PROJECTIONS, "out", batch=8, target={"replication_factor": 2, "num_ipus": 2})
    path = tmp_path / "r2.json"
    path.write_text(json.dumps(doc))
    assert main(["plan", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("plan t: 2 replicas x 2 IPUs (4 IPUs used) x 1472 tiles, 624.0 KiB per tile, "
                          "batch 4 per replica (8 per step), 5 timesteps\n")
    assert "all-reduce of the gradients across 2 replicas: 80 weight and bias gradients" in out
    assert main(["plan", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["batch_per_replica"] == 4 and data["target"]["replication_factor"] == 2
    assert data["replicas"] == {"replication_factor": 2, "ipus_used": 4, "samples_per_step": 8, "layout": "ipu",
                                "allreduce_bytes_per_second": 320e9}
    assert data["cost"]["allreduce_bytes"] == GRADIENTS * 4  # 2 (R - 1) / R = 1
