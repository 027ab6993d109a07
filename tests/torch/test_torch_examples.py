"""Every example model runs one reference training step: finite loss, a gradient for every
weight, and spikes in every population the readout depends on."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from snncc.ir import spec_to_ir
from snncc.spec import load_spec
from snncc.torch import reference_step

#: Larger examples (the multi-IPU scaling ones) take too long and too much memory for a unit test.
MAX_WEIGHTS = 5_000_000
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_reference_step(path):
    ir = spec_to_ir(load_spec(path))
    weights = sum(ir.shapes(p).weight[0] * ir.shapes(p).weight[1] for p in ir.projections)
    if weights > MAX_WEIGHTS:
        pytest.skip(f"{weights} weights: too large for a unit test")
    inp = next(p for p in ir.populations if p.kind == "input")
    classes = ir.population(ir.settings.readout.population).size
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(ir.settings.timesteps, 2, inp.size, generator=gen) < 0.2).float()
    step = reference_step(ir, None, x, torch.tensor([0, classes - 1]))
    assert torch.isfinite(torch.tensor(step.loss))
    assert set(step.gradients) == {f"weight.{p.id}" for p in ir.projections} | {
        f"bias.{p.id}" for p in ir.projections if p.bias}
    for name, g in step.gradients.items():
        assert torch.isfinite(g).all(), name
    assert float(step.forward.spikes[inp.id].sum()) > 0
