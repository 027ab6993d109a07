"""Fixtures of the snncc.torch tests."""

from __future__ import annotations

import pytest

from snn_specs import make_ir


@pytest.fixture
def build_ir():
    return make_ir
