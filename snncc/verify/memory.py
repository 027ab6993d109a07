"""The generated program's measured memory per tile (the host runtime's report), for
checking the partitioner's memory model (snncc.partition.check_allocation)."""

from __future__ import annotations

import json
from pathlib import Path

from ..ir import ModelGraph
from .harness import init_tensors, make_batch, run_program


def measure_allocation(ir: ModelGraph, binary: Path, workdir: Path) -> dict[int, int]:
    """Run one training step with SNNCC_RUNTIME_REPORT and return {tile: bytes} (tensors and
    vertex state, as docs/runtime.md counts them)."""
    x, y = make_batch(ir, 0)
    report = workdir / "report.json"
    run_program(binary, workdir, init_tensors(ir)[1], x, y, 1, env={"SNNCC_RUNTIME_REPORT": str(report)})
    data = json.loads(report.read_text())
    return {int(t["tile"]): int(t["totalBytes"]) for t in data["tiles"]}
