"""Bad input, as a user types it: each case runs `python -m snncc` in a fresh process and
must end with exit 1 and one-line errors (never a traceback, a hang or a MemoryError),
within 10 s of CPU time (what the work costs, whatever else the machine runs) and 60 s of
wall-clock time (a hang), changing nothing it did not write itself."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DIGITS = json.loads((ROOT / "examples" / "digits.json").read_text())
SECONDS = 10.0


def snncc(*argv, cwd: Path, timeout: float = 60, **env_vars: str) -> tuple[int, str, str, float, int]:
    """(exit code, stdout, stderr, CPU seconds, peak memory of the child in MiB); a child
    still running after `timeout` wall-clock seconds fails the test (subprocess.TimeoutExpired)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **env_vars)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-m", "snncc", *map(str, argv)], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak = max(after.ru_maxrss, before.ru_maxrss) // 1024
    return proc.returncode, proc.stdout, proc.stderr, cpu, peak


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(path.rglob("*")) if not p.is_fifo()}


def model(tmp: Path, name: str = "model.json", **changes) -> Path:
    doc = json.loads(json.dumps(DIGITS))
    doc.pop("$schema")
    for key, value in changes.items():
        doc[key] = value
    path = tmp / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def huge_model(tmp: Path) -> Path:
    n = 2**24
    return model(tmp, populations=[
        {"kind": "input", "id": "a", "size": n},
        {"kind": "neuron", "id": "b", "size": n, "neuron": {"model": "lif", "beta": 0.9}},
    ], projections=[{"id": "ab", "source": "a", "target": "b"}], readout={"population": "b", "decoding": "spike_count"},
        data={"kind": "synthetic", "num_classes": 10, "num_samples": 20})


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def forged_npz(path: Path, member: str, shape: tuple[int, ...]) -> None:
    """An npz whose member's header declares `shape` float64 values, with almost no data."""
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member + ".npy", buf.getvalue() + b"\0" * 64)


def _case_nesting(tmp):
    (tmp / "model.json").write_text('{"name": ' + "[" * 1000 + "]" * 1000 + "}")
    return ["validate", "model.json"]


def _case_long_integer(tmp):
    (tmp / "model.json").write_text('{"timesteps": ' + "7" * 5000 + "}")
    return ["validate", "model.json"]


def _case_tiny_clock(tmp):
    model(tmp, target={"clock_hz": 1e-300})
    return ["plan", "model.json"]


def _case_tiny_clock_json(tmp):
    model(tmp, target={"clock_hz": 1e-300})
    return ["plan", "model.json", "--json"]


def _validate_beta_from(tmp, arrays: str) -> list[str]:
    """`validate` of digits with the hidden population's beta from array 'beta' of `arrays`."""
    m = model(tmp, arrays=arrays)
    doc = json.loads(m.read_text())
    doc["populations"][1]["neuron"]["beta"] = {"array": "beta"}
    m.write_text(json.dumps(doc))
    return ["validate", "model.json"]


def _case_arrays_npy(tmp):
    (tmp / "w.npy").write_bytes(npy_bytes(np.zeros(256)))
    return _validate_beta_from(tmp, "w.npy")


def _case_arrays_declared_huge(tmp):
    forged_npz(tmp / "a.npz", "beta", (10**12,))
    return _validate_beta_from(tmp, "a.npz")


def _case_arrays_fifo(tmp):
    os.mkfifo(tmp / "a.npz")
    return _validate_beta_from(tmp, "a.npz")


def _data_npz(tmp, damage):
    spikes = np.zeros((40, 25, 64), np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, spikes=spikes, labels=np.arange(40) % 10)
    data = damage(buf.getvalue())
    (tmp / "d.npz").write_bytes(data)
    model(tmp, data={"kind": "npz", "path": "d.npz"})
    return ["train", "model.json", "--backend", "torch", "--epochs", "1", "--run-dir", "run", "--quiet"]


def _case_data_truncated(tmp):
    return _data_npz(tmp, lambda b: b[: len(b) // 2])


def _case_data_corrupt(tmp):
    return _data_npz(tmp, lambda b: b[:200] + bytes(x ^ 0x5A for x in b[200:400]) + b[400:])


def _case_synthetic_terabytes(tmp):
    model(tmp, data={"kind": "synthetic", "num_classes": 10, "num_samples": 10**12})
    return ["train", "model.json", "--backend", "torch", "--epochs", "1", "--run-dir", "run", "--quiet"]


def _case_torch_huge_model(tmp):
    huge_model(tmp)
    return ["train", "model.json", "--backend", "torch", "--epochs", "1", "--run-dir", "run", "--quiet"]


def _case_export_huge_model(tmp):
    huge_model(tmp)
    return ["export-nir", "model.json", "-o", "out.nir"]


def _case_export_checkpoint_not_tensors(tmp):
    import torch

    model(tmp)
    torch.save({"format": "x", "weights": {"pixels_to_hidden": "not a tensor"}}, tmp / "ckpt.bin")
    return ["export-nir", "model.json", "--checkpoint", "ckpt.bin", "-o", "out.nir"]


def _case_export_dt_inf(tmp):
    model(tmp)
    return ["export-nir", "model.json", "--dt", "inf", "-o", "out.nir"]


def _case_threads_huge(tmp):
    model(tmp)
    return ["train", "model.json", "--threads", "1000000000", "--run-dir", "run", "--quiet"]


def _case_train_epochs_beyond_memory(tmp):
    model(tmp)
    return ["train", "model.json", "--epochs", "100000000", "--run-dir", "run", "--quiet"]


def _case_plan_threads_huge(tmp):
    model(tmp)
    return ["plan", "model.json", "--layout", "cpu", "--threads", "1000000000"]


def _nir_file(tmp, weight=1.0):
    import nir

    lif = dict(tau=np.full(2, 1e-3), r=np.full(2, 10.0), v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2))
    graph = nir.NIRGraph(nodes={"in": nir.Input(input_type={"input": np.array([3])}),
                                "a": nir.Linear(weight=np.full((2, 3), weight)), "l": nir.LIF(**lif),
                                "out": nir.Output(output_type={"output": np.array([2])})},
                         edges=[("in", "a"), ("a", "l"), ("l", "out")], type_check=False)
    nir.write(str(tmp / "net.nir"), graph)


def _case_import_nan_weights(tmp):
    _nir_file(tmp, weight=float("nan"))
    return ["import-nir", "net.nir", "-o", "m.json"]


def _case_import_timesteps_huge(tmp):
    _nir_file(tmp)
    return ["import-nir", "net.nir", "-o", "m.json", "--timesteps", "1000000000"]


def _case_import_name_newline(tmp):
    _nir_file(tmp)
    return ["import-nir", "net.nir", "-o", "m.json", "--name", "abc\n"]


def _case_data_declared_terabytes(tmp):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**9, 25, 64)})
    with zipfile.ZipFile(tmp / "d.npz", "w") as z:
        z.writestr("spikes.npy", header.getvalue() + b"\0" * 64)
        z.writestr("labels.npy", npy_bytes(np.zeros(10**3, np.int64)))
    model(tmp, data={"kind": "npz", "path": "d.npz"})
    return ["train", "model.json", "--backend", "torch", "--epochs", "1", "--run-dir", "run", "--quiet"]


def _output_under_a_file(option_args):
    def case(tmp):
        model(tmp)
        (tmp / "afile").write_text("mine\n")
        return option_args("afile/sub")
    return case


def _output_at_a_directory(option_args):
    def case(tmp):
        model(tmp)
        (tmp / "adir").mkdir()
        (tmp / "adir" / "mine.txt").write_text("mine\n")
        return option_args("adir")
    return case


OUTPUTS = {
    "compile": lambda out: ["compile", "model.json", "-o", out],
    "graphml": lambda out: ["inspect", "model.json", "--graphml", out],
    "dot": lambda out: ["inspect", "model.json", "--dot", out],
    "plot": lambda out: ["plan", "model.json", "--plot", out],
    "schema": lambda out: ["schema", "-o", out],
    "export-nir": lambda out: ["export-nir", "model.json", "-o", out],
    "run-dir": lambda out: ["train", "model.json", "--backend", "torch", "--epochs", "1", "--quiet", "--run-dir", out],
}


def _compile_into(target):
    def case(tmp):
        model(tmp)
        (tmp / "notes.txt").write_text("my notes\n")
        if target == "symlink":
            (tmp / "elsewhere").mkdir()
            (tmp / "elsewhere" / "keep.txt").write_text("keep\n")
            (tmp / "link").symlink_to(tmp / "elsewhere")
            return ["compile", "model.json", "-o", "link"]
        return ["compile", "model.json", "-o", {"dot": ".", "file": "notes.txt"}[target]]
    return case


def _case_build_foreign_cmake_project(tmp):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "CMakeLists.txt").write_text("project(mine)\n")
    (tmp / "mine" / "program.cpp").write_text("int main() {}\n")
    return ["build", "mine"]


CASES = {
    "build_foreign_cmake_project": _case_build_foreign_cmake_project,
    "nesting": _case_nesting,
    "long_integer": _case_long_integer,
    "tiny_clock": _case_tiny_clock,
    "tiny_clock_json": _case_tiny_clock_json,
    "arrays_npy": _case_arrays_npy,
    "arrays_declared_huge": _case_arrays_declared_huge,
    "arrays_fifo": _case_arrays_fifo,
    "data_truncated": _case_data_truncated,
    "data_declared_terabytes": _case_data_declared_terabytes,
    "import_nan_weights": _case_import_nan_weights,
    "import_timesteps_huge": _case_import_timesteps_huge,
    "import_name_newline": _case_import_name_newline,
    "data_corrupt": _case_data_corrupt,
    "synthetic_terabytes": _case_synthetic_terabytes,
    "torch_huge_model": _case_torch_huge_model,
    "export_huge_model": _case_export_huge_model,
    "export_checkpoint_not_tensors": _case_export_checkpoint_not_tensors,
    "export_dt_inf": _case_export_dt_inf,
    "train_threads_huge": _case_threads_huge,
    "train_epochs_beyond_memory": _case_train_epochs_beyond_memory,
    "plan_threads_huge": _case_plan_threads_huge,
    "compile_into_dot": _compile_into("dot"),
    "compile_into_file": _compile_into("file"),
    "compile_into_symlink": _compile_into("symlink"),
    **{f"{name}_under_a_file": _output_under_a_file(f) for name, f in OUTPUTS.items()},
    **{f"{name}_at_a_directory": _output_at_a_directory(f) for name, f in OUTPUTS.items() if name not in ("compile", "run-dir")},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_one_line_and_exit_1(tmp_path, case):
    argv = CASES[case](tmp_path)
    before = tree(tmp_path)
    # an empty build cache of its own: a refusal comes before any build starts, and the
    # time bound does not depend on what an earlier test left in a shared cache
    cache = tmp_path.with_name(tmp_path.name + "-cache")
    code, out, err, seconds, peak_mib = snncc(*argv, cwd=tmp_path, SNNCC_CACHE_DIR=str(cache))
    assert "Traceback" not in err, err
    assert code == 1, (code, err)
    lines = err.strip().splitlines()
    assert lines and all(line.startswith(("snncc ", "model.json:")) for line in lines), err
    assert not cache.exists(), "started a build before refusing"
    assert seconds < SECONDS, f"{seconds:.1f} s of CPU time"
    assert peak_mib < 2048, f"{peak_mib} MiB"
    after = tree(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before, "changed a file it did not write"
    new = set(after) - set(before)
    assert all(name == "run" or name.startswith("run/") for name in new), f"left {sorted(new)}"
