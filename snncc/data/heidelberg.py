"""The Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC) from their HDF5 files.

Each file holds, per sample, `spikes/times` (seconds from the recording's start) and
`spikes/units` (cochlea channels 0-699) as variable-length arrays, and `labels`. Samples
are read a chunk at a time and binned at once into events (snncc.data.dataset): an event
at time t falls into timestep floor(t / bin width), both in whole microseconds as tonic
reads these files (so that 0.7 s, stored as 0.69999999 in float32, lies in bin 7 of
0.1 s bins, not 6), later events than T bins are dropped,
and a channel that fires twice within a bin spikes once; channels are down-sampled as
c // downsample. The files' own train and test (or SSC's valid) splits are kept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..machine import memory_problem
from ..spec import models as m
from ..spec.datasets import bin_width, event_set, input_size
from .dataset import Dataset, concat, event_keys
from .npzfile import not_regular_file
from .sources import DataError, Split

#: Where the files are published (gzipped: shd_train.h5.gz, ...).
DOWNLOAD_PAGE = "https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/"
#: Samples read and binned at a time: bounds the memory of the raw events in flight.
CHUNK = 512


def file_name(kind: str, split: str) -> str:
    return f"{kind}_{split}.h5"


def split_paths(data: m.HeidelbergData, base_dir: Path) -> dict[str, Path]:
    """The files read: "train" and "test" (the file named by test_split)."""
    root = Path(base_dir) / data.path
    return {"train": root / file_name(data.kind, "train"), "test": root / file_name(data.kind, data.test_split)}


def heidelberg_missing(data: m.HeidelbergData, base_dir: Path) -> str | None:
    """One line saying which file is missing and how to get it; None when both are there."""
    for path in split_paths(data, base_dir).values():
        if (why := not_regular_file(path)) is None:
            continue
        zipped = path.with_name(path.name + ".gz")
        if not_regular_file(zipped) is None:
            return f"{path}: not there, but {zipped.name} is: decompress it first (gunzip -k {zipped})"
        if not path.exists():
            return (f"no such file: {path} ({event_set(data).classes}-class {data.kind.upper()}: download "
                    f"{path.name}.gz from {DOWNLOAD_PAGE} and gunzip it into {path.parent})")
        return why
    return None


def load_heidelberg(data: m.HeidelbergData, timesteps: int, dt: float | None, base_dir: Path) -> Split:
    if (missing := heidelberg_missing(data, base_dir)) is not None:
        raise DataError(missing)
    width = bin_width(data, timesteps, dt)
    parts = {split: _read(path, data, timesteps, width) for split, path in split_paths(data, base_dir).items()}
    return Split(parts["train"], parts["test"])


def _read(path: Path, data: m.HeidelbergData, timesteps: int, width: float) -> Dataset:
    import h5py

    size = input_size(data)
    channels = event_set(data).width
    width_us = max(1.0, float(np.rint(width * 1e6)))
    try:
        with h5py.File(path, "r") as f:
            for member in ("spikes/times", "spikes/units", "labels"):
                if member not in f:
                    raise DataError(f"{path}: no '{member}' in it: not an SHD/SSC file")
            times, units, labels = f["spikes/times"], f["spikes/units"], f["labels"]
            n = labels.shape[0]
            if times.shape != (n,) or units.shape != (n,):
                raise DataError(f"{path}: 'spikes/times' {list(times.shape)} and 'spikes/units' {list(units.shape)} "
                                f"must both have one entry per label ({n})")
            # the events never exceed the file's bytes over a (time, unit) pair's; 4 bytes each held, plus offsets
            pair = times.dtype.base.itemsize if times.dtype.kind != "O" else 4
            pair += units.dtype.base.itemsize if units.dtype.kind != "O" else 2
            need = 4 * path.stat().st_size // max(pair, 1) + 8 * n * timesteps
            if (problem := memory_problem(need, f"{path}: {n:,} samples as events")) is not None:
                raise DataError(problem)
            parts = []
            for lo in range(0, n, CHUNK):
                hi = min(n, lo + CHUNK)
                t_chunk, u_chunk = times[lo:hi], units[lo:hi]
                counts = np.fromiter((len(a) for a in t_chunk), dtype=np.int64, count=hi - lo)
                unit_counts = np.fromiter((len(a) for a in u_chunk), dtype=np.int64, count=hi - lo)
                if not np.array_equal(counts, unit_counts):
                    bad = lo + int(np.argmax(counts != unit_counts))
                    raise DataError(f"{path}: sample {bad} has {counts[bad - lo]} spike times but a different "
                                    "number of units")
                t = np.concatenate(list(t_chunk)).astype(np.float64) if counts.sum() else np.zeros(0)
                u = np.concatenate(list(u_chunk)).astype(np.int64) if counts.sum() else np.zeros(0, np.int64)
                if u.size and (u.min() < 0 or u.max() >= channels):
                    bad = lo + int(np.searchsorted(np.cumsum(counts), int(np.argmax((u < 0) | (u >= channels))), "right"))
                    raise DataError(f"{path}: sample {bad} has a unit outside 0-{channels - 1}")
                if t.size and not np.isfinite(t).all():
                    raise DataError(f"{path}: a spike time in samples {lo}-{hi - 1} is not a finite number")
                sample = np.repeat(np.arange(hi - lo), counts)
                step = np.floor_divide(np.rint(t * 1e6), width_us)
                keys = event_keys(sample, step, u // data.downsample, timesteps, size)
                parts.append(Dataset.from_keys(keys, labels[lo:hi].astype(np.int64), timesteps, size))
    except OSError as exc:
        raise DataError(f"{path}: cannot read it as HDF5 ({exc})") from None
    if not parts:
        raise DataError(f"{path}: holds no samples")
    return concat(parts)
