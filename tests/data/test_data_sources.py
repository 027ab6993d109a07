"""Data sources and encoders: determinism, shapes, encodings, splits, npz checks."""

from __future__ import annotations

import numpy as np
import pytest

from snncc.data import DataError, batch_order, latency_encode, load_data, rate_encode, split_indices
from snncc.spec import models as m


def dense(data):
    """A whole split as 0/1 bytes [N, T, channels]."""
    return data.dense(np.arange(len(data)))


def test_rate_encoding_rate_and_seed():
    x = np.array([[0.0, 0.25, 1.0, 0.5]])
    a = rate_encode(np.repeat(x, 50, axis=0), 200, 1.0, np.random.default_rng(0))
    b = rate_encode(np.repeat(x, 50, axis=0), 200, 1.0, np.random.default_rng(0))
    assert a.dtype == np.uint8 and a.shape == (50, 200, 4) and np.array_equal(a, b)
    assert a.mean(axis=(0, 1)) == pytest.approx([0.0, 0.25, 1.0, 0.5], abs=0.02)
    assert rate_encode(x, 10, 4.0, np.random.default_rng(0))[0, :, 1].all()  # gain 4 x 0.25 = 1


def test_latency_encoding_by_hand():
    s = latency_encode(np.array([[1.0, 0.5, 0.0, 0.005, 0.25]]), 11, threshold=0.01)
    assert s.sum(axis=1).tolist() == [[1, 1, 0, 0, 1]]
    # t = round((1 - x) (T - 1)): 0, 5, -, -, 7.5 -> 8 (round half to even)
    assert [int(np.argmax(s[0, :, c])) for c in (0, 1, 4)] == [0, 5, 8]


def test_split_and_batches_are_deterministic_partitions():
    train, test = split_indices(101, 0.25, seed=3)
    assert len(test) == 25 and len(train) == 76
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(101))
    again = split_indices(101, 0.25, seed=3)
    assert np.array_equal(train, again[0]) and not np.array_equal(test, split_indices(101, 0.25, seed=4)[1])
    b1, b2 = batch_order(76, 32, seed=0, epoch=1), batch_order(76, 32, seed=0, epoch=2)
    assert [len(b) for b in b1] == [32, 32, 12]
    assert sorted(np.concatenate(b1).tolist()) == list(range(76))
    assert all(np.array_equal(x, y) for x, y in zip(b1, batch_order(76, 32, seed=0, epoch=1)))
    assert not np.array_equal(b1[0], b2[0])


def test_digits_rate_split():
    data = m.DigitsData(kind="digits", encoding=m.RateEncoding(kind="rate"), seed=0)
    split = load_data(data, 25, 64, 10)
    assert dense(split.train).shape == (1348, 25, 64) and dense(split.test).shape == (449, 25, 64)
    assert set(np.unique(split.train.labels)) == set(range(10))
    assert not set(split.train.sample_ids) & set(split.test.sample_ids)
    again = load_data(data, 25, 64, 10)
    assert np.array_equal(dense(split.train), dense(again.train))


def test_synthetic_rates_and_balance():
    data = m.SyntheticData(kind="synthetic", num_classes=4, num_samples=400, spikes_per_step=6.0, seed=1)
    split = load_data(data, 20, 50, 4)
    spikes = np.concatenate([dense(split.train), dense(split.test)])
    assert spikes.shape == (400, 20, 50)
    assert spikes.sum(axis=2).mean() == pytest.approx(6.0, rel=0.1)  # expected spikes per step
    labels = np.concatenate([split.train.labels, split.test.labels])
    assert np.bincount(labels).tolist() == [100] * 4


def test_npz_spikes_and_events(tmp_path):
    labels = np.array([0, 1, 1, 0, 1, 0, 1, 0])
    events = np.array([[0, 0, 2], [3, 4, 1], [7, 1, 0]])
    np.savez(tmp_path / "ev.npz", events=events, labels=labels)
    split = load_data(m.NpzData(kind="npz", path="ev.npz", test_fraction=0.25), 5, 3, 2, tmp_path)
    spikes = np.zeros((8, 5, 3), np.uint8)
    spikes[events[:, 0], events[:, 1], events[:, 2]] = 1
    np.savez(tmp_path / "sp.npz", spikes=spikes.astype(bool), labels=labels)
    split2 = load_data(m.NpzData(kind="npz", path="sp.npz", test_fraction=0.25), 5, 3, 2, tmp_path)
    assert np.array_equal(dense(split.train), dense(split2.train))
    assert dense(split.train).sum() + dense(split.test).sum() == 3


@pytest.mark.parametrize("arrays,message", [
    ({"spikes": np.zeros((4, 5, 3))}, "no 'labels'"),
    ({"spikes": np.zeros((4, 6, 3)), "labels": np.zeros(4, int)}, "expected [4, 5, 3]"),
    ({"events": np.array([[0, 9, 0]]), "labels": np.zeros(4, int)}, "timestep 9, outside [0, 5)"),
    ({"spikes": np.full((4, 5, 3), 2), "labels": np.zeros(4, int)}, "only 0 and 1"),
    ({"spikes": np.zeros((4, 5, 3)), "labels": np.array([0, 1, 2, 3])}, "label 3 needs at least 4"),
])
def test_npz_errors_are_one_line(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError) as err:
        load_data(m.NpzData(kind="npz", path="bad.npz", test_fraction=0.5), 5, 3, 2, tmp_path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_digits_table_equals_load_digits_with_and_without_the_bundled_file(monkeypatch):
    """The digits file read directly equals scikit-learn's load_digits (the oracle), and
    without a findable scikit-learn package the loader falls back to load_digits."""
    import importlib.util

    from sklearn.datasets import load_digits

    from snncc.data import sources

    x, y = load_digits(return_X_y=True)
    pixels, labels = sources.digits_table()
    assert pixels.shape == (1797, 64) and np.array_equal(pixels, x)
    assert labels.dtype == np.int64 and np.array_equal(labels, y)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    fallback = sources.digits_table()
    assert np.array_equal(fallback[0], x) and np.array_equal(fallback[1], y)


def test_events_form_round_trips_dense_arrays():
    """Dataset's event form against numpy's own view of the same 0/1 array: dense() of any
    positions, subset(), and from_keys() with repeated and late events."""
    from snncc.data.dataset import Dataset, concat, event_keys

    rng = np.random.default_rng(5)
    spikes = (rng.random((7, 4, 9)) < 0.3).astype(np.uint8)
    spikes[2] = 0  # a silent sample
    data = Dataset.from_dense(spikes, np.arange(7) % 3)
    assert data.num_events == int(spikes.sum())
    pos = np.array([6, 2, 0, 6])
    assert np.array_equal(data.dense(pos), spikes[pos])
    sub = data.subset(pos)
    assert np.array_equal(dense(sub), spikes[pos]) and sub.labels.tolist() == [0, 2, 0, 0]
    assert np.array_equal(dense(concat([sub, data])), np.concatenate([spikes[pos], spikes]))
    # events (sample, timestep, channel): a repeat is one spike, timestep 4 of T = 4 is dropped
    keys = event_keys(np.array([1, 1, 0, 1, 0]), np.array([3, 3, 0, 4, 2]), np.array([5, 5, 8, 0, 1]), 4, 9)
    ev = Dataset.from_keys(keys, np.array([0, 1]), 4, 9)
    by_hand = np.zeros((2, 4, 9), np.uint8)
    by_hand[1, 3, 5] = by_hand[0, 0, 8] = by_hand[0, 2, 1] = 1
    assert np.array_equal(dense(ev), by_hand)
