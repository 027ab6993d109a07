"""What runs a training: the generated program or the PyTorch reference.

host: the generated program on snncc's host runtime (backends.host), planned for this
machine's CPU-shaped target or, with emulate_target, the spec's IPU tiles; poplar: the
same program built with the Poplar SDK on the spec's IPU target (backends.poplar); torch:
snncc.torch's portable trainer, the reference semantics (backends.torch). All of them go
through one run loop (snncc.runs.loop) into the same run directory.

Each backend module is imported only when it trains: torch is imported late.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import UserError

if TYPE_CHECKING:  # every command imports BACKENDS: nothing else is imported until a run
    from ..ir import ModelGraph
    from ..runs import TrainOptions, TrainSummary

BACKENDS = ("torch", "host", "poplar")


def train(backend: str, ir: ModelGraph, spec_path: Path, options: TrainOptions, log: Callable[[str], None] = print,
          emulate_target: bool = False, threads: int | None = None, replicas: int = 1,
          hosts: str | None = None) -> TrainSummary:
    """Train ir (from the spec file at spec_path) on the backend; a run that cannot go on is a UserError.
    replicas: data-parallel replicas, each on its share of every batch (`snncc train --replicas`;
    the torch backend starts them with torchrun unless it already runs under torchrun)."""
    # OpenMP threads that spin while waiting make torch 30x slower when other processes share
    # the cores (measured: 40 ms -> 1.2 s per digits step on 2 busy cores). libgomp reads this
    # when torch is first imported, which every backend does after this point (the host
    # backend for the initial weights, while its build runs); set only here, for training,
    # so that no other command changes the environment.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if backend == "torch":
        from .torch import train_torch

        return train_torch(ir, options, log, threads, replicas=replicas, spec_path=spec_path)
    from .host import HostTrainingError, train_host

    try:
        if backend == "poplar":
            from .poplar import train_poplar

            return train_poplar(ir, spec_path, options, log, threads, replicas=replicas, hosts=hosts)
        return train_host(ir, spec_path, options, log, emulate_target=emulate_target, threads=threads,
                          replicas=replicas, hosts=hosts)
    except HostTrainingError as exc:
        raise UserError(str(exc)) from None


__all__ = ["BACKENDS", "train"]
