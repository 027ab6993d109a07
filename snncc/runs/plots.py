"""PNG plots of a run: loss and accuracy curves from the metrics, a spike raster of one sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    from ..fsutil import write_bytes_atomic, write_errors
    import io

    buf = io.BytesIO()
    # no timestamps in the file, so the same run gives the same bytes
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    with write_errors(path, ""):
        write_bytes_atomic(path, buf.getvalue())


def plot_curves(metrics: list[dict[str, Any]], run_dir: Path) -> list[Path]:
    """loss.png (train and test loss) and accuracy.png (train and test accuracy) per epoch."""
    plt = _pyplot()
    epochs = [r["epoch"] for r in metrics]
    written = []
    for name, keys, ylabel in (
        ("loss.png", ("train_loss", "test_loss"), "loss"),
        ("accuracy.png", ("train_acc", "test_acc"), "accuracy"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        for key in keys:
            ax.plot(epochs, [r.get(key) for r in metrics], marker="o", label=key.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        _save(fig, run_dir / name)
        plt.close(fig)
        written.append(run_dir / name)
    return written


def plot_raster(spikes: dict[str, np.ndarray], path: Path, title: str) -> Path:
    """One panel per population: a dot at (timestep, neuron) for every spike; spikes[id] is [T, N]."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(spikes), 1, figsize=(7, 1.2 + 1.6 * len(spikes)), sharex=True, squeeze=False)
    for ax, (pid, s) in zip(axes[:, 0], spikes.items()):
        t, n = np.nonzero(np.asarray(s))
        ax.scatter(t, n, s=2, marker="|", color="black")
        ax.set_ylabel(f"{pid}\nneuron")
        ax.set_ylim(-0.5, max(s.shape[1], 1) - 0.5)
        ax.set_xlim(-0.5, s.shape[0] - 0.5)
    axes[0, 0].set_title(title)
    axes[-1, 0].set_xlabel("timestep")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path
