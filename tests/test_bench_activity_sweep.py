"""bench/activity_sweep.py's data, calibration and weight hand-over, against snnTorch and counts."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sweep():
    spec = importlib.util.spec_from_file_location("activity_sweep", ROOT / "bench" / "activity_sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_has_exactly_the_spikes_per_step_and_class_structure(sweep):
    spikes, labels = sweep.make_data(60, 20, 48, seed=3)
    assert spikes.shape == (60, 20, sweep.INPUTS) and spikes.dtype == bool
    assert (spikes.sum(axis=2) == 48).all()
    assert np.bincount(labels, minlength=sweep.CLASSES).tolist() == [3] * sweep.CLASSES
    # samples of one class share their channels far more than samples of two classes
    profile = spikes.mean(axis=1)
    same = [profile[i] @ profile[j] for i in range(60) for j in range(i) if labels[i] == labels[j]]
    other = [profile[i] @ profile[j] for i in range(60) for j in range(i) if labels[i] != labels[j]]
    assert np.mean(same) > 2 * np.mean(other)
    again, _ = sweep.make_data(60, 20, 48, seed=3)
    assert (again == spikes).all()


def test_calibrated_weights_fire_at_the_target_rate_in_snntorch(sweep):
    """The gains' rates hold for snnTorch's LIF fed the peers' transposed copy of the weights."""
    spikes, _ = sweep.make_data(8, 30, 48, seed=1)
    base = sweep.base_weights(seed=1)
    cal = sweep.calibrate(spikes, base, activity=0.05, output_rate=0.1)
    for pop, target in (("hidden1", 0.05), ("hidden2", 0.05), ("output", 0.1)):
        assert cal["rates"][pop] == pytest.approx(target, rel=0.01)
    weights = [np.float32(g) * w for g, w in zip(cal["gains"], base)]
    _, forward = sweep._peer_model("snntorch", weights, slope=10.0)
    with torch.no_grad():
        layers = forward(torch.from_numpy(spikes).to(torch.float32).transpose(0, 1))
    for pop, s in zip(sweep.POPS[1:], layers):
        assert float(s.mean()) == pytest.approx(cal["rates"][pop], rel=0.02), pop


def test_spec_variants(sweep):
    sparse = sweep.spec_doc("sparse", 0.05, 0.1, 100, 0.2, 10.0, 0)
    exact = sweep.spec_doc("exact", 0.05, 0.15, 100, 0.2, 10.0, 0)
    dense = sweep.spec_doc("torch", 0.05, None, 100, 0.2, 10.0, 0)
    assert sparse["populations"][1]["sparsity"] == {"max_activity": 0.1, "overflow": "drop", "gradient_threshold": 0.9}
    assert exact["populations"][2]["sparsity"] == {"max_activity": 0.15, "overflow": "drop"}
    assert all("sparsity" not in p for p in dense["populations"])
    assert sparse["arrays"] == exact["arrays"] == dense["arrays"] == "weights_a5.npz"
