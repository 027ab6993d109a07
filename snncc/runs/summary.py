"""What every backend's trainer takes and returns (no torch here: the host backend starts
its build before it imports torch)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class TrainOptions:
    run_dir: Path
    epochs: int | None = None  # None: the spec's
    device: str = "cpu"
    resume: bool = False
    base_dir: Path = Path(".")  # the model file's directory (npz paths are relative to it)
    show_progress: bool = True
    plots: bool = True


@dataclass
class TrainSummary:
    name: str
    epochs: int
    metrics: list[dict[str, Any]]
    run_dir: Path
    wall_s: float
    rank: int = 0  # this process's replica; only rank 0 reports

    @property
    def final(self) -> dict[str, Any]:
        return self.metrics[-1] if self.metrics else {}

    def line(self) -> str:
        f = self.final
        if not f:
            return f"{self.name}: no epoch trained; run directory {self.run_dir}"
        return (f"{self.name}: {f['epoch']} epochs, test accuracy {100 * f['test_acc']:.2f} % "
                f"(train {100 * f['train_acc']:.2f} %), test loss {f['test_loss']:.4f}, "
                f"{f['samples_per_s']:.0f} samples/s, {self.wall_s:.1f} s; run directory {self.run_dir}")
