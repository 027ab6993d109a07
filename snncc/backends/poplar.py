"""`snncc train --backend poplar`: the host backend's program, built with the Poplar SDK on
the spec's IPU target (snncc.driver.build with runtime "poplar")."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..driver import poplar_sdk_available
from ..errors import UserError
from ..ir import ModelGraph
from ..runs import TrainOptions, TrainSummary
from .host import train_host


def check_sdk() -> None:
    """Refuse the backend (UserError) where the Poplar SDK is not enabled."""
    if not poplar_sdk_available():
        raise UserError("--backend poplar needs the Poplar SDK (no popc on PATH: source the SDK's enable.sh); "
                        "use --backend host (the default) or torch")


def train_poplar(ir: ModelGraph, spec_path: Path, options: TrainOptions, log: Callable[[str], None] = print,
                 threads: int | None = None, replicas: int | None = None, hosts: str | None = None) -> TrainSummary:
    """Train with the generated program on the spec's IPU target, built against the Poplar SDK
    (replicas: one per process of an MPI job, as PopRun starts them)."""
    return train_host(ir, spec_path, options, log, emulate_target=True, threads=threads, runtime="poplar",
                      replicas=replicas, hosts=hosts)
