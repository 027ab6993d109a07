"""On an IPU: the generated program built with the Poplar SDK computes what the reference
computes. Runs where the SDK is enabled (its popc on PATH) and an IPU is attached; skipped
elsewhere, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from snncc.codegen import write_build_dir
from snncc.driver import build, compile_spec, poplar_sdk_available
from snncc.verify.compare import verify

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.ipu, pytest.mark.slow,
              pytest.mark.skipif(not poplar_sdk_available(), reason="needs the Poplar SDK (popc on PATH) and an IPU")]


@pytest.mark.parametrize("example", ["digits", "recurrent"])
def test_poplar_build_matches_the_reference_on_an_ipu(tmp_path, example):
    ir, files = compile_spec(ROOT / "examples" / f"{example}.json", "ipu")
    src = write_build_dir(files, tmp_path / ir.name)
    binary = build(src, "poplar", cache_root=tmp_path / "cache")
    report = verify(ir, binary, tmp_path / "run", steps=2)
    assert report.ok, report.text()
