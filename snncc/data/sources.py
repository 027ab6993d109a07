"""Data sources from the spec: scikit-learn digits, synthetic class-conditional Poisson, npz,
Randman, the Heidelberg spiking data sets' HDF5 files and tonic's data sets.

Every random draw comes from numpy Generators seeded with a tuple (spec seed, purpose),
so the encoding, the split and the batch order are independent streams that a given
spec always reproduces, on any machine and in any backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..spec import models as m
from .encode import latency_encode, rate_encode
from ..machine import memory_problem
from .dataset import Dataset, event_keys
from .npzfile import NpzArchive, NpzError, not_regular_file

# Purposes of the seeded streams (the second element of the seed tuple).
_ENCODE, _SPLIT, _GENERATE, _BATCHES = 1, 2, 3, 4
#: Samples drawn per chunk when generating: bounds memory, and fixes the stream layout.
_CHUNK = 256
#: scikit-learn's digits data set has this many samples.
DIGITS_SAMPLES = 1797
#: Copies of the data set that load_data's split makes (train and test subsets together).
SPLIT_COPIES = 1


class DataError(ValueError):
    """A data source that cannot be used (missing file, wrong shapes): a user error."""


@dataclass(frozen=True)
class Split:
    train: Dataset
    test: Dataset


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) sample indices: a seeded permutation, its first
    round(n x test_fraction) entries held out for testing."""
    perm = np.random.default_rng([seed, _SPLIT]).permutation(n)
    n_test = int(round(n * test_fraction))
    if not 0 < n_test < n:
        raise DataError(f"data: a test fraction of {test_fraction:g} leaves an empty split of {n} samples")
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def batch_order(n: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Positions in the training split for each batch of an epoch (epochs count from 1).

    A seeded permutation per epoch, cut into batches of batch_size; the last batch keeps
    the remainder. It depends only on (seed, epoch), so a resumed run sees the same order.
    """
    perm = np.random.default_rng([seed, _BATCHES, epoch]).permutation(n)
    return [perm[i : i + batch_size] for i in range(0, n, batch_size)]


def digits(data: m.DigitsData, timesteps: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits, pixel intensities scaled to [0, 1] (divided by 16), encoded."""
    pixels, labels = digits_table()
    intensity = pixels / 16.0
    enc = data.encoding
    if isinstance(enc, m.RateEncoding):
        rng = np.random.default_rng([data.seed, _ENCODE])
        spikes = np.concatenate(
            [rate_encode(intensity[i : i + _CHUNK], timesteps, enc.gain, rng) for i in range(0, len(intensity), _CHUNK)]
        )
    else:
        spikes = latency_encode(intensity, timesteps, enc.threshold)
    return spikes, labels


def digits_table() -> tuple[np.ndarray, np.ndarray]:
    """(pixels [1797, 64] float64, labels [1797] int64): scikit-learn's bundled digits file
    (datasets/data/digits.csv.gz, 64 pixel columns then the label, as load_digits reads it),
    read without importing scikit-learn (1.5 s of a digits run's start); load_digits where
    the file is not there."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt") as f:
                table = np.loadtxt(f, delimiter=",")
            return table[:, :-1], table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)


def synthetic(data: m.SyntheticData, timesteps: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Class-conditional Poisson spikes.

    Each class c has a rate profile p[c] over the channels: gamma(0.5)-distributed weights
    normalised so that the expected spikes per timestep are spikes_per_step (each rate
    clipped to 1). Labels are balanced (i mod classes, then shuffled). Sample i spikes
    with probability p[label_i] independently per timestep and channel.
    """
    rng = np.random.default_rng([data.seed, _GENERATE])
    weights = rng.gamma(0.5, size=(data.num_classes, channels))
    rates = np.clip(data.spikes_per_step * weights / weights.sum(axis=1, keepdims=True), 0.0, 1.0)
    labels = rng.permutation(np.arange(data.num_samples) % data.num_classes).astype(np.int64)
    chunks = []
    for i in range(0, data.num_samples, _CHUNK):
        p = rates[labels[i : i + _CHUNK]]
        chunks.append((rng.random((p.shape[0], timesteps, channels)) < p[:, None, :]).astype(np.uint8))
    return np.concatenate(chunks), labels


def _npz_labels_header(archive: NpzArchive, path: Path):
    if "labels" not in archive.members:
        raise DataError(f"{path}: no 'labels' array (found: {', '.join(archive.names) or 'none'})")
    head = archive.header("labels")
    if len(head.shape) != 1 or head.dtype.kind not in "iu":
        raise DataError(f"{path}: 'labels' must be a 1-d array of integers >= 0, not {head.dtype}{list(head.shape)}")
    return head


def _npz_plan(archive: NpzArchive, path: Path, timesteps: int, channels: int) -> tuple[str, int, int]:
    """From the headers alone: (spike member, samples N, peak bytes of loading); raises DataError."""
    labels = _npz_labels_header(archive, path)
    n = labels.shape[0]
    dense = n * timesteps * channels  # the uint8 data set [N, T, inputs]
    labels_bytes = labels.nbytes + 8 * n  # as stored, then as int64
    if "spikes" in archive.members:
        head = archive.header("spikes")
        if head.shape != (n, timesteps, channels):
            raise DataError(f"{path}: 'spikes' has shape {list(head.shape)}, expected [{n}, {timesteps}, {channels}] "
                            "(samples, the model's timesteps, the input population's size)")
        if not head.numeric:
            raise DataError(f"{path}: 'spikes' must hold only 0 and 1 (or booleans), not {head.dtype} values")
        # as stored, the 0/1 check's booleans, the uint8 copy and the split's
        return "spikes", n, labels_bytes + head.nbytes + dense + (1 + SPLIT_COPIES) * dense
    if "events" in archive.members:
        head = archive.header("events")
        if len(head.shape) != 2 or head.shape[1] != 3 or head.dtype.kind not in "iu":
            raise DataError(f"{path}: 'events' must be an integer array [E, 3] of (sample, timestep, channel)")
        return "events", n, labels_bytes + head.nbytes + 2 * head.size + (1 + SPLIT_COPIES) * dense
    raise DataError(f"{path}: needs a 'spikes' [N, T, inputs] or an 'events' [E, 3] array")


def _check_memory(needed: int, what: str) -> None:
    if (message := memory_problem(needed, what)) is not None:
        raise DataError(message)


def _open_npz(path: Path) -> NpzArchive:
    if (why := not_regular_file(path)) is not None:
        raise DataError(f"data: {why}")
    try:
        return NpzArchive(path)
    except NpzError as exc:
        raise DataError(f"{path}: cannot read it as .npz: {exc}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror})") from None


def npz(data: m.NpzData, timesteps: int, channels: int, base_dir: Path) -> Dataset:
    """A user's file: `spikes` [N, T, channels] or `events` [E, 3] (sample, timestep, channel), and `labels` [N].

    Only those members are read, after their headers' shapes matched and the memory fits."""
    path = Path(base_dir) / data.path
    with _open_npz(path) as archive:
        try:
            member, n, needed = _npz_plan(archive, path, timesteps, channels)
            _check_memory(needed, f"{path}: the data set ({n:,} samples x {timesteps} timesteps x {channels} inputs)")
            labels = archive.read("labels")
            found = archive.read(member)
        except NpzError as exc:
            raise DataError(f"{path}: {exc}") from None
    if (labels < 0).any():
        raise DataError(f"{path}: 'labels' must be a 1-d array of integers >= 0, not {labels.dtype}{list(labels.shape)}")
    if member == "spikes":
        if not np.isin(found, (0, 1)).all():
            raise DataError(f"{path}: 'spikes' must hold only 0 and 1 (or booleans)")
        return Dataset.from_dense(found.astype(np.uint8), labels)
    events = found
    for col, (name, limit) in enumerate((("sample", n), ("timestep", timesteps), ("channel", channels))):
        bad = (events[:, col] < 0) | (events[:, col] >= limit)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(f"{path}: events[{row}] has {name} {int(events[row, col])}, outside [0, {limit})")
    keys = event_keys(events[:, 0], events[:, 1], events[:, 2], timesteps, channels)
    return Dataset.from_keys(keys, labels, timesteps, channels)


def generated_need(data: m.DigitsData | m.SyntheticData | m.RandmanData, timesteps: int,
                   channels: int) -> tuple[int, str]:
    """(peak bytes, what) of encoding digits or generating synthetic or Randman data: the uint8
    data set, its chunks before concatenation and the split's copies, plus one chunk's float64 draws."""
    n = (DIGITS_SAMPLES if isinstance(data, m.DigitsData) else data.num_samples if isinstance(data, m.SyntheticData)
         else data.num_classes * data.samples_per_class)
    chunk = min(n, _CHUNK) * timesteps * channels
    needed = (1 + SPLIT_COPIES) * n * timesteps * channels + 9 * chunk
    return needed, f"data: the {data.kind} data set ({n:,} samples x {timesteps} timesteps x {channels} inputs)"


def data_memory_problem(data: m.Data, timesteps: int, channels: int, base_dir: Path | str | None) -> str | None:
    """Why the data set cannot be loaded on this machine, found before loading it (an npz
    file's member headers are read, nothing is inflated); None when it fits or when the
    file's problems are reported elsewhere (load_data reports them in full)."""
    if isinstance(data, m.NpzData):
        if base_dir is None:
            return None
        path = Path(base_dir) / data.path
        try:
            with _open_npz(path) as archive:
                _member, n, needed = _npz_plan(archive, path, timesteps, channels)
        except (DataError, NpzError) as exc:
            return str(exc) if isinstance(exc, DataError) else f"{path}: {exc}"
        what = f"{path}: the data set ({n:,} samples x {timesteps} timesteps x {channels} inputs)"
    elif isinstance(data, (m.HeidelbergData, m.TonicData)):
        return None  # their loaders check each file's size as they read it
    else:
        needed, what = generated_need(data, timesteps, channels)
    return memory_problem(needed, what)


def spec_data_problems(spec: m.ModelSpec, base_dir: Path | str | None) -> list[tuple[tuple[str | int, ...], str]]:
    """data_memory_problem of a schema-valid spec as (JSON path, message) pairs, like
    snncc.spec.semantic's checks (for validation; nothing when the spec has no input population)."""
    inputs = [p for p in spec.populations if isinstance(p, m.InputPopulation)]
    if not inputs:
        return []
    if isinstance(spec.data, (m.HeidelbergData, m.TonicData)):
        if base_dir is None:
            return []
        if isinstance(spec.data, m.HeidelbergData):
            from .heidelberg import heidelberg_missing as missing
        else:
            from .tonic_sets import tonic_missing as missing
        message = missing(spec.data, Path(base_dir))
        return [] if message is None else [(("data", "path"), message)]
    message = data_memory_problem(spec.data, spec.timesteps, inputs[0].size, base_dir)
    if message is None:
        return []
    where = ("data", "path") if isinstance(spec.data, m.NpzData) else ("data",)
    return [(where, message)]


def load_data(data: m.Data, timesteps: int, channels: int, num_classes: int, base_dir: Path | str = ".",
              dt: float | None = None) -> Split:
    """The spec's data set, encoded and split (deterministic from data.seed); the event data
    sets keep their files' own split.

    channels is the input population's size; num_classes the readout population's size; dt
    the model's seconds per timestep (the default bin width of event data).
    """
    if isinstance(data, (m.HeidelbergData, m.TonicData)):
        if isinstance(data, m.HeidelbergData):
            from .heidelberg import load_heidelberg as load
        else:
            from .tonic_sets import load_tonic as load
        split = load(data, timesteps, dt, Path(base_dir))
        _check_classes(np.concatenate([split.train.labels, split.test.labels]), num_classes)
        return split
    if isinstance(data, (m.DigitsData, m.SyntheticData, m.RandmanData)):
        _check_memory(*generated_need(data, timesteps, channels))
    if isinstance(data, m.DigitsData):
        whole = Dataset.from_dense(*digits(data, timesteps))
    elif isinstance(data, m.SyntheticData):
        whole = Dataset.from_dense(*synthetic(data, timesteps, channels))
    elif isinstance(data, m.RandmanData):
        from .randman import randman

        whole = Dataset.from_dense(*randman(data, timesteps, channels))
    else:
        whole = npz(data, timesteps, channels, Path(base_dir))
    if whole.size != channels:
        raise DataError(f"data: {whole.size} input channels, but the input population has {channels} neurons")
    _check_classes(whole.labels, num_classes)
    train, test = split_indices(len(whole), data.test_fraction, data.seed)
    return Split(whole.subset(train), whole.subset(test))


def _check_classes(labels: np.ndarray, num_classes: int) -> None:
    if labels.size and labels.max() >= num_classes:
        raise DataError(f"data: label {int(labels.max())} needs at least {int(labels.max()) + 1} readout neurons, "
                        f"the readout population has {num_classes}")
