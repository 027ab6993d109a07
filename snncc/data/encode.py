"""Spike encoders: intensities in [0, 1] -> spikes [N, T, channels] (uint8)."""

from __future__ import annotations

import numpy as np


def rate_encode(intensity: np.ndarray, timesteps: int, gain: float, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli rate coding (snntorch.spikegen.rate): each channel spikes at each timestep
    with probability min(1, gain x intensity), independently.

    Random numbers are drawn as one array of shape [N, T, channels] in C order, so a
    given generator state gives one fixed data set.
    """
    p = np.clip(gain * np.asarray(intensity, dtype=np.float64), 0.0, 1.0)
    draws = rng.random((p.shape[0], timesteps, p.shape[1]))
    return (draws < p[:, None, :]).astype(np.uint8)


def latency_encode(intensity: np.ndarray, timesteps: int, threshold: float) -> np.ndarray:
    """Time-to-first-spike coding, linear in intensity: one spike per channel at
    t = round((1 - x) (T - 1)), so x = 1 spikes at t = 0; channels with x < threshold never spike.
    Deterministic (no seed)."""
    x = np.clip(np.asarray(intensity, dtype=np.float64), 0.0, 1.0)
    n, channels = x.shape
    spikes = np.zeros((n, timesteps, channels), dtype=np.uint8)
    fire = x >= threshold
    times = np.rint((1.0 - x) * (timesteps - 1)).astype(np.int64)
    sample, channel = np.nonzero(fire)
    spikes[sample, times[sample, channel], channel] = 1
    return spikes
