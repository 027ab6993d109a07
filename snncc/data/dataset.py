"""A binned spike data set, held as events: what every source produces and every backend reads.

Sample n's spikes at timestep t are the input channels
`channels[offsets[n T + t] : offsets[n T + t + 1]]`, ascending and each at most once (the
compressed-row form of the 0/1 array [N, T, channels]). Event data sets (SHD, SSC, N-MNIST)
are mostly empty: SSC's 75,466 training samples at T = 100 are 5.3 GB as dense bytes but
a few hundred MB as events, so nothing holds more than one batch densely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """offsets int64 [N T + 1], channels uint32 [E], labels int64 [N], and each sample's index
    in the whole data set before the split (for error messages and plots)."""

    offsets: np.ndarray
    channels: np.ndarray
    labels: np.ndarray
    sample_ids: np.ndarray
    timesteps: int
    size: int

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_events(self) -> int:
        return int(self.channels.shape[0])

    def _rows(self, positions: np.ndarray) -> np.ndarray:
        """Row indices (sample x T + t) of the given samples, sample-major."""
        positions = np.asarray(positions, dtype=np.int64)
        return (positions[:, None] * self.timesteps + np.arange(self.timesteps)).reshape(-1)

    def dense(self, positions: np.ndarray) -> np.ndarray:
        """The given samples as uint8 0/1 [n, T, channels]."""
        rows = self._rows(positions)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        counts = ends - starts
        out = np.zeros((rows.size, self.size), dtype=np.uint8)
        out[np.repeat(np.arange(rows.size), counts), self.channels[_gather(starts, counts)]] = 1
        return out.reshape(len(positions), self.timesteps, self.size)

    def subset(self, positions: np.ndarray) -> "Dataset":
        positions = np.asarray(positions, dtype=np.int64)
        rows = self._rows(positions)
        starts = self.offsets[rows]
        counts = self.offsets[rows + 1] - starts
        offsets = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return Dataset(offsets, self.channels[_gather(starts, counts)], self.labels[positions],
                       self.sample_ids[positions], self.timesteps, self.size)

    @staticmethod
    def from_dense(spikes: np.ndarray, labels: np.ndarray, sample_ids: np.ndarray | None = None) -> "Dataset":
        """From 0/1 spikes [N, T, channels]."""
        n, timesteps, size = spikes.shape
        rows, channels = np.nonzero(spikes.reshape(n * timesteps, size))  # row-major: ascending channels per row
        return Dataset(_offsets(rows, n * timesteps), channels.astype(np.uint32), np.asarray(labels, dtype=np.int64),
                       np.arange(n) if sample_ids is None else np.asarray(sample_ids), timesteps, size)

    @staticmethod
    def from_keys(keys: np.ndarray, labels: np.ndarray, timesteps: int, size: int) -> "Dataset":
        """From the sorted, unique int64 keys (sample x T + timestep) x size + channel of its spikes."""
        rows, channels = np.divmod(keys, size)
        n = len(labels)
        return Dataset(_offsets(rows, n * timesteps), channels.astype(np.uint32), np.asarray(labels, dtype=np.int64),
                       np.arange(n), timesteps, size)


def event_keys(sample: np.ndarray, timestep: np.ndarray, channel: np.ndarray, timesteps: int, size: int) -> np.ndarray:
    """The sorted, unique keys of events (sample, timestep, channel) whose timestep lies in
    [0, timesteps): repeats within a bin become one spike, later events are dropped."""
    timestep = np.asarray(timestep)
    keep = (timestep >= 0) & (timestep < timesteps)
    keys = (np.asarray(sample)[keep].astype(np.int64) * timesteps + timestep[keep].astype(np.int64)) * size
    keys = np.sort(keys + np.asarray(channel)[keep].astype(np.int64))
    # np.unique without its bookkeeping: tens of times faster on numpy 2 for millions of keys
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys


def concat(parts: list[Dataset]) -> Dataset:
    """Samples of several data sets of one shape, in order (sample ids renumbered from 0)."""
    first = parts[0]
    offsets = [np.zeros(1, dtype=np.int64)]
    base = 0
    for p in parts:
        offsets.append(p.offsets[1:] + base)
        base += p.num_events
    labels = np.concatenate([p.labels for p in parts])
    return Dataset(np.concatenate(offsets), np.concatenate([p.channels for p in parts]), labels,
                   np.arange(len(labels)), first.timesteps, first.size)


def _offsets(rows: np.ndarray, num_rows: int) -> np.ndarray:
    offsets = np.zeros(num_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=num_rows), out=offsets[1:])
    return offsets


def _gather(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The indices starts[i] .. starts[i] + counts[i] - 1 of every i, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - counts), counts)
