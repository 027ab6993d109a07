"""The run directory: metrics, checkpoints and resume, all writes atomic."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..fsutil import write_bytes_atomic, write_text_atomic

METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.bin"
CHECKPOINT_INFO = "checkpoint.json"
PLOTS = ("loss.png", "accuracy.png", "raster.png")


class NonFiniteError(ArithmeticError):
    """A NaN or Inf loss: the run stops, the last good checkpoint stays in place."""


def check_finite(value: float, where: str) -> None:
    if not math.isfinite(value):
        raise NonFiniteError(f"the loss became {value} at {where}")


class RunDir:
    """One training run's directory.

    Invariant after every epoch: metrics.jsonl holds one line per finished epoch and the
    checkpoint holds the last of them. A process killed between the two leaves a metrics
    line newer than the checkpoint; resume() drops such lines, so a resumed run ends with
    exactly the metrics of an uninterrupted one.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT

    def start_fresh(self) -> None:
        """Create the directory; forget a previous run's metrics, checkpoint and plots."""
        self.path.mkdir(parents=True, exist_ok=True)
        for name in (METRICS, CHECKPOINT, CHECKPOINT_INFO, *PLOTS):
            (self.path / name).unlink(missing_ok=True)

    # -- metrics -------------------------------------------------------------------

    def metrics(self) -> list[dict[str, Any]]:
        """Every epoch's metrics so far (a torn last line from a kill is ignored)."""
        if not self.metrics_path.exists():
            return []
        rows = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
        return rows

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Append one epoch's line (rewrites the file atomically: it stays small)."""
        rows = self.metrics() + [row]
        write_text_atomic(self.metrics_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))

    # -- checkpoints ---------------------------------------------------------------

    def save_checkpoint(self, epoch: int, payload: bytes) -> None:
        """Write the state after `epoch` (bytes from the backend), then its info file."""
        write_bytes_atomic(self.checkpoint_path, payload)
        write_text_atomic(self.path / CHECKPOINT_INFO, json.dumps({"epoch": epoch}) + "\n")

    def checkpoint_epoch(self) -> int | None:
        info = self.path / CHECKPOINT_INFO
        if not info.exists() or not self.checkpoint_path.exists():
            return None
        return int(json.loads(info.read_text())["epoch"])

    def stopped_message(self, reason: object) -> str:
        """Why a run stopped, and where its last good checkpoint is (if an epoch finished)."""
        kept = self.checkpoint_epoch()
        where = (f"The last good checkpoint (epoch {kept}) is {self.checkpoint_path}" if kept
                 else "No epoch finished, so there is no checkpoint")
        return f"{reason}; stopped. {where}"

    def load_checkpoint(self) -> bytes | None:
        """The last checkpoint's bytes, or None if there is none.

        The backend must take the epoch from inside the payload (a kill between writing the
        checkpoint and its info file leaves the info one epoch behind) and call
        trim_metrics with it.
        """
        if not self.checkpoint_path.exists():
            return None
        return self.checkpoint_path.read_bytes()

    def trim_metrics(self, last_epoch: int) -> None:
        """Drop metrics of epochs after last_epoch (finished but not checkpointed)."""
        rows = [r for r in self.metrics() if r["epoch"] <= last_epoch]
        write_text_atomic(self.metrics_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
