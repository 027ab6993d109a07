"""Resource limits checked before anything is allocated, and bad files and options that get
one line: the arrays file, --threads, models too large for the torch backend and export-nir,
export-nir's checkpoint and --dt.

Oversized inputs are forged (an .npy header declaring a huge shape over a tiny body, a
model of 2^24-neuron populations), so no test allocates more than a few megabytes; the
machine's memory is fixed at 8 GiB (snncc.machine.machine_memory) so messages are exact.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile

import numpy as np
import pytest

from snncc.cli import main
from snncc import machine

from documents import ARRAYS, ARRAYS_MODEL, MARK

GIB = 1 << 30
MACHINE = 8 * GIB


@pytest.fixture(autouse=True)
def fixed_machine_memory(monkeypatch):
    monkeypatch.setattr(machine, "machine_memory", lambda: MACHINE)


def npy_member(shape, descr="<f8", body: bytes | None = None) -> bytes:
    """An .npy file (format 1.0: magic, header) whose header declares shape; body defaults to the full data."""
    from numpy.lib import format as npy_format

    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    if body is None:
        body = bytes(int(np.prod(shape)) * np.dtype(descr).itemsize)
    return buf.getvalue() + body


def write_npz(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> None:
    """An .npz as np.savez writes it: one NAME.npy member per array."""
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(f"{name}.npy", data)


def good_members() -> dict[str, bytes]:
    out = {}
    for name, value in ARRAYS.items():
        buf = io.BytesIO()
        np.save(buf, value)
        out[name] = buf.getvalue()
    return out


def validate(tmp_path, capsys, text: str = ARRAYS_MODEL) -> tuple[int, str]:
    path = tmp_path / "model.json"
    path.write_text(text.replace(MARK, ""), encoding="utf-8")
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


# --------------------------------------------------------------------------- the arrays file


def test_a_npy_file_is_named_as_such(tmp_path, capsys):
    np.save(tmp_path / "arr.npy", ARRAYS["w1"])
    os.replace(tmp_path / "arr.npy", tmp_path / "arr.npz")
    code, err = validate(tmp_path, capsys)
    assert code == 1
    assert one_line(err) == (f"{tmp_path / 'model.json'}:4:13: /arrays: cannot read {tmp_path / 'arr.npz'} as a NumPy "
                             ".npz file: it is a .npy file (one array), not an archive of named arrays: write it with "
                             "numpy.savez(FILE, NAME=array)")


def test_a_forged_huge_member_is_refused_by_its_header(tmp_path, capsys):
    members = good_members()
    members["w1"] = npy_member((10**12,), body=b"\0" * 64)  # declares 8 TB
    write_npz(tmp_path / "arr.npz", members)
    code, err = validate(tmp_path, capsys)
    assert code == 1
    assert one_line(err).endswith("/projections/0/initial_weights/array: array 'w1' has shape [1000000000000], "
                                  "expected [4, 3]")


def test_a_truncated_member_is_reported_not_read_past(tmp_path, capsys):
    members = good_members()
    members["w1"] = npy_member((4, 3), body=b"\0" * 40)  # 96 bytes declared
    write_npz(tmp_path / "arr.npz", members)
    code, err = validate(tmp_path, capsys)
    assert code == 1
    assert one_line(err).endswith("/projections/0/initial_weights/array: arr.npz: member 'w1' is truncated: its header "
                                  "declares [4, 3] float64 (96 bytes), it holds 40")


def test_unreferenced_members_are_never_inflated(tmp_path, capsys):
    members = good_members()
    members["forged"] = npy_member((10**12,), body=b"")  # would be 8 TB
    members["text"] = npy_member((3,), descr="<U5")
    write_npz(tmp_path / "arr.npz", members)
    # a corrupt deflate stream: reading it would raise zlib.error
    with zipfile.ZipFile(tmp_path / "arr.npz", "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb.npy", b"\0" * 100_000)
    raw = bytearray((tmp_path / "arr.npz").read_bytes())
    at = raw.rindex(b"bomb.npy", 0, len(raw) - 200) + len(b"bomb.npy")
    raw[at + 10 : at + 40] = b"\xff" * 30
    (tmp_path / "arr.npz").write_bytes(bytes(raw))
    code, err = validate(tmp_path, capsys)
    assert (code, err) == (0, "")


WIDE = json.dumps({
    "name": "wide", "timesteps": 10, "arrays": "arr.npz",
    "populations": [
        {"kind": "input", "id": "inp", "size": 4},
        {"kind": "neuron", "id": "hid", "size": 1 << 24, "neuron": {"model": "lif", "beta": 0.9}},
        {"kind": "neuron", "id": "out", "size": 2, "neuron": {"model": "lif", "beta": 0.9}},
    ],
    "projections": [
        {"id": "p1", "source": "inp", "target": "hid", "initial_weights": {"array": "w1"}},
        {"id": "p2", "source": "hid", "target": "out"},
    ],
    "readout": {"population": "out", "decoding": "spike_count"},
    "data": {"kind": "synthetic", "num_classes": 2, "num_samples": 8},
})


def test_a_referenced_member_too_large_for_memory(tmp_path, capsys, monkeypatch):
    # weights [4, 2^24] of the right shape, declared as 512 MiB of float64 over an empty body:
    # read and converted they need 1 GiB, more than a machine of 256 MiB has
    monkeypatch.setattr(machine, "machine_memory", lambda: 256 << 20)
    write_npz(tmp_path / "arr.npz", {"w1": npy_member((4, 1 << 24), body=b"")})
    code, err = validate(tmp_path, capsys, WIDE)
    assert code == 1
    column = WIDE.index('"w1"') + 1  # one line of JSON: the offset of the name
    assert one_line(err) == (f"{tmp_path / 'model.json'}:1:{column}: /projections/0/initial_weights/array: array 'w1' "
                             "[4, 16777216] needs 1.0 GiB of memory to read, this machine has 256.0 MiB")


def test_a_fifo_is_refused_without_blocking(tmp_path, capsys):
    os.mkfifo(tmp_path / "arr.npz")
    started = time.monotonic()
    code, err = validate(tmp_path, capsys)
    assert code == 1 and time.monotonic() - started < 10
    assert one_line(err) == f"{tmp_path / 'model.json'}:4:13: /arrays: {tmp_path / 'arr.npz'} is a FIFO, not a regular .npz file"


# --------------------------------------------------------------------------- --threads


@pytest.mark.parametrize("command", [["train", "{f}"], ["plan", "{f}", "--layout", "cpu"],
                                     ["compile", "{f}", "--layout", "cpu", "-o", "{d}"]])
def test_threads_beyond_64_per_cpu_are_refused(tmp_path, capsys, root, command):
    from snncc.machine import host_threads

    args = [a.format(f=root / "examples" / "digits.json", d=tmp_path / "out") for a in command]
    assert main([*args, "--threads", "1000000000"]) == 1
    cpus = host_threads()
    assert one_line(capsys.readouterr().err) == (
        f"snncc {command[0]}: error: --threads 1000000000 is more than 64 x the {cpus} CPUs this process may use "
        f"(at most {64 * cpus})")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- model sizes

HUGE = {
    "name": "huge", "timesteps": 10,
    "populations": [
        {"kind": "input", "id": "inp", "size": 8},
        {"kind": "neuron", "id": "h1", "size": 1 << 24, "neuron": {"model": "lif", "beta": 0.9}},
        {"kind": "neuron", "id": "h2", "size": 1 << 24, "neuron": {"model": "lif", "beta": 0.9}},
        {"kind": "neuron", "id": "out", "size": 2, "neuron": {"model": "lif", "beta": 0.9}},
    ],
    "projections": [
        {"id": "p1", "source": "inp", "target": "h1"},
        {"id": "p2", "source": "h1", "target": "h2"},
        {"id": "p3", "source": "h2", "target": "out"},
    ],
    "readout": {"population": "out", "decoding": "spike_count"},
    "data": {"kind": "synthetic", "num_classes": 2, "num_samples": 8},
}
#: p2's float32 weights alone: 2^48 x 4 bytes = 1,024 TiB.
HUGE_WEIGHTS_TIB = (1 << 48) * 4 / (1 << 40)


def _needed_tib(line: str) -> float:
    return float(re.search(r"needs at least ([\d,.]+) TiB", line).group(1).replace(",", ""))


def test_torch_backend_refuses_a_model_beyond_memory(tmp_path, capsys):
    (tmp_path / "huge.json").write_text(json.dumps(HUGE))
    started = time.monotonic()
    assert main(["train", str(tmp_path / "huge.json"), "--backend", "torch", "--run-dir", str(tmp_path / "run")]) == 1
    line = one_line(capsys.readouterr().err)
    assert time.monotonic() - started < 10
    assert line.startswith("snncc train: error: training model 'huge' with --backend torch (batch 32, 10 timesteps) "
                           "needs at least ") and line.endswith(" TiB of memory, this machine has 8.0 GiB")
    assert _needed_tib(line) >= 4 * HUGE_WEIGHTS_TIB  # weights, gradients, Adam's two moments


def test_export_nir_refuses_a_model_beyond_memory(tmp_path, capsys):
    (tmp_path / "huge.json").write_text(json.dumps(HUGE))
    assert main(["export-nir", str(tmp_path / "huge.json"), "-o", str(tmp_path / "huge.nir")]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("snncc export-nir: error: exporting model 'huge' needs at least ")
    assert line.endswith(" TiB of memory, this machine has 8.0 GiB")
    assert _needed_tib(line) >= HUGE_WEIGHTS_TIB
    assert not (tmp_path / "huge.nir").exists()


# --------------------------------------------------------------------------- export-nir options and checkpoints


@pytest.mark.parametrize("dt", ["inf", "nan", "0", "-1e-3"])
def test_export_dt_must_be_finite_and_positive(tmp_path, capsys, root, dt):
    out = tmp_path / "d.nir"
    assert main(["export-nir", str(root / "examples" / "digits.json"), "-o", str(out), f"--dt={dt}"]) == 1
    assert one_line(capsys.readouterr().err) == (
        f"snncc export-nir: error: --dt must be a finite number of seconds > 0, not {float(dt):g}")
    assert not out.exists()


def test_export_dt_beyond_float32_is_refused(tmp_path, capsys, root):
    out = tmp_path / "d.nir"
    assert main(["export-nir", str(root / "examples" / "digits.json"), "-o", str(out), "--dt=1e-300"]) == 1
    assert one_line(capsys.readouterr().err) == (
        "snncc export-nir: error: dt = 1e-300 s cannot be written as NIR's float32 time constants "
        "(it must lie in [1.17549e-38, 3.40282e+38] s)")
    assert not out.exists()


def _checkpoint(path, weights) -> None:
    import torch

    torch.save({"format": 1, "model": "digits", "epoch": 1, "wall_s": 0.0, "weights": weights, "optimizer": {}}, path)


@pytest.mark.parametrize("contents,message", [
    ({"weight.pixels_to_hidden": "a string", "weight.hidden_to_output": "another"},
     "checkpoint entry 'weight.pixels_to_hidden' is not a floating-point tensor (not a checkpoint written by snncc train)"),
    ("not a dict", "not a checkpoint written by snncc train"),
    (None, r"cannot read the checkpoint \(\w+\)"),  # a file torch.save did not write
    ("truncate", r"cannot read the checkpoint \(\w+\)"),
    ("nan", "checkpoint weight 'weight.pixels_to_hidden' holds NaN or infinite values"),
])
def test_export_checkpoints_that_hold_no_usable_tensors(tmp_path, capsys, root, contents, message):
    import torch

    ckpt = tmp_path / "checkpoint.bin"
    if contents is None:
        ckpt.write_bytes(b"this is not a torch file\n")
    elif contents in ("truncate", "nan"):
        weights = {"weight.pixels_to_hidden": torch.zeros(64, 256), "weight.hidden_to_output": torch.zeros(256, 10),
                   "bias.pixels_to_hidden": torch.zeros(256), "bias.hidden_to_output": torch.zeros(10)}
        if contents == "nan":
            weights["weight.pixels_to_hidden"][3, 4] = float("nan")
        _checkpoint(ckpt, weights)
        if contents == "truncate":
            ckpt.write_bytes(ckpt.read_bytes()[:2000])
    else:
        _checkpoint(ckpt, contents)
    out = tmp_path / "d.nir"
    code = main(["export-nir", str(root / "examples" / "digits.json"), "--checkpoint", str(ckpt), "-o", str(out)])
    assert code == 1
    line = one_line(capsys.readouterr().err)
    prefix = f"snncc export-nir: error: {ckpt}: "
    assert line.startswith(prefix) and re.fullmatch(message if "\\(" in message else re.escape(message),
                                                     line[len(prefix):]), line
    assert not out.exists()
