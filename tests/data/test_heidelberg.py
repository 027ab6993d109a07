"""SHD and SSC from HDF5 files in the published layout (spikes/times in seconds, spikes/units,
labels; written here with h5py, nothing downloaded): binning against counts computed by
hand, the files' own split, one-line errors, and a training run through both backends."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from snncc.data import DataError, load_data
from snncc.data.heidelberg import heidelberg_missing
from snncc.spec import models as m


def write_h5(path, samples, labels):
    """samples: per sample (times in seconds, units), as the published files hold them
    (variable-length float and uint16 arrays)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (len(samples),), dtype=h5py.vlen_dtype(np.dtype("float32")))
        units = f.create_dataset("spikes/units", (len(samples),), dtype=h5py.vlen_dtype(np.dtype("uint16")))
        for i, (t, u) in enumerate(samples):
            times[i] = np.asarray(t, np.float32)
            units[i] = np.asarray(u, np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, np.uint16))
        f.create_dataset("extra/speaker", data=np.zeros(len(samples), np.uint16))


def dense(data):
    return data.dense(np.arange(len(data)))


def shd(**fields):
    return m.HeidelbergData(kind=fields.pop("kind", "shd"), path="shd", **fields)


def test_binning_by_hand(tmp_path):
    # bin width 0.25 s, T = 4 (1 s): times in bins floor(t / 0.25)
    train = [
        ([0.0, 0.1, 0.3, 0.3, 0.99, 1.0, 1.3], [5, 5, 699, 7, 0, 3, 3]),  # 0.0 and 0.1: one spike; 1.0 and later: dropped
        ([], []),  # a silent recording
        ([0.5, 0.51, 0.74], [10, 11, 11]),
    ]
    write_h5(tmp_path / "shd" / "shd_train.h5", train, [3, 19, 0])
    write_h5(tmp_path / "shd" / "shd_test.h5", [([0.26], [698])], [7])
    split = load_data(shd(bin_width=0.25), 4, 700, 20, tmp_path)
    expected = np.zeros((3, 4, 700), np.uint8)
    expected[0, 0, 5] = expected[0, 1, 699] = expected[0, 1, 7] = expected[0, 3, 0] = 1
    expected[2, 2, 10] = expected[2, 2, 11] = 1
    assert np.array_equal(dense(split.train), expected)
    assert split.train.labels.tolist() == [3, 19, 0]  # the file's order and split, no shuffling
    assert split.test.labels.tolist() == [7] and np.argwhere(dense(split.test)).tolist() == [[0, 1, 698]]


def test_downsample_and_bin_width_defaults(tmp_path):
    write_h5(tmp_path / "shd" / "shd_train.h5", [([0.05, 0.06, 0.7], [4, 5, 699])], [1])
    write_h5(tmp_path / "shd" / "shd_test.h5", [([0.0], [0])], [0])
    # channels c // 4 (175 of them): 4 and 5 merge into channel 1, 699 -> 174
    split = load_data(shd(downsample=4, duration=1.0), 10, 175, 20, tmp_path)  # bins of 0.1 s
    assert np.argwhere(dense(split.train)[0]).tolist() == [[0, 1], [7, 174]]
    # the model's dt is the default bin width: 0.06 s bins, 0.06 s -> bin 1, 0.7 s -> bin 11, beyond T = 10
    split = load_data(shd(downsample=4), 10, 175, 20, tmp_path, dt=0.06)
    assert np.argwhere(dense(split.train)[0]).tolist() == [[0, 1], [1, 1]]
    # without either: 1.4 s over the timesteps (0.14 s bins): 0.7 s -> bin 5
    split = load_data(shd(downsample=4), 10, 175, 20, tmp_path)
    assert np.argwhere(dense(split.train)[0]).tolist() == [[0, 1], [5, 174]]


def test_ssc_reads_the_valid_file_when_asked(tmp_path):
    for split, label in (("train", 34), ("valid", 1), ("test", 2)):
        write_h5(tmp_path / "shd" / f"ssc_{split}.h5", [([0.0], [0])], [label])
    assert load_data(shd(kind="ssc", test_split="valid"), 5, 700, 35, tmp_path).test.labels.tolist() == [1]
    assert load_data(shd(kind="ssc"), 5, 700, 35, tmp_path).test.labels.tolist() == [2]


def test_missing_and_zipped_files_are_one_line(tmp_path):
    message = heidelberg_missing(shd(), tmp_path)
    assert str(tmp_path / "shd" / "shd_train.h5") in message and "zenkelab.org" in message and "\n" not in message
    write_h5(tmp_path / "shd" / "shd_train.h5", [([0.0], [0])], [0])
    (tmp_path / "shd" / "shd_test.h5.gz").write_bytes(b"\x1f\x8b")
    assert "gunzip" in heidelberg_missing(shd(), tmp_path)
    with pytest.raises(DataError, match="gunzip"):
        load_data(shd(), 5, 700, 20, tmp_path)


@pytest.mark.parametrize("bad,message", [
    ("not hdf5", "cannot read it as HDF5"),
    ("no labels", "no 'labels' in it"),
    ("unit 700", "sample 0 has a unit outside 0-699"),
])
def test_bad_files_are_one_line(tmp_path, bad, message):
    path = tmp_path / "shd" / "shd_train.h5"
    write_h5(tmp_path / "shd" / "shd_test.h5", [([0.0], [0])], [0])
    if bad == "not hdf5":
        path.write_text("hello")
    elif bad == "no labels":
        write_h5(path, [([0.0], [0])], [0])
        with h5py.File(path, "a") as f:
            del f["labels"]
    else:
        write_h5(path, [([0.0, 0.1], [3, 700])], [0])
    with pytest.raises(DataError) as err:
        load_data(shd(), 5, 700, 20, tmp_path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_validation_rules(tmp_path):
    from snncc.spec import SpecError, parse_spec

    doc = {"name": "s", "timesteps": 10,
           "populations": [{"kind": "input", "id": "i", "size": 700}, {"kind": "neuron", "id": "o", "size": 20,
                                                                     "neuron": {"model": "lif", "beta": 0.9}}],
           "projections": [{"id": "p", "source": "i", "target": "o"}],
           "readout": {"population": "o", "decoding": "spike_count"},
           "data": {"kind": "shd", "path": "shd", "downsample": 2, "bin_width": 0.01, "duration": 1.0,
                    "test_split": "valid"}}
    with pytest.raises(SpecError) as err:
        parse_spec(json.dumps(doc))
    text = str(err.value)
    assert "SHD has 350 input channels after downsample 2, not 700" in text
    assert "give bin_width or duration, not both" in text and "SHD has no 'valid' split" in text


@pytest.mark.slow
def test_trains_the_same_on_both_backends(tmp_path):
    """A small SHD file through `snncc train`: the generated program (reading the events file)
    and the torch reference give the same losses epoch by epoch."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 20, 40)
    samples = []
    for y in labels:
        k = int(rng.integers(20, 120))
        samples.append((np.sort(rng.random(k)), (y * 35 + rng.integers(0, 35, k)) % 700))
    write_h5(tmp_path / "shd" / "shd_train.h5", samples[:30], labels[:30])
    write_h5(tmp_path / "shd" / "shd_test.h5", samples[30:], labels[30:])
    spec = {"name": "shd_small", "timesteps": 20,
            "populations": [{"kind": "input", "id": "cochlea", "size": 175, "sparsity": {"max_spikes": 6}},
                            {"kind": "neuron", "id": "hidden", "size": 32, "neuron": {"model": "lif", "beta": 0.9}},
                            {"kind": "neuron", "id": "out", "size": 20, "neuron": {"model": "lif", "beta": 0.9}}],
            "projections": [{"id": "a", "source": "cochlea", "target": "hidden"},
                            {"id": "b", "source": "hidden", "target": "out"}],
            "readout": {"population": "out", "decoding": "spike_count"},
            "training": {"batch_size": 8, "epochs": 2},
            "data": {"kind": "shd", "path": "shd", "downsample": 4, "duration": 1.0}}
    (tmp_path / "m.json").write_text(json.dumps(spec))
    rows = {}
    for backend in ("host", "torch"):
        run = tmp_path / backend
        subprocess.run([sys.executable, "-m", "snncc", "train", str(tmp_path / "m.json"), "--backend", backend,
                        "--run-dir", str(run), "--quiet"], check=True, capture_output=True)
        rows[backend] = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for h, t in zip(rows["host"], rows["torch"], strict=True):
        assert h["train_loss"] == pytest.approx(t["train_loss"], rel=1e-4)
        assert h["test_loss"] == pytest.approx(t["test_loss"], rel=1e-4)
    # the input capacity (6 of up to ~9 spikes per step) overflowed, and both counted it alike
    host, torch = (rows[b][0]["populations"]["cochlea"] for b in ("host", "torch"))
    assert host["overflow"] == torch["overflow"] > 0 and host["spike_rate"] == pytest.approx(torch["spike_rate"])


def test_validate_notes_missing_files_without_failing(tmp_path, capsys):
    """The model file is valid wherever the data is: `snncc validate` says valid (exit 0) and
    notes, in one line, the file `snncc train` would miss."""
    from snncc.cli import main

    doc = {"name": "s", "timesteps": 10,
           "populations": [{"kind": "input", "id": "i", "size": 700}, {"kind": "neuron", "id": "o", "size": 20,
                                                                     "neuron": {"model": "lif", "beta": 0.9}}],
           "projections": [{"id": "p", "source": "i", "target": "o"}],
           "readout": {"population": "o", "decoding": "spike_count"},
           "data": {"kind": "shd", "path": "shd"}}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{path}: valid"
    assert err.count("\n") == 1 and "note: the data is not here yet" in err and "shd_train.h5" in err
    write_h5(tmp_path / "shd" / "shd_train.h5", [([0.0], [0])], [0])
    write_h5(tmp_path / "shd" / "shd_test.h5", [([0.0], [0])], [0])
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err == ""
