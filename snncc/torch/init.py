"""Initial weights and fixed connectivity masks of the projections.

Weights are stored [source, target] (in, out): one source neuron's outgoing weights are
one contiguous row, the layout the IPU code uses (an input spike id selects a row).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..ir import ModelGraph, Projection


def connectivity_mask(proj: Projection, n_in: int, n_out: int) -> np.ndarray | None:
    """The fixed 0/1 mask [n_in, n_out] of a sparse projection (None when dense).

    Drawn with numpy's default_rng(mask_seed):
    - fan_in k: for each target j = 0, 1, ... in order, rng.choice(n_in, size=min(k, n_in),
      replace=False) picks its sources, so every target has exactly k inputs;
    - probability p: rng.random((n_in, n_out)) < p, each connection independently.
    """
    if proj.connectivity == "dense":
        return None
    rng = np.random.default_rng(proj.mask_seed)
    if proj.probability is not None:
        return (rng.random((n_in, n_out)) < proj.probability).astype(np.float32)
    k = min(int(proj.fan_in), n_in)
    mask = np.zeros((n_in, n_out), dtype=np.float32)
    for j in range(n_out):
        mask[rng.choice(n_in, size=k, replace=False), j] = 1.0
    return mask


def initial_weights(ir: ModelGraph) -> dict[str, torch.Tensor]:
    """Initial weights of every projection from the training seed, named like the module's
    parameters: 'weight.<projection>' [in, out] and 'bias.<projection>' [out].

    One torch.Generator seeded with the training seed draws, projection by projection in
    spec order, the weights (then the bias, if any). With a = scale / sqrt(fan_in):
    uniform U(-a, a); normal N(0, a^2); biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    (scale 1 uniform is torch.nn.Linear's default). Masked weights are zero. Given weights
    and biases (Projection.initial_weights, initial_bias) replace the drawn ones; the draw
    still happens, so that the other projections' values do not depend on them.
    """
    gen = torch.Generator().manual_seed(ir.settings.seed)
    out: dict[str, torch.Tensor] = {}
    for proj in ir.projections:
        n_in, n_out = ir.shapes(proj).weight
        fan_in = max(proj.fan_in, 1.0)
        a = proj.weight_scale / math.sqrt(fan_in)
        if proj.weight_distribution == "uniform":
            w = (torch.rand(n_in, n_out, generator=gen) * 2.0 - 1.0) * a
        else:
            w = torch.randn(n_in, n_out, generator=gen) * a
        mask = connectivity_mask(proj, n_in, n_out)
        if mask is not None:
            w = w * torch.from_numpy(mask)
        if proj.initial_weights is not None:
            w = torch.tensor(proj.initial_weights.array)
        out[f"weight.{proj.id}"] = w
        if proj.bias:
            bound = 1.0 / math.sqrt(fan_in)
            out[f"bias.{proj.id}"] = (torch.rand(n_out, generator=gen) * 2.0 - 1.0) * bound
            if proj.initial_bias is not None:
                out[f"bias.{proj.id}"] = torch.tensor(proj.initial_bias.array)
    return out
