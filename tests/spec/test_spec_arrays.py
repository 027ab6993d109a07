"""The arrays file: per-neuron parameters and given weights by {"array": NAME}.

One invalid spec per rule, located like tests/spec/test_invalid_specs.py (the marker «» is
placed by hand before the value the error must point at), and a valid spec whose
arrays reach the IR and snncc.torch.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from documents import ARRAYS, ARRAYS_MODEL, MARK
from snncc.cli import main
from snncc.ir import spec_to_ir
from snncc.spec import load_spec
from snncc.torch import build_model


def edit(old: str, new: str, text: str = ARRAYS_MODEL) -> str:
    assert text.count(old) == 1, f"ambiguous or missing edit anchor {old!r}"
    return text.replace(old, new)


def write(tmp_path, text: str, arrays: dict | None = None):
    np.savez(tmp_path / "arr.npz", **(ARRAYS if arrays is None else arrays))
    path = tmp_path / "model.json"
    path.write_text(text.replace(MARK, ""), encoding="utf-8")
    return path


def test_valid_arrays_reach_the_ir_and_torch(tmp_path):
    spec = load_spec(write(tmp_path, ARRAYS_MODEL))
    ir = spec_to_ir(spec)
    hid, out = ir.population("hid"), ir.population("out")
    assert hid.beta == (0.5, 0.9, 1.0) and hid.threshold == (0.45, 1.0, 1.7) and hid.per_neuron
    assert out.beta == 0.9 and out.alpha == pytest.approx((0.2, 0.7)) and isinstance(out.threshold, float)
    p1 = next(p for p in ir.projections if p.id == "p1")
    assert p1.initial_weights.array.shape == (4, 3) and hash(p1) == hash(spec_to_ir(spec).projections[0])
    model = build_model(ir)
    w = model.weights()
    assert torch.equal(w["weight.p1"], torch.tensor(ARRAYS["w1"], dtype=torch.float32))
    assert torch.allclose(w["bias.p1"], torch.tensor(ARRAYS["b1"], dtype=torch.float32))
    assert torch.equal(w["weight.p2"], torch.ones(3, 2)) and "bias.p2" not in w
    # per-neuron dynamics: drive hid with a constant current through the given weights
    x = torch.zeros(10, 1, 4)
    x[:, :, 0] = 1.0  # current into hid = w1[0] + b1 = [0.1, -0.1, 0.5] each step
    res = model(x).detach()
    cur = ARRAYS["w1"][0] + ARRAYS["b1"]
    u = np.zeros(3)
    for t in range(10):
        r = u > ARRAYS["theta_hid"]
        u = ARRAYS["beta_hid"] * u + cur - r * ARRAYS["theta_hid"]
        np.testing.assert_allclose(res.mem["hid"][t, 0].numpy(), u, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(res.spikes["hid"][t, 0].numpy(), (u > ARRAYS["theta_hid"]).astype(np.float32))


CASES = [
    ("arrays_file_missing", edit('"arrays": "arr.npz"', '"arrays": «»"nope.npz"'), "/arrays", "no such file"),
    ("array_name_missing", edit('"beta": {"array": "beta_hid"}', '"beta": {"array": «»"beta_x"}'),
     "/populations/1/neuron/beta/array", "no array 'beta_x'"),
    ("wrong_shape_neuron", edit('"threshold": {"array": "theta_hid"}', '"threshold": {"array": «»"alpha_out"}'),
     "/populations/1/neuron/threshold/array", "shape [2], expected [3]"),
    ("wrong_shape_weights", edit('"initial_weights": {"array": "w1"}', '"initial_weights": {"array": «»"w2"}'),
     "/projections/0/initial_weights/array", "shape [3, 2], expected [4, 3]"),
    ("wrong_shape_bias", edit('"initial_bias": {"array": "b1"}', '"initial_bias": {"array": «»"alpha_out"}'),
     "/projections/0/initial_bias/array", "shape [2], expected [3]"),
    ("beta_out_of_range", edit('"beta": {"array": "beta_hid"}', '"beta": {"array": «»"theta_hid"}'),
     "/populations/1/neuron/beta/array", "must be in [0, 1], element 2 is 1.7"),
    ("threshold_not_positive", edit('"threshold": {"array": "theta_hid"}', '"threshold": {"array": «»"neg"}'),
     "/populations/1/neuron/threshold/array", "must be > 0, element 1 is 0"),
    ("ref_without_arrays_file", edit('"beta": {"array": "beta_hid"}', '"beta": {"array": «»"beta_hid"}',
                                     edit('  "arrays": "arr.npz",\n', "")), "/populations/1/neuron/beta/array",
     "needs an arrays file"),
    ("initial_bias_without_bias", edit('"bias": false, "initial_weights": {"array": "w2"}',
                                       '"bias": false, "initial_weights": {"array": "w2"}, "initial_bias": «»{"array": "b2"}'),
     "/projections/1/initial_bias", "needs \"bias\": true"),
    ("initial_weights_sparse", edit('"initial_weights": {"array": "w2"}',
                                    '"connectivity": {"kind": "sparse", "fan_in": 2}, "initial_weights": «»{"array": "w2"}'),
     "/projections/1/initial_weights", "needs dense connectivity"),
    ("array_ref_bad_name", edit('"beta": {"array": "beta_hid"}', '"beta": {"array": «»"a/b"}'),
     "/populations/1/neuron/beta/array", "should match pattern"),
    ("beta_number_out_of_range", edit('"beta": 0.9', '"beta": «»1.5'), "/populations/2/neuron/beta", "less than or equal to 1"),
    ("not_finite", edit('"initial_weights": {"array": "w1"}', '"initial_weights": {"array": «»"w1nan"}'),
     "/projections/0/initial_weights/array", "NaN or infinite"),
]


@pytest.mark.parametrize("name,text,ptr,fragment", CASES, ids=[c[0] for c in CASES])
def test_invalid_arrays_are_located(tmp_path, capsys, name, text, ptr, fragment):
    arrays = dict(ARRAYS, neg=np.array([1.0, 0.0, 1.0]), b2=np.zeros(2), w1nan=np.full((4, 3), np.nan))
    path = write(tmp_path, text, arrays)
    before = text[: text.index(MARK)]
    line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 or name == "ref_without_arrays_file", err  # that one: every ref, first in the text first
    m = re.fullmatch(r"(.*):(\d+):(\d+): (\S+): (.*)", err[0])
    assert m, err[0]
    assert (int(m[2]), int(m[3]), m[4]) == (line, col, ptr), err[0]
    assert fragment in m[5], err[0]


def test_unreadable_arrays_file(tmp_path, capsys):
    path = write(tmp_path, ARRAYS_MODEL)
    (tmp_path / "arr.npz").write_text("not a zip file")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "/arrays: cannot read" in err and "NumPy .npz" in err and len(err.splitlines()) == 1
