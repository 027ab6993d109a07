"""The run directory: metrics, checkpoints and resume, all writes atomic."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from ..fsutil import check_output_dir, write_bytes_atomic, write_errors, write_text_atomic

METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.bin"
CHECKPOINT_INFO = "checkpoint.json"
PLOTS = ("loss.png", "accuracy.png", "raster.png")
#: the host backend's generated program (a build directory) and its working files
PROGRAM = "program"
WORK = "work"
#: every name snncc train writes in a run directory
RUN_FILES = (METRICS, CHECKPOINT, CHECKPOINT_INFO, *PLOTS, PROGRAM, WORK)
#: the temporary files and directories of atomic writes that a killed run leaves
#: (snncc.fsutil.write_bytes_atomic, snncc.codegen.render.write_build_dir)
_LEFT_BY_A_KILL = re.compile(r"\.(" + "|".join(re.escape(n) for n in RUN_FILES) + r")\..+")


def run_dir_problem(path: Path) -> str | None:
    """Why the non-empty directory path is not a run directory that snncc train wrote (and
    may start afresh), or None when it is one: it holds nothing but the names it writes."""
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        return f"cannot list it ({exc.strerror or exc})"
    for name in names:
        if name not in RUN_FILES and not _LEFT_BY_A_KILL.fullmatch(name):
            return (f"holds {name}, which snncc train did not write (a run directory holds only "
                    f"{', '.join(RUN_FILES)}); choose a new directory")
    return None


def check_run_dir(path: str | Path, option: str = "--run-dir", reads=()) -> Path:
    """path, checked as a run directory: new, empty or written by snncc train (UserError)."""
    # only named files in it are replaced, never the directory: it may be the current one
    return check_output_dir(path, option, run_dir_problem, reads, replaced=False)


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
        """Create the directory; forget a previous run's metrics, checkpoint and plots.
        Refused (UserError) for a directory that snncc train did not write."""
        check_run_dir(self.path, "run directory")
        with write_errors(self.path, ""):
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
        with write_errors(self.metrics_path, ""):
            write_text_atomic(self.metrics_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))

    # -- checkpoints ---------------------------------------------------------------

    def save_checkpoint(self, epoch: int, payload: bytes | Path) -> None:
        """Write the state after `epoch`, then its info file. payload: the backend's bytes,
        or a finished file of its own on this file system, which is moved into place."""
        with write_errors(self.checkpoint_path, ""):
            if isinstance(payload, Path):
                with open(payload, "rb+") as f:
                    os.fchmod(f.fileno(), 0o600)  # as write_bytes_atomic's files
                    os.fsync(f.fileno())
                os.replace(payload, self.checkpoint_path)
            else:
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
        with write_errors(self.metrics_path, ""):
            write_text_atomic(self.metrics_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
