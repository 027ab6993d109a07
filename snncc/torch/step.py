"""One training step: forward, loss, backward, optimizer update.

`reference_step` is what `snncc verify` compares a generated program with: given initial
weights and a batch, it returns the forward outputs, the weight gradients and the
updated weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..ir import ModelGraph
from .loss import per_sample_loss
from .network import SNN, ForwardResult, build_model
from .optim import make_optimizer


@dataclass
class StepResult:
    """forward: the step's forward pass (detached); loss: the batch's mean loss;
    gradients: dL/dw per weight name (before the update); weights: after the update."""

    forward: ForwardResult
    loss: float
    gradients: dict[str, torch.Tensor]
    weights: dict[str, torch.Tensor]


def train_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    batch_total: int | None = None,
    replicas: int = 1,
) -> tuple[ForwardResult, torch.Tensor]:
    """Forward, backward and update on inputs [T, B, inputs], labels [B].

    The loss is the sum of per-sample losses x replicas / batch_total (batch_total: the
    samples of the whole step over all replicas, B by default). DDP averages gradients
    over replicas, so each replica's gradient is then exactly its share of the mean over
    the combined batch, however unevenly the batch is split. Returns the forward result
    and the (scaled) loss tensor.
    """
    net: SNN = model.module if hasattr(model, "module") else model
    total = batch_total or labels.shape[0]
    optimizer.zero_grad(set_to_none=True)
    result = model(inputs)
    losses = per_sample_loss(net.ir.settings.loss, result, labels, net.readout.population)
    loss = losses.sum() * (replicas / total)
    loss.backward()
    optimizer.step()
    return result, loss.detach()


def reference_step(
    ir: ModelGraph,
    weights: dict[str, torch.Tensor] | None,
    inputs: torch.Tensor,
    labels: torch.Tensor,
) -> StepResult:
    """One training step of a fresh model and optimizer from the given weights (None: the
    spec's initial weights); inputs [T, B, inputs] (0/1), labels [B] (int)."""
    model = build_model(ir)
    if weights is not None:
        model.set_weights(weights)
    optimizer = make_optimizer(ir.settings.optimizer, model.parameters())
    result, loss = train_step(model, optimizer, torch.as_tensor(inputs), torch.as_tensor(labels))
    grads = {n: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
             for n, p in model.weights().items()}
    return StepResult(result.detach(), float(loss), grads, {n: p.detach().clone() for n, p in model.weights().items()})
