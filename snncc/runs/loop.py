"""What every backend's training run shares around its own batches: the epoch's tallies,
resuming or starting afresh, a progress bar per epoch, the non-finite loss check, the
metrics row and line of a finished epoch with its checkpoint, and the summary with plots.

A backend trains its batches its own way (snncc.torch.trainer in process, the host backend
by reading its program's output) and calls these at the same points, so that both write
the same metrics.jsonl rows, messages and run directory. No torch here: the host backend
starts its build before it imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .plots import plot_curves
from .progress import progress
from .rundir import NonFiniteError, RunDir, check_finite
from .summary import TrainOptions, TrainSummary


@dataclass
class Tally:
    """Sums over an epoch's batches of one split. Counts are floats so that data-parallel
    replicas sum them in one float64 all-reduce (values, set_values)."""

    pops: list[str]  # the spiking populations, in the order of values()
    loss: float = 0.0
    correct: float = 0.0
    samples: float = 0.0
    spikes: dict[str, float] = field(default_factory=dict)
    overflow: dict[str, float] = field(default_factory=dict)

    def add(self, loss_sum: float, correct: float, samples: float,
            spikes: Mapping[str, float], overflow: Mapping[str, float]) -> None:
        """One batch: its summed loss, correct predictions, samples, and per population its spikes and overflow."""
        self.loss += loss_sum
        self.correct += correct
        self.samples += samples
        for pid in self.pops:
            self.spikes[pid] = self.spikes.get(pid, 0.0) + spikes[pid]
            self.overflow[pid] = self.overflow.get(pid, 0.0) + overflow[pid]

    def values(self) -> list[float]:
        return [self.loss, self.correct, self.samples] + [self.spikes.get(p, 0.0) for p in self.pops] \
            + [self.overflow.get(p, 0.0) for p in self.pops]

    def set_values(self, v: list[float]) -> None:
        """The inverse of values (after summing them over replicas)."""
        self.loss, self.correct, self.samples = v[:3]
        k = len(self.pops)
        self.spikes = dict(zip(self.pops, v[3 : 3 + k]))
        self.overflow = dict(zip(self.pops, v[3 + k :]))


def epoch_row(epoch: int, train: Tally, test: Tally, train_s: float, epoch_s: float, wall_s: float,
              timesteps: int, sizes: Mapping[str, int]) -> dict[str, Any]:
    """The metrics.jsonl row of a finished epoch (sizes: neurons per population)."""
    return {
        "epoch": epoch,
        "train_loss": train.loss / train.samples,
        "train_acc": train.correct / train.samples,
        "test_loss": test.loss / test.samples,
        "test_acc": test.correct / test.samples,
        "samples_per_s": train.samples / max(train_s, 1e-9),
        "epoch_s": epoch_s,
        "wall_s": wall_s,
        "populations": {
            pid: {"spike_rate": train.spikes[pid] / (train.samples * timesteps * sizes[pid]),
                  "overflow": int(train.overflow[pid])}
            for pid in train.pops
        },
    }


class RunLoop:
    """One run of model `name` over epochs up to `last` in options.run_dir. writes: this
    process writes the run directory and the lines (data-parallel: rank 0 only)."""

    def __init__(self, name: str, options: TrainOptions, last: int, log: Callable[[str], None] = print,
                 writes: bool = True):
        self.name, self.options, self.last, self.log, self.writes = name, options, last, log, writes
        self.run = RunDir(options.run_dir)

    def checkpoint(self) -> bytes | None:
        """The checkpoint to resume from: with options.resume, the run directory's last one."""
        return self.run.load_checkpoint() if self.options.resume else None

    def resumed(self, done: int) -> int:
        """After the backend restored the checkpoint of epoch `done`: drop later metrics; the first epoch to train."""
        if self.writes:
            self.run.trim_metrics(done)
            self.log(f"resuming {self.name} after epoch {done} from {self.run.checkpoint_path}")
        return done + 1

    def fresh(self) -> int:
        """Start the run directory afresh (no checkpoint to resume from); the first epoch to train."""
        if self.writes:
            if self.options.resume:
                self.log(f"no checkpoint in {self.run.path}: starting from epoch 1")
            self.run.start_fresh()
        return 1

    def bar(self, epoch: int, items: Iterable, total: int | None = None):
        """The progress bar of an epoch's batches."""
        return progress(items, desc=f"epoch {epoch}/{self.last}", total=total,
                        enabled=self.options.show_progress and self.writes)

    def stop_message(self, loss: float, epoch: int, batch: int) -> str | None:
        """Why the run stops at this batch's loss (NaN or Inf), naming its last good checkpoint;
        None when the loss is finite."""
        try:
            check_finite(loss, f"epoch {epoch}, batch {batch}")
        except NonFiniteError as exc:
            return self.run.stopped_message(exc)
        return None

    def end_epoch(self, row: dict[str, Any], checkpoint: Callable[[], bytes | Path]) -> None:
        """Append the epoch's row, checkpoint it (checkpoint(): the backend's bytes, or a file of
        its own that is moved into place) and say so."""
        if not self.writes:
            return
        self.run.append_metrics(row)
        self.run.save_checkpoint(row["epoch"], checkpoint())
        self.log(f"epoch {row['epoch']}: train loss {row['train_loss']:.4f}, train accuracy {row['train_acc']:.4f}, "
                 f"test accuracy {row['test_acc']:.4f}, {row['samples_per_s']:.0f} samples/s")

    def finish(self, wall_s: float, plot_sample: Callable[[Path], None], rank: int = 0) -> TrainSummary:
        """The run's summary; with options.plots, the curves and plot_sample(raster path)."""
        metrics = self.run.metrics() if self.writes else []
        if self.writes and self.options.plots and metrics:
            plot_curves(metrics, self.run.path)
            plot_sample(self.run.path / "raster.png")
        return TrainSummary(self.name, self.last, metrics, self.run.path, wall_s, rank)
