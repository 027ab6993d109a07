"""The generated program's measured memory per tile (the host runtime's report), for
checking the partitioner's memory model (snncc.partition.check_allocation)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from ..ir import ModelGraph
from . import tensorfile
from .verify import init_tensors, make_batch


def measure_allocation(ir: ModelGraph, binary: Path, workdir: Path) -> dict[int, int]:
    """Run one training step with SNNCC_RUNTIME_REPORT and return {tile: bytes} (tensors and
    vertex state, as docs/runtime.md counts them)."""
    workdir.mkdir(parents=True, exist_ok=True)
    x, y = make_batch(ir, 0)
    tensorfile.write(workdir / "init.bin", init_tensors(ir)[1])
    tensorfile.write(workdir / "batch.bin", {"inputs": x, "labels": y})
    report = workdir / "report.json"
    env = dict(os.environ, SNNCC_RUNTIME_REPORT=str(report))
    proc = subprocess.run([str(binary), str(workdir / "init.bin"), str(workdir / "batch.bin"),
                           str(workdir / "result.bin"), "1"], capture_output=True, text=True, env=env)
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{binary} exited with {proc.returncode}: {proc.stderr.strip()[-500:]}")
    data = json.loads(report.read_text())
    return {int(t["tile"]): int(t["totalBytes"]) for t in data["tiles"]}
