"""The spec's optimizer as a torch.optim optimizer (exactly torch's semantics)."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ..spec import models as m


def make_optimizer(spec: m.Optimizer, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    if spec.kind == "adam":
        return torch.optim.Adam(params, lr=spec.lr, betas=tuple(spec.betas), eps=spec.eps)
    return torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum)
