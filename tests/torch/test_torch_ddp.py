"""Data-parallel training: a 2-process gloo DDP step gives the gradients of one process on
the combined batch (split unevenly, 4 + 3 samples)."""

from __future__ import annotations

import pytest
import torch
import torch.multiprocessing as mp

import ddp_worker
from snn_specs import make_ir

POPS = [
    {"kind": "input", "id": "x", "size": 16},
    {"kind": "neuron", "id": "h", "size": 24, "neuron": {"model": "lif", "beta": 0.9},
     "sparsity": {"max_spikes": 6, "gradient_threshold": 0.8}},
    {"kind": "neuron", "id": "o", "size": 3, "neuron": {"model": "lif", "beta": 0.9}},
]
PROJS = [
    {"id": "xh", "source": "x", "target": "h", "weight_init": {"scale": 3.0}},
    {"id": "hh", "source": "h", "target": "h", "delay": 1, "weight_init": {"scale": 0.5}},
    {"id": "ho", "source": "h", "target": "o", "weight_init": {"scale": 2.0}},
]
SPEC = ((POPS, PROJS), {"timesteps": 15, "optimizer": {"kind": "sgd", "lr": 0.1, "momentum": 0.0}})
BATCH = 7


@pytest.mark.slow
def test_two_process_gloo_step_matches_single_process(tmp_path):
    mp.spawn(ddp_worker.run, args=(2, str(tmp_path / "init"), SPEC, str(tmp_path), BATCH), nprocs=2, join=True)
    ir = make_ir(*SPEC[0], **SPEC[1])
    x, y = ddp_worker.batch(ir, BATCH)
    grads, weights = ddp_worker.step(ir, x, y)
    assert any(float(g.abs().max()) > 0 for g in grads.values())
    for rank in (0, 1):
        r_grads, r_weights = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        for name, g in grads.items():
            scale = float(g.abs().max()) or 1.0
            err = float((r_grads[name] - g).abs().max()) / scale
            assert err <= 1e-5, f"rank {rank} {name}: relative gradient error {err:.2e}"
            torch.testing.assert_close(r_weights[name], weights[name], rtol=1e-5, atol=1e-6)
