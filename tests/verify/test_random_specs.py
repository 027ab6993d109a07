"""Random small models (tests/random_specs.py), each compiled, built on the host runtime
and verified against snncc.torch for 1-2 training steps. Few examples, derandomized: the
builds are the cost (each example is one build, ~20-40 s cold on 2 cores, a cache hit
afterwards)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings

from codegen_helpers import run_verify
from random_specs import small_specs, spec_file


@pytest.mark.slow
@settings(max_examples=5, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_specs())
def test_random_small_specs_verify(case):
    spec, steps = case
    with spec_file(spec) as path:
        report, _ = run_verify(path, path.parent, steps)
    assert report.ok and not report.flips, json.dumps(spec) + "\n" + report.text()
