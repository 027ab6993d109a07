"""Malformed and unsupported NIR files: one line on stderr, exit 1, no traceback, nothing written."""

from __future__ import annotations

import numpy as np
import pytest

import nir

from snncc.cli import main


def _lif(n, **kw):
    p = dict(tau=np.full(n, 1e-3), r=np.full(n, 10.0), v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n))
    p.update(kw)
    return nir.LIF(**p)


def _graph(middle: dict, edges: list) -> "nir.NIRGraph":
    nodes = {"in": nir.Input(input_type={"input": np.array([3])}), **middle,
             "out": nir.Output(output_type={"output": np.array([2])})}
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)  # the import checks shapes itself


def _check(tmp_path, capsys, graph_or_bytes, fragment):
    src = tmp_path / "bad.nir"
    if isinstance(graph_or_bytes, bytes):
        src.write_bytes(graph_or_bytes)
    else:
        nir.write(str(src), graph_or_bytes)
    assert main(["import-nir", str(src), "-o", str(tmp_path / "m.json")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("snncc import-nir: error: ") and fragment in err, err
    assert not (tmp_path / "m.json").exists()


def test_not_hdf5(tmp_path, capsys):
    _check(tmp_path, capsys, b"just text", "not a NIR file (not HDF5)")


def test_missing_file(tmp_path, capsys):
    assert main(["import-nir", str(tmp_path / "nope.nir"), "-o", str(tmp_path / "m.json")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_hdf5_without_a_graph(tmp_path, capsys):
    import h5py

    with h5py.File(tmp_path / "bad.nir", "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    _check(tmp_path, capsys, (tmp_path / "bad.nir").read_bytes(), "malformed NIR file")


def test_missing_field(tmp_path, capsys):
    import h5py

    good = _graph({"a": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)), "l": _lif(2)},
                  [("in", "a"), ("a", "l"), ("l", "out")])
    nir.write(str(tmp_path / "bad.nir"), good)
    with h5py.File(tmp_path / "bad.nir", "r+") as f:
        del f["node/nodes/l/tau"]
    _check(tmp_path, capsys, (tmp_path / "bad.nir").read_bytes(), "malformed NIR file")


def test_unsupported_conv(tmp_path, capsys):
    conv = nir.Conv1d(input_shape=3, weight=np.ones((2, 1, 1)), stride=1, padding=0, dilation=1, groups=1,
                      bias=np.zeros(2))
    _check(tmp_path, capsys, _graph({"c": conv, "l": _lif(2)}, [("in", "c"), ("c", "l"), ("l", "out")]),
           "node 'c' has the unsupported type Conv1d")


def test_unsupported_threshold(tmp_path, capsys):
    th = nir.Threshold(threshold=np.ones(3))
    _check(tmp_path, capsys, _graph({"t": th, "l": _lif(2)}, [("in", "t"), ("t", "l"), ("l", "out")]),
           "node 't' has the unsupported type Threshold")


def test_v_leak(tmp_path, capsys):
    g = _graph({"a": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)), "l": _lif(2, v_leak=np.ones(2))},
               [("in", "a"), ("a", "l"), ("l", "out")])
    _check(tmp_path, capsys, g, "node 'l' (LIF): v_leak must be 0")


def test_output_after_affine(tmp_path, capsys):
    g = _graph({"a": nir.Affine(weight=np.ones((3, 3)), bias=np.zeros(3)), "l": _lif(3),
                "b": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2))},
               [("in", "a"), ("a", "l"), ("l", "b"), ("b", "out")])
    _check(tmp_path, capsys, g, "Output must follow a neuron node")


def test_valid_hand_written_graph_with_delay(tmp_path, capsys):
    """Scale and Delay nodes: folded into the weights and into the projection's delay."""
    from snncc.ir import spec_to_ir
    from snncc.spec import load_spec

    g = _graph({"a": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)), "s": nir.Scale(scale=np.array([2.0, 3.0])),
                "d": nir.Delay(delay=np.full(2, 3e-4)), "l": _lif(2)},
               [("in", "a"), ("a", "s"), ("s", "d"), ("d", "l"), ("l", "out")])
    nir.write(str(tmp_path / "g.nir"), g)
    assert main(["import-nir", str(tmp_path / "g.nir"), "-o", str(tmp_path / "m.json"), "--timesteps", "10"]) == 0
    ir = spec_to_ir(load_spec(tmp_path / "m.json"))
    (proj,) = ir.projections
    assert proj.delay == 3 and not proj.bias
    # r dt / tau = 10 x 1e-4 / 1e-3 = 1: the weights are Scale x Affine
    np.testing.assert_allclose(proj.initial_weights.array, np.array([[2.0, 3.0]] * 3), rtol=1e-6)
    assert ir.populations[1].beta == pytest.approx(0.9)
