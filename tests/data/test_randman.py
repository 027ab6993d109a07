"""The Randman data set (snncc.data.randman) against facts worked out by hand: shapes, spike
counts, the time window that min-max standardisation fills, seeding, smoothness of the map
from manifold coordinates to spike times, and Fourier-series values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snncc.data import load_data
from snncc.data.randman import (SPECTRA, eval_manifold, f_cutoff, randman, randman_samples, random_function_1d,
                                sin_cycles, standardise)
from snncc.spec import models as m


def spec(**kw) -> m.RandmanData:
    base = dict(kind="randman", num_classes=4, samples_per_class=50, manifold_dim=1, alpha=2.0, seed=3)
    base.update(kw)
    return m.RandmanData(**base)


def test_shapes_dtypes_and_balanced_shuffled_labels():
    spikes, labels = randman(spec(), 30, 12)
    assert spikes.shape == (200, 30, 12) and spikes.dtype == np.uint8
    assert set(np.unique(spikes)) == {0, 1}
    assert labels.shape == (200,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [50] * 4
    assert np.any(np.diff(labels) < 0)  # shuffled, not class after class


def test_each_unit_spikes_once_per_sample():
    spikes, _ = randman(spec(manifold_dim=2), 40, 25)
    assert (spikes.sum(axis=1) == 1).all()


def test_several_spikes_per_unit_fewer_only_where_they_share_a_step():
    data = spec(spikes_per_unit=3, samples_per_class=100)
    spikes, labels = randman(data, 200, 16)
    steps, same_labels, _ = randman_samples(data, 200, 16)
    assert np.array_equal(labels, same_labels)
    counts = spikes.sum(axis=1)  # [N, units]
    # a unit's spikes in distinct steps, counted by hand from its three spike steps
    distinct = np.array([[len(set(steps[n, :, u].tolist())) for u in range(16)] for n in range(len(labels))])
    assert np.array_equal(counts, distinct)
    assert set(np.unique(counts)) <= {1, 2, 3}
    assert (counts == 3).mean() > 0.9  # the three manifolds are independent: collisions are rare
    n, s, u = np.indices(steps.shape)
    assert (spikes[n, steps, u] == 1).all()  # every spike step is in the raster


def test_deterministic_from_the_seed():
    a, la = randman(spec(), 30, 12)
    b, lb = randman(spec(), 30, 12)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    c, lc = randman(spec(seed=4), 30, 12)
    assert not np.array_equal(a, c) and not np.array_equal(la, lc)


@pytest.mark.parametrize("timesteps, fraction, dims", [(64, 0.25, 1), (50, 0.33, 2), (20, 1.0, 1), (100, 0.5, 12)])
def test_spikes_fill_the_first_time_fraction_of_the_window(timesteps, fraction, dims):
    # ceil(T x fraction) by hand: 16, 17 (16.5), 20, 50
    window = {(64, 0.25): 16, (50, 0.33): 17, (20, 1.0): 20, (100, 0.5): 50}[timesteps, fraction]
    channels = 8
    spikes, labels = randman(spec(time_fraction=fraction, manifold_dim=dims), timesteps, channels)
    assert spikes[:, window:, :].sum() == 0
    steps = spikes.argmax(axis=1)  # [N, units]: the one spike of each unit
    for c in range(4):
        # standardised over the class's samples, every unit's earliest value is 0 (step 0) and
        # its latest just below 1 (the last step of the window)
        assert steps[labels == c].min(axis=0).tolist() == [0] * channels
        assert steps[labels == c].max(axis=0).tolist() == [window - 1] * channels


def neighbour_and_random_gaps(data: m.RandmanData, timesteps: int, channels: int) -> tuple[float, float, float]:
    """For class 0 of a 1-d Randman: the mean over units of |spike step difference| between
    neighbours on the manifold (coordinates within 0.002), its mean and maximum over the pairs,
    and its mean over random pairs whose coordinates are more than 0.2 apart."""
    steps, labels, coords = randman_samples(data, timesteps, channels)
    assert coords.shape == (len(labels), 1) and (coords >= 0).all() and (coords < 1).all()
    x, t = coords[labels == 0, 0], steps[labels == 0, 0, :].astype(np.float64)
    order = np.argsort(x)
    x, t = x[order], t[order]
    near = np.abs(np.diff(t, axis=0)).mean(axis=1)[np.diff(x) < 0.002]
    i, j = np.random.default_rng(0).integers(0, len(x), (2, 2000))
    far = np.abs(t[i] - t[j]).mean(axis=1)[np.abs(x[i] - x[j]) > 0.2]
    assert len(near) > 50 and len(far) > 500
    return near.mean(), near.max(), far.mean()


def test_close_coordinates_give_close_spike_times():
    # 1000 steps; without structure neighbours would be as far apart as random pairs (ratio 1)
    near, near_max, far = neighbour_and_random_gaps(spec(samples_per_class=400, alpha=2.0), 1000, 40)
    assert near < 0.02 * far and near_max < 0.05 * far
    # smaller alpha, flatter spectrum: rougher manifolds, neighbours further apart
    rough, _, rough_far = neighbour_and_random_gaps(spec(samples_per_class=400, alpha=1.0), 1000, 40)
    assert rough / rough_far > 3 * near / far


def test_close_coordinates_give_close_spike_times_in_two_dimensions():
    steps, labels, coords = randman_samples(spec(samples_per_class=1000, manifold_dim=2), 1000, 30)
    x, t = coords[labels == 0], steps[labels == 0, 0, :].astype(np.float64)
    i, j = np.triu_indices(len(x), 1)
    dist = np.linalg.norm(x[i] - x[j], axis=1)
    close = dist < 0.01
    rand = np.random.default_rng(0).choice(np.flatnonzero(dist > 0.3), 5000, replace=False)
    near = np.abs(t[i[close]] - t[j[close]]).mean(axis=1)
    far = np.abs(t[i[rand]] - t[j[rand]]).mean(axis=1)
    assert len(near) > 50
    assert near.mean() < 0.08 * far.mean() and near.max() < 0.2 * far.mean()


def test_f_cutoff_by_hand():
    # min(ceil(1000^(1/alpha)), 1000): 1000^(1/2) = 31.6, 1000^(1/3) = 10, 1000^(1/16) = 1.54
    assert [f_cutoff(a) for a in (2.0, 3.0, 16.0, 1.0, 0.5)] == [32, 10, 2, 1000, 1000]


# One random function at x = 0.5 with three terms, alpha = 2 (sin of 2 pi times a quarter
# or three quarters of a cycle is +1 or -1):
#   numpy: term 0 dropped; term 1: 0.5 / 2^2 sin(2 pi (1 x 0.5 x 0.5 + 0)) = 0.125;
#          term 2: 0.9 / 3^2 sin(2 pi (2 x 0.5 x 0.25 + 0.5)) = -0.1.            Sum 0.025.
#   torch: the weights 1 / (k^2 + 1): 0.5 / 5 - 0.9 / 10.                         Sum 0.01.
A = ([0.3, 0.5, 0.9], [0.7, 0.5, 0.25], [0.25, 0.0, 0.5])
#   paper: harmonics 1, 2, 3, weights 1, 1/4, 1/9:
#          0.4 sin(2 pi 0.25) + 0.5 / 4 sin(2 pi (2 x 0.5 x 0.25)) + 0.9 / 9 sin(2 pi (3 x 0.5 x 0.5))
#          = 0.4 + 0.125 - 0.1 = 0.425.
B = ([0.4, 0.5, 0.9], [0.5, 0.25, 0.5], [0.0, 0.0, 0.0])


@pytest.mark.parametrize("spectrum, params, value", [("numpy", A, 0.025), ("torch", A, 0.01), ("paper", B, 0.425)])
def test_random_function_by_hand(spectrum, params, value):
    got = random_function_1d(np.array([0.5]), *params, alpha=2.0, spectrum=spectrum)[0]
    assert got == pytest.approx(value, abs=1e-15)
    # the vectorised manifold (its own sine), one unit and one dimension
    theta = np.array(params)[None, None]  # [1, 1, 3, 3]
    assert eval_manifold(np.array([[0.5]]), theta, 2.0, spectrum)[0, 0] == pytest.approx(value, abs=1e-15)


def test_manifold_is_the_product_over_dimensions_by_hand():
    # parameters A in both dimensions, at (0.5, 0.25). At x = 0.25 (numpy spectrum):
    # 0.125 sin(2 pi 0.125) + 0.1 sin(2 pi (2 x 0.25 x 0.25 + 0.5)) = 0.125 r - 0.1 r, r = sqrt(2)/2
    theta = np.stack([np.array(A), np.array(A)])[None]  # [1 unit, 2 dims, 3, 3]
    value = eval_manifold(np.array([[0.5, 0.25]]), theta, 2.0, "numpy")[0, 0]
    assert value == pytest.approx(0.025 * 0.025 * math.sqrt(2) / 2, abs=1e-16)


def test_vectorised_manifold_matches_term_by_term_evaluation():
    rng = np.random.default_rng(1)
    x = rng.random((300, 2))
    for spectrum in SPECTRA:
        theta = rng.random((5, 2, 3, f_cutoff(1.5)))
        got = eval_manifold(x, theta, 1.5, spectrum)
        for u in range(5):
            want = (random_function_1d(x[:, 0], *theta[u, 0], alpha=1.5, spectrum=spectrum)
                    * random_function_1d(x[:, 1], *theta[u, 1], alpha=1.5, spectrum=spectrum))
            assert np.abs(got[:, u] - want).max() < 1e-13


def test_sin_cycles():
    assert sin_cycles(np.array([0.0, 0.25, 0.5, 0.75, -0.25, 3.25])).tolist() == pytest.approx(
        [0.0, 1.0, 0.0, -1.0, -1.0, 1.0], abs=1e-15)
    t = np.random.default_rng(2).uniform(-2000, 2000, 200_000)
    reduced = t - np.rint(t)  # exact, so np.sin's argument carries no rounding of 2 pi t
    assert np.abs(sin_cycles(t) - np.sin(2 * np.pi * reduced)).max() < 1e-15


def test_standardise_by_hand():
    y = np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]])
    s = 2.0 * (1 + 1e-7)
    assert standardise(y).tolist() == [[0.0, 0.0], [2.0 / s, 0.0], [1.0 / s, 0.0]]


def test_spectra_differ_and_unknown_is_refused():
    a, _ = randman(spec(), 30, 12, spectrum="numpy")
    b, _ = randman(spec(), 30, 12, spectrum="paper")
    assert not np.array_equal(a, b)
    with pytest.raises(ValueError, match="unknown spectrum"):
        randman(spec(), 30, 12, spectrum="nope")


def test_load_data_splits_it():
    data = spec(num_classes=3, samples_per_class=40, test_fraction=0.25)
    split = load_data(data, 25, 10, 3)
    assert len(split.train) == 90 and len(split.test) == 30
    assert split.train.dense(np.arange(90)).sum(axis=1).tolist() == [[1] * 10] * 90
    labels = np.concatenate([split.train.labels, split.test.labels])
    assert np.bincount(labels).tolist() == [40] * 3
