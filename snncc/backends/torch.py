"""`snncc train --backend torch`: snncc.torch's portable trainer (snncc.torch.trainer, the
reference semantics, which a build directory's train.py runs too), on the CPU or CUDA."""

from __future__ import annotations

from typing import Callable

from ..errors import UserError
from ..ir import ModelGraph
from ..runs import TrainOptions, TrainSummary


def train_torch(ir: ModelGraph, options: TrainOptions, log: Callable[[str], None] = print,
                threads: int | None = None) -> TrainSummary:
    """Train with snncc.torch (threads: torch's per process, default its choice)."""
    # torch is imported only here (the host backend imports it late, while its build runs)
    import torch

    from ..torch.trainer import TrainingError, train

    if threads:
        torch.set_num_threads(threads)
    try:
        return train(ir, options, log=log)
    except TrainingError as exc:
        raise UserError(str(exc)) from None
