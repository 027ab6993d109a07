"""import-nir checks the imported model before writing anything: a NIR file or option that
would give an invalid model gets one line and leaves neither the model nor its arrays file."""

from __future__ import annotations

import numpy as np
import pytest

import nir

from snncc.cli import main
from snncc import machine


def _lif(n, **kw):
    p = dict(tau=np.full(n, 1e-3), r=np.full(n, 10.0), v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n))
    p.update(kw)
    return nir.LIF(**p)


def _graph(n_in: int, weight: np.ndarray | None, n: int, extra: dict | None = None) -> "nir.NIRGraph":
    nodes = {"in": nir.Input(input_type={"input": np.array([n_in])}), "l": _lif(n),
             "out": nir.Output(output_type={"output": np.array([n])})}
    if weight is None:
        edges = [("in", "l"), ("l", "out")]
    else:
        nodes["a"] = nir.Affine(weight=weight, bias=np.zeros(weight.shape[0]))
        edges = [("in", "a"), ("a", "l"), ("l", "out")]
    if extra:
        nodes.update(extra["nodes"])
        edges = extra["edges"]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _import(tmp_path, capsys, graph, *options) -> str:
    src = tmp_path / "net.nir"
    nir.write(str(src), graph)
    code = main(["import-nir", str(src), "-o", str(tmp_path / "m.json"), *options])
    captured = capsys.readouterr()
    assert code == 1, captured.out
    err = captured.err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "m.arrays.npz").exists()
    return err.rstrip("\n")


def test_nan_weights(tmp_path, capsys):
    w = np.ones((2, 3))
    w[1, 2] = np.nan
    assert _import(tmp_path, capsys, _graph(3, w, 2)) == (
        "snncc import-nir: error: the weights from 'in' to 'l' (NIR nodes a) hold NaN or infinite values "
        "(or values beyond float32, or a neuron's r or w_in is NaN)")


def test_nan_threshold(tmp_path, capsys):
    graph = _graph(3, np.ones((2, 3)), 2)
    graph.nodes["l"] = _lif(2, v_threshold=np.array([1.0, np.nan]))
    assert _import(tmp_path, capsys, graph) == "snncc import-nir: error: node 'l' (LIF): its threshold holds NaN or infinite values"


def test_an_input_beyond_2_24_neurons(tmp_path, capsys):
    graph = _graph(1 << 25, np.ones((2, 3)), 2)
    assert _import(tmp_path, capsys, graph) == (
        "snncc import-nir: error: node 'in' (Input) has 33,554,432 neurons; a population has at most 16,777,216 (2^24)")


def test_a_one_to_one_connection_too_large_for_memory(tmp_path, capsys, monkeypatch):
    # Input -> LIF without a weight becomes an identity matrix [n, n]: 2^16 neurons need 80 GiB
    monkeypatch.setattr(machine, "machine_memory", lambda: 8 << 30)
    n = 1 << 16
    assert _import(tmp_path, capsys, _graph(n, None, n)) == (
        "snncc import-nir: error: the weights from 'in' to 'l' (65,536 x 65,536) needs 80.0 GiB of memory, "
        "this machine has 8.0 GiB")


@pytest.mark.parametrize("timesteps", ["0", "100001", "1000000000"])
def test_timesteps_outside_the_spec(tmp_path, capsys, timesteps):
    assert _import(tmp_path, capsys, _graph(3, np.ones((2, 3)), 2), "--timesteps", timesteps) == (
        f"snncc import-nir: error: --timesteps must be in [1, 100000], not {timesteps}")


@pytest.mark.parametrize("name", ["abc\n", "a b"])
def test_names_that_are_not_identifiers(tmp_path, capsys, name):
    assert _import(tmp_path, capsys, _graph(3, np.ones((2, 3)), 2), "--name", name) == (
        f"snncc import-nir: error: --name {name!r} is not an identifier (a letter or underscore, then letters, "
        "digits, _)")


@pytest.mark.parametrize("dt", ["inf", "nan", "0"])
def test_dt_must_be_finite_and_positive(tmp_path, capsys, dt):
    assert _import(tmp_path, capsys, _graph(3, np.ones((2, 3)), 2), f"--dt={dt}") == (
        f"snncc import-nir: error: --dt must be a finite number of seconds > 0, not {float(dt):g}")


def test_a_model_that_fails_validation_is_not_written(tmp_path, capsys):
    # a delay of 20 steps (2 ms at snnTorch's dt of 0.1 ms) with --timesteps 10: the spec needs delays below T
    extra = {"nodes": {"a": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)),
                       "d": nir.Delay(delay=np.full(3, 2e-3))},
             "edges": [("in", "d"), ("d", "a"), ("a", "l"), ("l", "out")]}
    line = _import(tmp_path, capsys, _graph(3, None, 2, extra), "--timesteps", "10")
    assert line.startswith(f"snncc import-nir: error: {tmp_path / 'net.nir'}: the imported model would not be valid, "
                           "nothing written: /projections/0/delay: "), line
    assert line.endswith("; pass a larger --timesteps"), line


def test_a_valid_import_still_writes_both_files(tmp_path, capsys):
    nir.write(str(tmp_path / "net.nir"), _graph(3, np.ones((2, 3)), 2))
    assert main(["import-nir", str(tmp_path / "net.nir"), "-o", str(tmp_path / "m.json"), "--name", "ok_1"]) == 0
    assert (tmp_path / "m.json").is_file() and (tmp_path / "m.arrays.npz").is_file()
    assert main(["validate", str(tmp_path / "m.json")]) == 0
