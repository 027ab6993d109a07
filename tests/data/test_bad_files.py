"""Damaged data files and data sets too large for memory: one line naming the file, found
before anything is allocated (headers are forged, nothing here allocates more than a few MB)."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile

import numpy as np
import pytest

from snncc.cli import main
from snncc import machine
from snncc.data import DataError, data_memory_problem, load_data, spec_data_problems
from snncc.spec import load_spec
from snncc.spec import models as m

MACHINE = 8 << 30


@pytest.fixture(autouse=True)
def fixed_machine_memory(monkeypatch):
    monkeypatch.setattr(machine, "machine_memory", lambda: MACHINE)


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def forged_npy(shape, descr: str) -> bytes:
    """An .npy header (magic included) declaring shape, with no data after it."""
    from numpy.lib import format as npy_format

    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def good_npz(path) -> None:
    rng = np.random.default_rng(0)
    np.savez_compressed(path, spikes=(rng.random((40, 5, 3)) < 0.3), labels=np.arange(40) % 2)


def npz_data(name: str) -> m.NpzData:
    return m.NpzData(kind="npz", path=name)


def data_error(tmp_path, name: str) -> str:
    with pytest.raises(DataError) as info:
        load_data(npz_data(name), 5, 3, 2, tmp_path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_truncated_npz_names_the_file(tmp_path):
    good_npz(tmp_path / "d.npz")
    raw = (tmp_path / "d.npz").read_bytes()
    (tmp_path / "d.npz").write_bytes(raw[: len(raw) // 2])  # the central directory is gone
    assert data_error(tmp_path, "d.npz") == (f"{tmp_path / 'd.npz'}: cannot read it as .npz: it is a damaged or "
                                             "truncated zip archive (BadZipFile: File is not a zip file)")


def test_a_corrupt_deflate_stream_names_the_file_and_member(tmp_path):
    with zipfile.ZipFile(tmp_path / "d.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("labels.npy", npy_bytes(np.arange(40) % 2))
        z.writestr("spikes.npy", npy_bytes(np.zeros((40, 5, 3), np.uint8)))
    raw = bytearray((tmp_path / "d.npz").read_bytes())
    at = raw.index(b"spikes.npy") + len(b"spikes.npy")  # the local header's name, then the deflate stream
    raw[at + 2 : at + 20] = b"\xff" * 18
    (tmp_path / "d.npz").write_bytes(bytes(raw))
    message = data_error(tmp_path, "d.npz")
    assert message.startswith(f"{tmp_path / 'd.npz'}: member 'spikes' ")
    assert "zlib" in message or "BadZipFile" in message or "Error" in message


def test_a_forged_terabyte_data_set_is_refused_before_reading(tmp_path):
    n = 10**11
    with zipfile.ZipFile(tmp_path / "d.npz", "w") as z:
        z.writestr("labels.npy", forged_npy((n,), "<i8"))
        z.writestr("spikes.npy", forged_npy((n, 5, 3), "|u1"))
    # labels as stored and as int64; spikes as stored, their 0/1 check, the uint8 copy, the split's copy
    expected = (f"{tmp_path / 'd.npz'}: the data set (100,000,000,000 samples x 5 timesteps x 3 inputs) needs "
                f"{(8 + 8 + 15 + 15 + 15 + 15) * n / (1 << 40):,.1f} TiB of memory, this machine has 8.0 GiB")
    assert data_error(tmp_path, "d.npz") == expected
    assert data_memory_problem(npz_data("d.npz"), 5, 3, tmp_path) == expected


def test_a_forged_header_that_fits_in_memory_is_truncated(tmp_path):
    with zipfile.ZipFile(tmp_path / "d.npz", "w") as z:
        z.writestr("labels.npy", npy_bytes(np.arange(40) % 2))
        z.writestr("spikes.npy", forged_npy((40, 5, 3), "|u1"))
    assert data_error(tmp_path, "d.npz") == (f"{tmp_path / 'd.npz'}: member 'spikes' is truncated: its header "
                                             "declares [40, 5, 3] uint8 (600 bytes), it holds 0")


def test_a_fifo_data_path_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "d.npz")
    started = time.monotonic()
    assert data_error(tmp_path, "d.npz") == f"data: {tmp_path / 'd.npz'} is a FIFO, not a regular .npz file"
    assert data_memory_problem(npz_data("d.npz"), 5, 3, tmp_path) == f"data: {tmp_path / 'd.npz'} is a FIFO, not a regular .npz file"
    assert time.monotonic() - started < 10


def test_a_npy_data_file(tmp_path):
    np.save(tmp_path / "d.npy", np.zeros(3))
    os.replace(tmp_path / "d.npy", tmp_path / "d.npz")
    assert data_error(tmp_path, "d.npz").startswith(f"{tmp_path / 'd.npz'}: cannot read it as .npz: it is a .npy file")


def test_synthetic_data_beyond_memory(tmp_path):
    data = m.SyntheticData(kind="synthetic", num_classes=2, num_samples=10**9)
    with pytest.raises(DataError) as info:
        load_data(data, 100, 700, 2)
    needed = 2 * 10**9 * 100 * 700 + 9 * 256 * 100 * 700  # the data set twice (generated, split) and a chunk's draws
    assert str(info.value) == (f"data: the synthetic data set (1,000,000,000 samples x 100 timesteps x 700 inputs) "
                               f"needs {needed / (1 << 40):,.1f} TiB of memory, this machine has 8.0 GiB")
    assert data_memory_problem(data, 100, 700, None) == str(info.value)
    assert data_memory_problem(m.SyntheticData(kind="synthetic", num_samples=1000), 100, 700, None) is None


SPEC = {
    "name": "big", "timesteps": 100,
    "populations": [{"kind": "input", "id": "inp", "size": 700},
                    {"kind": "neuron", "id": "out", "size": 2, "neuron": {"model": "lif", "beta": 0.9}}],
    "projections": [{"id": "p", "source": "inp", "target": "out"}],
    "readout": {"population": "out", "decoding": "spike_count"},
    "data": {"kind": "synthetic", "num_classes": 2, "num_samples": 10**9},
}


def test_spec_data_problems_for_validation(tmp_path):
    (tmp_path / "big.json").write_text(json.dumps(SPEC))
    problems = spec_data_problems(load_spec(tmp_path / "big.json"), tmp_path)
    assert [where for where, _ in problems] == [("data",)]
    assert problems[0][1].startswith("data: the synthetic data set (1,000,000,000 samples")


@pytest.mark.parametrize("backend", ["host", "torch"])
def test_train_refuses_it_at_once(tmp_path, capsys, backend):
    (tmp_path / "big.json").write_text(json.dumps(SPEC))
    started = time.monotonic()
    assert main(["train", str(tmp_path / "big.json"), "--backend", backend, "--run-dir", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert time.monotonic() - started < 10
    assert err.count("\n") == 1 and err.startswith("snncc train: error: data: the synthetic data set "
                                                   "(1,000,000,000 samples x 100 timesteps x 700 inputs) needs "), err
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
