"""Fixtures of the snncc.torch tests."""

from __future__ import annotations

import os

# as `snncc train` does: no spinning OpenMP threads on shared cores (before torch is imported)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest  # noqa: E402

from snn_specs import make_ir  # noqa: E402


@pytest.fixture
def build_ir():
    return make_ir
