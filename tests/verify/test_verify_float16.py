"""float16 (mixed precision): the generated program computes what the torch backend computes
in float16 (itself checked bit for bit against a numpy float16 simulation in
tests/torch/test_torch_float16.py), and stores its state as IEEE binary16."""

from __future__ import annotations

import json

import numpy as np
import pytest

from snncc import tensorfile
from snncc.cli import main
from snncc.verify.compare import Row, ulp16

from codegen_helpers import small_spec


def _half(spec: dict) -> dict:
    spec["training"]["precision"] = "float16"
    return spec


def test_cuba_sparse_backward_delay_bias_sgd_momentum(verify_spec, tmp_path):
    spec = _half(small_spec(
        "half_mix",
        hidden=[{"kind": "neuron", "id": "h", "size": 13,
                 "neuron": {"model": "cuba_lif", "beta": 0.85, "alpha": 0.6, "reset": "subtract"},
                 "sparsity": {"max_spikes": 4, "gradient_threshold": 0.6, "overflow": "drop"}},
                {"kind": "neuron", "id": "h2", "size": 7, "neuron": {"model": "lif", "beta": 0.9, "reset": "zero"}}],
        projections=[{"id": "a", "source": "x", "target": "h", "weight_init": {"scale": 4.0}},
                     {"id": "b", "source": "h", "target": "h2", "weight_init": {"scale": 4.0}},
                     {"id": "c", "source": "h2", "target": "out", "delay": 2, "weight_init": {"scale": 3.0}},
                     {"id": "skip", "source": "h", "target": "out", "bias": False}],
        optimizer={"kind": "sgd", "lr": 0.05, "momentum": 0.9}, timesteps=9, batch=6))
    report, _ = verify_spec(spec)
    assert report.ok and not report.flips, report.text()
    states = {r.name: r for r in report.rows if r.ulps is not None}
    assert set(states) == {"mem.h", "syn.h", "mem.h2", "mem.out"}
    out = tensorfile.read(tmp_path / "run" / "result.bin")
    for name in states:  # stored as half: every value is a float16 value, and they are not all tiny
        v = np.asarray(out[name], dtype=np.float32)
        assert np.array_equal(v.astype(np.float16).astype(np.float32), v), name
        assert np.abs(v).max() > 0.1, name
    assert out["spikes.h"].sum() > 0 and out["spikes.h2"].sum() > 0


def test_membrane_sum_adam_plain_reset_none(verify_spec):
    spec = _half(small_spec(
        "half_sum", hidden=[{"kind": "neuron", "id": "h", "size": 10, "neuron": {"model": "lif", "beta": 0.95}}],
        readout={"kind": "neuron", "id": "out", "size": 3, "neuron": {"model": "li", "beta": 0.9}},
        decoding="membrane_max"))
    report, _ = verify_spec(spec)
    assert report.ok and not report.flips, report.text()


def test_float16_tolerance_is_one_half_ulp_per_element():
    # hand values: binary16 has 10 fraction bits
    assert ulp16(np.array([1.0, 1.5, 2.0, 0.75, -3.0, 0.0])).tolist() == [2**-10, 2**-10, 2**-9, 2**-11, 2**-9, 2**-24]
    assert Row("forward", "mem.h", 1e-3, 1e-3, False, ulps=1.0).ok
    assert not Row("forward", "mem.h", 2e-3, 2e-3, False, ulps=2.0).ok
    assert not Row("forward", "loss", 0.0, 2e-4, False).ok  # float32 quantities keep 1e-4


def test_more_steps_are_refused_with_one_line(tmp_path, capsys):
    path = tmp_path / "h.json"
    path.write_text(json.dumps(_half(small_spec("half_steps"))))
    assert main(["verify", str(path), "--steps", "2", "--layout", "cpu"]) != 0
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "float16" in err and "--steps 2" in err
