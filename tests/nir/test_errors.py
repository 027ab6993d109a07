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
    return err


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


def _import_ok(tmp_path, capsys, graph, *options):
    from snncc.ir import spec_to_ir
    from snncc.spec import load_spec

    nir.write(str(tmp_path / "g.nir"), graph, compression=None)  # None: nir.write fails on 0-d arrays with gzip
    assert main(["import-nir", str(tmp_path / "g.nir"), "-o", str(tmp_path / "m.json"), "--timesteps", "10",
                 *options]) == 0, capsys.readouterr().err
    return spec_to_ir(load_spec(tmp_path / "m.json")), capsys.readouterr().out


def test_batch_leading_input_shape(tmp_path, capsys):
    """Input [1, 3] before an Affine taking 3: 3 inputs, with a note; the weights are the Affine's
    times r dt / tau = 10 x 1e-4 / 1e-3 = 1."""
    w = np.arange(6.0).reshape(2, 3)
    g = nir.NIRGraph(nodes={"in": nir.Input(input_type=np.array([1, 3])), "a": nir.Affine(weight=w, bias=np.zeros(2)),
                            "l": _lif(2), "out": nir.Output(output_type={"output": np.array([1, 2])})},
                     edges=[("in", "a"), ("a", "l"), ("l", "out")], type_check=False)
    ir, printed = _import_ok(tmp_path, capsys, g)
    assert ir.populations[0].size == 3
    assert ("the Input 'in' has the shape [1, 3]; node 'a' (Affine) takes 3 inputs, so the leading 1 is read as the "
            "exporter's batch dimension: 3 inputs") in printed
    np.testing.assert_allclose(ir.projections[0].initial_weights.array, w.T, rtol=1e-6)


def test_a_batch_of_several_before_a_linear(tmp_path, capsys):
    g = nir.NIRGraph(nodes={"in": nir.Input(input_type={"input": np.array([4, 3])}),
                            "a": nir.Linear(weight=np.ones((2, 3))), "l": _lif(2),
                            "out": nir.Output(output_type={"output": np.array([2])})},
                     edges=[("in", "a"), ("a", "l"), ("l", "out")], type_check=False)
    ir, printed = _import_ok(tmp_path, capsys, g)
    assert ir.populations[0].size == 3 and "the leading 4 is read as the exporter's batch dimension" in printed


def test_an_input_shape_no_batch_explains(tmp_path, capsys):
    g = _graph({"a": nir.Affine(weight=np.ones((2, 12)), bias=np.zeros(2)), "l": _lif(2)},
               [("in", "a"), ("a", "l"), ("l", "out")])
    g.nodes["in"] = nir.Input(input_type={"input": np.array([2, 5])})
    _check(tmp_path, capsys, g, "node 'in' (Input) has the shape [2, 5] (10 values), but node 'a' (Affine) that it "
                                "feeds takes 12 inputs; no leading (batch) dimensions leave 12")


def test_scalar_parameters_take_the_size_of_the_affine(tmp_path, capsys):
    """0-d parameters, as Norse's default cells write them: 4 neurons from the Affine's [4, 3] weight,
    beta = 1 - 1e-4/1e-3 = 0.9 and the threshold broadcast; the weights are the Affine's (r dt/tau = 1)."""
    w = np.arange(12.0).reshape(4, 3) / 10
    lif = nir.LIF(tau=np.array(1e-3), r=np.array(10.0), v_leak=np.array(0.0), v_threshold=np.array(0.5),
                  v_reset=np.array(0.0))
    g = _graph({"a": nir.Affine(weight=w, bias=np.full(4, 0.25)), "l": lif}, [("in", "a"), ("a", "l"), ("l", "out")])
    ir, printed = _import_ok(tmp_path, capsys, g)
    pop = ir.populations[1]
    assert pop.size == 4 and pop.beta == pytest.approx(0.9) and pop.threshold == pytest.approx(0.5)
    np.testing.assert_allclose(ir.projections[0].initial_weights.array, w.T, rtol=1e-6)
    np.testing.assert_allclose(ir.projections[0].initial_bias.array, np.full(4, 0.25), rtol=1e-6)
    assert "node 'l' (LIF) has one value per parameter (a module's scalar defaults): 4 neurons, the output size of " \
           "node 'a' (Affine) that feeds it" in printed


def test_scalar_parameters_with_disagreeing_neighbours(tmp_path, capsys):
    lif = nir.LIF(tau=np.array([1e-3]), r=np.array([10.0]), v_leak=np.array([0.0]), v_threshold=np.array([1.0]),
                  v_reset=np.array([0.0]))
    g = _graph({"a": nir.Linear(weight=np.ones((2, 3))), "b": nir.Linear(weight=np.ones((5, 3))), "l": lif},
               [("in", "a"), ("in", "b"), ("a", "l"), ("b", "l"), ("l", "out")])
    _check(tmp_path, capsys, g, "node 'l' (LIF) has one value per parameter, and the nodes around it disagree on its "
                                "neuron count: 2 (the output size of node 'a' (Linear) that feeds it) and 5")


def test_delay_not_a_whole_number_of_steps_names_dt(tmp_path, capsys):
    g = _graph({"a": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)), "d": nir.Delay(delay=np.full(2, 2.5e-4)),
                "l": _lif(2)}, [("in", "a"), ("a", "d"), ("d", "l"), ("l", "out")])
    _check(tmp_path, capsys, g, "is not a whole number of steps of dt = 0.0001 s; pass a --dt that divides it")


def test_norse_like_parameters_read_in_snntorch_convention(tmp_path, capsys):
    """r = 1 everywhere (Norse's to_nir) with tau below snnTorch's dt: the error names --convention norse."""
    g = _graph({"a": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)), "l": _lif(2, tau=np.full(2, 1e-5),
                                                                                    r=np.ones(2))},
               [("in", "a"), ("a", "l"), ("l", "out")])
    _check(tmp_path, capsys, g, "exceeds tau = 1e-05 s, so Euler's 1 - dt/tau is negative; pass a smaller --dt or "
                                "--discretisation exact; the file looks like one from Norse's to_nir (r = 1 in every "
                                "neuron node; snnTorch's export writes r = tau/dt): pass --convention norse")


def test_no_convention_hint_where_no_option_fixes_the_error(tmp_path, capsys):
    """An error no convention fixes (v_leak) gets no --convention hint, even from a Norse-like file."""
    g = _graph({"a": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)),
                "l": _lif(2, tau=np.full(2, 1e-5), r=np.ones(2), v_leak=np.ones(2))},
               [("in", "a"), ("a", "l"), ("l", "out")])
    assert "--convention" not in _check(tmp_path, capsys, g, "node 'l' (LIF): v_leak must be 0")
