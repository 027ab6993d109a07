"""Helpers: small specs, compile + build (cached by content) + verify against snncc.torch."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from snncc.driver import build, compile_spec
from snncc.codegen.render import write_build_dir
from snncc.verify.compare import verify
from snncc.runtime.build import default_cache_root

ROOT = Path(__file__).resolve().parents[1]


def small_spec(name="small", *, hidden=None, readout=None, projections=None, optimizer=None, loss=None,
               decoding="spike_count", surrogate=None, timesteps=6, batch=5, inputs=12, input_sparsity=None,
               tiles=16) -> dict:
    """A small model: input 'x' [inputs], the given hidden populations and readout 'out'."""
    hidden = hidden if hidden is not None else [
        {"kind": "neuron", "id": "h", "size": 9, "neuron": {"model": "lif", "beta": 0.9}}]
    readout = readout or {"kind": "neuron", "id": "out", "size": 3, "neuron": {"model": "lif", "beta": 0.9}}
    inp = {"kind": "input", "id": "x", "size": inputs}
    if input_sparsity:
        inp["sparsity"] = input_sparsity
    if projections is None:
        chain = ["x"] + [h["id"] for h in hidden] + [readout["id"]]
        projections = [{"id": f"{a}_to_{b}", "source": a, "target": b, "weight_init": {"scale": 3.0}}
                       for a, b in zip(chain, chain[1:])]
    training = {"optimizer": optimizer or {"kind": "adam", "lr": 0.01}, "batch_size": batch, "epochs": 1,
                "surrogate": surrogate or {"kind": "fast_sigmoid", "slope": 5}, "seed": 3}
    if loss:
        training["loss"] = loss
    return {
        "name": name, "timesteps": timesteps,
        "populations": [inp, *hidden, readout], "projections": projections,
        "readout": {"population": readout["id"], "decoding": decoding},
        "training": training,
        "data": {"kind": "synthetic", "num_classes": readout["size"], "num_samples": 20,
                 "spikes_per_step": max(1, inputs // 3), "test_fraction": 0.2, "seed": 0},
        "target": {"tiles_per_ipu": tiles},
    }


def run_verify(spec_path: Path, tmp_path: Path, steps: int = 1):
    """(report, IR) of `snncc verify` on a spec file, in-process; builds are cached."""
    ir, files = compile_spec(spec_path)
    src = write_build_dir(files, tmp_path / "build_dir")
    binary = build(src, "host", cache_root=default_cache_root())
    return verify(ir, binary, tmp_path / "run", steps), ir


#: the host build's codelet flags (CMake Release, snncc/runtime/CMakeLists.txt)
CODELET_FLAGS = ["-O3", "-DNDEBUG", "-std=c++17", "-ffp-contract=off", "-fno-math-errno", "-march=native"]
#: the builds a codelet kernel is tested in: for this CPU (AVX-512 where it has it), for AVX2
#: with FMA (two AVX registers per lane vector), and with the plain-array lanes of other compilers
KERNEL_BUILDS = {"native": [], "avx2": ["-mno-avx512f", "-mavx2", "-mfma", "-mf16c"],
                 "portable": ["-DSNNCC_PORTABLE_LANES"]}


def _cpu_has(*flags: str) -> bool:
    try:
        words = set(open("/proc/cpuinfo").read().split())
    except OSError:
        return False
    return all(f in words for f in flags)


def build_kernel_driver(d: Path, driver: str, build: str) -> Path:
    """A test driver (C++ source that includes "codelets/model.cpp") compiled in directory d
    against examples/cuba.json's rendered codelets, in one of KERNEL_BUILDS; skips the test
    where this CPU cannot run the AVX2 build."""
    if build == "avx2" and not _cpu_has("avx2", "fma", "f16c"):
        pytest.skip("this CPU cannot run an AVX2 + FMA build")
    _, files = compile_spec(ROOT / "examples/cuba.json")
    (d / "codelets").mkdir()
    (d / "codelets/model.cpp").write_bytes(files["codelets/model.cpp"])
    (d / "driver.cpp").write_text(driver)
    include = ROOT / "snncc/runtime/include"
    subprocess.run(["c++", *CODELET_FLAGS, *KERNEL_BUILDS[build], f"-I{d}", f"-I{include}", str(d / "driver.cpp"),
                    "-o", str(d / "driver")], check=True, capture_output=True)
    return d / "driver"
