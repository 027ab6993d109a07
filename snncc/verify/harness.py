"""Running a built program on one batch: its INIT and batch files, one run, its result file.

A program built by snncc.driver runs `train INIT BATCH RESULT STEPS`: STEPS training steps
on the batch, starting from the INIT file's weights and neuron parameters
(driver.init_tensors), writing the last step's forward values, gradients and the final
weights to RESULT (exit status 3: a spike list overflowed with overflow "error", the result
is written all the same). Both the torch comparison (compare) and the memory measurement
(memory) run it here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

from .. import tensorfile
from ..driver import init_tensors
from ..ir import ModelGraph

#: exit statuses of a run that wrote its result
RESULT_WRITTEN = (0, 3)

__all__ = ["RESULT_WRITTEN", "init_tensors", "make_batch", "run_program"]


def make_batch(ir: ModelGraph, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random 0/1 inputs [T, B, inputs] (rate: the synthetic source's spikes per step, else
    0.15) and labels [B], from numpy's default_rng(seed)."""
    st = ir.settings
    inp = next(p for p in ir.populations if p.kind == "input")
    classes = ir.population(st.readout.population).size
    rate = getattr(st.data, "spikes_per_step", None)
    p = min(1.0, rate / inp.size) if rate else 0.15
    rng = np.random.default_rng(seed)
    x = (rng.random((st.timesteps, st.batch_size, inp.size)) < p).astype(np.uint8)
    y = rng.integers(0, classes, st.batch_size).astype(np.uint32)
    return x, y


def run_program(binary: Path, workdir: Path, init, x, y, steps: int,
                env: dict[str, str] | None = None, replicas: int = 1) -> dict[str, np.ndarray]:
    """The result tensors of `steps` training steps of the program on the batch (x, y) from
    the INIT tensors; its files in workdir. A program of several replicas runs as an MPI job
    (each replica takes its share of the batch; the first writes the result: its samples'
    forward values, the gradients summed over all). RuntimeError when it ends without a result."""
    workdir.mkdir(parents=True, exist_ok=True)
    tensorfile.write(workdir / "init.bin", init)
    tensorfile.write(workdir / "batch.bin", {"inputs": x, "labels": y})
    command = [str(binary)]
    if replicas > 1:
        from ..backends.launch import mpi_launcher

        command = mpi_launcher().command(replicas, binary)
    proc = subprocess.run([*command, str(workdir / "init.bin"), str(workdir / "batch.bin"),
                           str(workdir / "result.bin"), str(steps)], capture_output=True, text=True,
                          env=None if env is None else {**os.environ, **env})
    if proc.returncode not in RESULT_WRITTEN:
        raise RuntimeError(f"{binary} exited with {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return tensorfile.read(workdir / "result.bin")
