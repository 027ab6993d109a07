"""Surrogate gradients of the spike step, as one custom autograd function.

Forward is always the strict step S = [x > 0] with x = U - theta. Backward multiplies the
incoming gradient by the surrogate derivative dS/dx (table in docs/reference/snn.md)
and by an optional 0/1 gradient mask (the sparse backward: neurons outside the
spike-id list get no gradient). An optional keep mask removes dropped spikes from the
forward value (capacity overflow) without changing the backward rule.
"""

from __future__ import annotations

import math

import torch

from ..spec import models as m


def surrogate_derivative(surrogate: m.Surrogate, x: torch.Tensor) -> torch.Tensor:
    """dS/dx of the surrogate at x = U - theta (elementwise)."""
    kind = surrogate.kind
    if kind == "fast_sigmoid":
        return 1.0 / (surrogate.slope * torch.abs(x) + 1.0) ** 2
    if kind == "atan":
        a = surrogate.alpha
        # the same expression and order as snnTorch's ATan.backward
        return a / 2 / (1 + (math.pi / 2 * a * x).pow(2))
    if kind == "sigmoid":
        k = surrogate.slope
        s = torch.sigmoid(k * x)  # k e^(-kx) / (1 + e^(-kx))^2 = k s (1 - s), without overflow
        return k * s * (1.0 - s)
    if kind == "triangle":
        w = surrogate.width
        return torch.clamp(1.0 - torch.abs(x) / w, min=0.0) / w
    if kind == "boxcar":
        w = surrogate.width
        return (torch.abs(x) < w).to(x.dtype) / (2.0 * w)
    raise ValueError(f"unknown surrogate {kind!r}")


class _Spike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, surrogate, keep, grad_mask):
        out = (x > 0).to(x.dtype)
        if keep is not None:
            out = out * keep
        ctx.surrogate = surrogate
        ctx.save_for_backward(x, grad_mask)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, grad_mask = ctx.saved_tensors
        grad = grad_output * surrogate_derivative(ctx.surrogate, x)
        if grad_mask is not None:
            grad = grad * grad_mask
        return grad, None, None, None


def spike(
    x: torch.Tensor,
    surrogate: m.Surrogate,
    keep: torch.Tensor | None = None,
    grad_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Spikes [x > 0] (times keep), with the surrogate derivative (times grad_mask) as gradient."""
    return _Spike.apply(x, surrogate, keep, grad_mask)
