"""Builds the runtime test programs once per session (cached by content across sessions)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from snncc.runtime.build import build_cmake_project

PROGRAMS = Path(__file__).resolve().parent / "programs"
CODELETS = PROGRAMS / "codelets"


@pytest.fixture(scope="session")
def build_dir() -> Path:
    # Concurrent xdist workers share one build through build.py's file lock.
    return build_cmake_project(PROGRAMS)


@pytest.fixture(scope="session")
def codelets() -> Path:
    return CODELETS


@pytest.fixture(scope="session")
def run_program(build_dir):
    """run_program(name, *args, threads=None, env=None) -> CompletedProcess."""
    return lambda *a, **k: _run(build_dir, *a, **k)


def _run(build_dir: Path, name: str, *args, threads: int | None = None, env: dict | None = None):
    e = dict(os.environ)
    e.pop("SNNCC_RUNTIME_REPORT", None)
    if threads is not None:
        e["SNNCC_NUM_THREADS"] = str(threads)
    e.update(env or {})
    return subprocess.run(
        [str(build_dir / name), *map(str, args)], capture_output=True, text=True, env=e, timeout=120
    )
