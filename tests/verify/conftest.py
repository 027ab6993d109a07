"""The verify_spec fixture: write a spec dict, compile, build (cached), verify."""

from __future__ import annotations

import json

import pytest

from codegen_helpers import run_verify


@pytest.fixture
def verify_spec(tmp_path):
    def run(spec: dict, steps: int = 1):
        path = tmp_path / f"{spec['name']}.json"
        path.write_text(json.dumps(spec))
        return run_verify(path, tmp_path, steps)
    return run
