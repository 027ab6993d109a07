"""A generated program's training steps on the host runtime give the same bits for any thread
count, through both ways the runtime spreads a compute set over threads: by tiles, and by the
six workers of a one-tile compute set (digits' readout on the CPU-shaped target)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from snncc.codegen.render import write_build_dir
from snncc.driver import build, compile_spec, init_tensors
from snncc.runtime.build import default_cache_root
from snncc.verify.harness import make_batch, run_program

from codegen_helpers import ROOT


@pytest.fixture(scope="module")
def digits_program(tmp_path_factory):
    d = tmp_path_factory.mktemp("digits_threads")
    ir, files = compile_spec(ROOT / "examples/digits.json", layout="cpu", threads=2)
    binary = build(write_build_dir(files, d / "build_dir"), "host", cache_root=default_cache_root())
    return ir, binary, d


@pytest.mark.parametrize("min_bytes", [None, "0"])
def test_same_bits_for_1_2_and_3_threads(digits_program, min_bytes):
    ir, binary, d = digits_program
    init = init_tensors(ir)[1]
    x, y = make_batch(ir, 0)
    results, reports = [], []
    for threads in (1, 2, 3):
        work = d / f"t{threads}-{min_bytes}"
        report = work / "report.json"
        env = {"SNNCC_NUM_THREADS": str(threads), "SNNCC_RUNTIME_REPORT": str(report)}
        if min_bytes is not None:  # every compute set on the pool however small, by tiles or workers
            env["SNNCC_PARALLEL_MIN_BYTES"] = min_bytes
        results.append(run_program(binary, work, init, x, y, 2, env=env))
        reports.append(json.loads(report.read_text()))
    for other in results[1:]:
        assert other.keys() == results[0].keys()
        for k in results[0]:
            assert np.array_equal(other[k], results[0][k]), k
    ways = {c["name"]: c["threads"] for c in reports[0]["computeSets"]}
    # the hidden layer's tiles on the pool, the one-tile readout's workers spread
    assert "tiles" in ways.values() and "workers" in ways.values(), ways
    assert {c["name"]: c["threads"] for c in reports[1]["computeSets"]} == ways
