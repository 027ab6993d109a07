"""The generated program computes training steps like snncc.torch (the oracle), on the host runtime."""

from __future__ import annotations

import pytest

from snncc.cli import main

from codegen_helpers import ROOT, run_verify, small_spec


def _assert_ok(report):
    assert report.ok, report.text()
    assert not report.flips


@pytest.mark.slow
@pytest.mark.parametrize("example", ["digits", "recurrent", "cuba", "pipelined"])
def test_examples_verify(example, tmp_path):
    report, _ = run_verify(ROOT / "examples" / f"{example}.json", tmp_path)
    _assert_ok(report)


def test_sparse_backward_with_overflow_sgd_momentum_mse(verify_spec):
    """Gradient threshold, capacities small enough to overflow (input and hidden), SGD with
    momentum over 2 steps, mse_count, a zero reset, delays 0 and 2."""
    spec = small_spec(
        "sparse",
        hidden=[{"kind": "neuron", "id": "h", "size": 11, "neuron": {"model": "lif", "beta": 0.8, "reset": "zero"},
                 "sparsity": {"max_spikes": 2, "gradient_threshold": 0.5, "overflow": "drop"}},
                {"kind": "neuron", "id": "h2", "size": 7, "neuron": {"model": "lif", "beta": 0.9},
                 "sparsity": {"max_spikes": 3, "gradient_threshold": 0.7, "overflow": "drop"}}],
        projections=[{"id": "a", "source": "x", "target": "h", "weight_init": {"scale": 4.0}},
                     {"id": "b", "source": "h", "target": "h2", "weight_init": {"scale": 4.0}},
                     {"id": "c", "source": "h2", "target": "out", "delay": 2, "weight_init": {"scale": 4.0}},
                     {"id": "skip", "source": "h", "target": "out", "bias": False, "weight_init": {"scale": 2.0}}],
        optimizer={"kind": "sgd", "lr": 0.05, "momentum": 0.9}, loss={"kind": "mse_count"},
        input_sparsity={"max_spikes": 3, "overflow": "drop"}, timesteps=8)
    report, _ = verify_spec(spec, steps=2)
    _assert_ok(report)
    rows = {r.name: r for r in report.rows}
    assert "grad_mask.h" in rows and "grad_mask.h2" in rows


def test_overflow_happens_and_matches(verify_spec, tmp_path):
    spec = small_spec("overflow", hidden=[
        {"kind": "neuron", "id": "h", "size": 10, "neuron": {"model": "lif", "beta": 0.9},
         "sparsity": {"max_spikes": 1, "overflow": "drop"}}],
        input_sparsity={"max_spikes": 2, "overflow": "drop"})
    report, ir = verify_spec(spec)
    _assert_ok(report)
    out = __import__("snncc.tensorfile", fromlist=["read"]).read(tmp_path / "run" / "result.bin")
    assert out["overflow.x"].sum() > 0 and out["overflow.h"].sum() > 0


def test_cuba_zero_updated_membrane_sum_sgd_plain(verify_spec):
    spec = small_spec(
        "cuba_sum",
        hidden=[{"kind": "neuron", "id": "h", "size": 8,
                 "neuron": {"model": "cuba_lif", "beta": 0.85, "alpha": 0.6, "reset": "zero_updated"}}],
        readout={"kind": "neuron", "id": "out", "size": 4, "neuron": {"model": "li", "beta": 0.9}},
        decoding="membrane_sum", optimizer={"kind": "sgd", "lr": 0.1},
        surrogate={"kind": "atan", "alpha": 2.0})
    report, _ = verify_spec(spec, steps=2)
    _assert_ok(report)


def test_if_recurrent_membrane_max_sigmoid(verify_spec):
    spec = small_spec(
        "rec_if",
        hidden=[{"kind": "neuron", "id": "h", "size": 10, "neuron": {"model": "if", "reset": "subtract"},
                 "sparsity": {"gradient_threshold": 0.8}}],
        projections=[{"id": "in", "source": "x", "target": "h", "weight_init": {"scale": 2.0}},
                     {"id": "rec", "source": "h", "target": "h", "delay": 1, "weight_init": {"scale": 1.0}},
                     {"id": "ro", "source": "h", "target": "out"}],
        readout={"kind": "neuron", "id": "out", "size": 3, "neuron": {"model": "li", "beta": 0.8}},
        decoding="membrane_max", surrogate={"kind": "sigmoid", "slope": 4.0})
    report, _ = verify_spec(spec)
    _assert_ok(report)


def test_verify_command_exit_status(tmp_path, capsys):
    path = tmp_path / "cli.json"
    path.write_text(__import__("json").dumps(small_spec("cli")))
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "gradient  weight.x_to_h" in out and "tolerance: relative 0.0001" in out
    # both programs: the spec's IPU tiles and this machine's CPU-shaped target
    assert "verify cli, ipu layout (" in out and "verify cli, cpu layout (" in out
    assert out.count("gradient  weight.x_to_h") == 2


def test_per_neuron_parameters_and_given_weights(verify_spec, tmp_path):
    """beta, alpha and threshold arrays (one value per neuron, from the arrays file) and a
    given initial weight matrix reach the program as tensors; a gradient threshold makes the
    gradient level per neuron too; cuba_lif and a zero reset; SGD over 2 steps."""
    import numpy as np
    rng = np.random.default_rng(5)
    np.savez(tmp_path / "params.npz", **{
        "h.beta": rng.uniform(0.5, 1.0, 10), "h.threshold": rng.uniform(0.5, 1.5, 10),
        "c.beta": rng.uniform(0.6, 0.95, 7), "c.alpha": rng.uniform(0.2, 0.8, 7),
        "c.threshold": rng.uniform(0.7, 1.3, 7), "out.beta": rng.uniform(0.7, 0.95, 3),
        "a.weight": rng.normal(0.0, 0.8, (12, 10))})
    spec = small_spec(
        "per_neuron",
        hidden=[{"kind": "neuron", "id": "h", "size": 10,
                 "neuron": {"model": "lif", "beta": {"array": "h.beta"}, "threshold": {"array": "h.threshold"},
                            "reset": "zero"},
                 "sparsity": {"max_spikes": 4, "gradient_threshold": 0.6, "overflow": "drop"}},
                {"kind": "neuron", "id": "c", "size": 7,
                 "neuron": {"model": "cuba_lif", "beta": {"array": "c.beta"}, "alpha": {"array": "c.alpha"},
                            "threshold": {"array": "c.threshold"}}}],
        readout={"kind": "neuron", "id": "out", "size": 3, "neuron": {"model": "li", "beta": {"array": "out.beta"}}},
        projections=[{"id": "a", "source": "x", "target": "h", "initial_weights": {"array": "a.weight"}},
                     {"id": "b", "source": "h", "target": "c", "delay": 1, "weight_init": {"scale": 3.0}},
                     {"id": "o", "source": "c", "target": "out", "weight_init": {"scale": 2.0}}],
        decoding="membrane_sum", optimizer={"kind": "sgd", "lr": 0.05})
    spec["arrays"] = "params.npz"
    report, ir = verify_spec(spec, steps=2)
    _assert_ok(report)
    assert isinstance(ir.population("h").threshold, tuple) and isinstance(ir.population("c").alpha, tuple)
    out = __import__("snncc.tensorfile", fromlist=["read"]).read(tmp_path / "run" / "result.bin")
    assert 0 < out["spikes.h"].sum() < out["spikes.h"].size and out["spikes.c"].sum() > 0
    assert out["grad_mask.h"].sum() > out["spikes.h"].sum()  # gradient ids listed beyond the spikes


def test_replayed_update_is_the_reference_step_on_given_gradients(tmp_path):
    """Over one step verify compares the program's weights with the reference optimizer's step on
    the program's gradients: on the reference's own gradients that is the reference's step,
    for Adam and for SGD with momentum."""
    import json

    import numpy as np

    from snncc.ir import spec_to_ir
    from snncc.spec import load_spec
    from snncc.verify.compare import reference, replayed_update
    from snncc.verify.harness import init_tensors, make_batch

    for optimizer in ({"kind": "adam", "lr": 0.01}, {"kind": "sgd", "lr": 0.05, "momentum": 0.9}):
        path = tmp_path / f"replay_{optimizer['kind']}.json"
        path.write_text(json.dumps(small_spec("replay", optimizer=optimizer)))
        ir = spec_to_ir(load_spec(path))
        weights, _ = init_tensors(ir)
        x, y = make_batch(ir, 0)
        _, _, grads, after = reference(ir, weights, x, y, 1)
        replayed = replayed_update(ir, weights, {f"grad.{n}": g.numpy() for n, g in grads.items()})
        for n in after:
            assert np.array_equal(replayed[n].numpy(), after[n].numpy()), (optimizer["kind"], n)
            assert not np.array_equal(after[n].numpy(), weights[n])  # a step was taken
