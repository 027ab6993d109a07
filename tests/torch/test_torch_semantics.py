"""Reference semantics against hand-computed values: surrogates, the gradient threshold,
spike capacity and overflow, delays, leaky integrators, decodings, initialisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from snncc.spec import models as m
from snncc.torch import SpikeOverflowError, build_model, initial_weights, reference_step, spike


def _surrogate_grad(sg, xs):
    x = torch.tensor(xs, requires_grad=True)
    out = spike(x, sg)
    out.sum().backward()
    return out.detach().tolist(), x.grad.tolist()


def test_step_forward_is_strict():
    out, _ = _surrogate_grad(m.Boxcar(kind="boxcar"), [-1.0, 0.0, 1e-7, 2.0])
    assert out == [0.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("sg,xs,expected", [
    # max(0, 1 - |x|/w) / w with w = 0.5
    (m.Triangle(kind="triangle", width=0.5), [-0.6, -0.25, 0.0, 0.1, 0.5], [0.0, 1.0, 2.0, 1.6, 0.0]),
    # 1/(2w) inside |x| < w, with w = 0.5: 1
    (m.Boxcar(kind="boxcar", width=0.5), [-0.6, -0.49, 0.0, 0.3, 0.5], [0.0, 1.0, 1.0, 1.0, 0.0]),
    # k s (1 - s): k/4 at 0; s = 3/4 at x = ln 3 / k, so 3k/16; k = 4
    (m.Sigmoid(kind="sigmoid", slope=4.0), [0.0, math.log(3) / 4, -math.log(3) / 4], [1.0, 0.75, 0.75]),
    # 1 / (k|x| + 1)^2, k = 25: x = 0.04 -> 1/4, x = -0.12 -> 1/16
    (m.FastSigmoid(kind="fast_sigmoid", slope=25.0), [0.0, 0.04, -0.12], [1.0, 0.25, 0.0625]),
    # (a/2) / (1 + (pi/2 a x)^2), a = 2: x = 1/pi -> 1/2
    (m.Atan(kind="atan", alpha=2.0), [0.0, 1 / math.pi], [1.0, 0.5]),
])
def test_surrogate_derivatives(sg, xs, expected):
    _, grads = _surrogate_grad(sg, xs)
    assert grads == pytest.approx(expected, rel=1e-6, abs=1e-7)


def _one_step_ir(build_ir, weights_count=5, sparsity=None, surrogate=None, timesteps=1, overflow="drop"):
    sparsity = dict(sparsity or {})
    if "max_spikes" in sparsity:
        sparsity["overflow"] = overflow
    pops = [
        {"kind": "input", "id": "x", "size": 1},
        {"kind": "neuron", "id": "h", "size": weights_count,
         "neuron": {"model": "lif", "beta": 1.0, "threshold": 1.0, "reset": "none"}, "sparsity": sparsity},
    ]
    return build_ir(pops, [{"id": "xh", "source": "x", "target": "h", "bias": False}], timesteps=timesteps,
                    surrogate=surrogate or {"kind": "boxcar", "width": 1.0},
                    data={"kind": "synthetic", "num_classes": weights_count, "num_samples": 20})


W = [1.5, 0.95, 0.5, 0.92, 1.2]  # U at t = 0 with the input spiking: spikes at 0 and 4


def _step(ir, x):
    weights = {"weight.xh": torch.tensor([W])}
    model = build_model(ir)
    model.set_weights(weights)
    r = model(x)
    r.spikes["h"].sum().backward()
    return r, model.weight["xh"].grad[0].tolist()


def test_dense_surrogate_reaches_every_neuron(build_ir):
    r, grad = _step(_one_step_ir(build_ir), torch.ones(1, 1, 1))
    assert r.spikes["h"][0, 0].tolist() == [1, 0, 0, 0, 1]
    assert grad == pytest.approx([0.5] * 5)  # boxcar w = 1: 1/2 for every |U - 1| < 1


def test_gradient_threshold_list(build_ir):
    # capacity 3, second threshold 0.9: the list is spikes {0, 4}, then the first
    # non-spiking neuron with U >= 0.9 (1, U = 0.95); neuron 3 (0.92) finds no room, 2 is below
    ir = _one_step_ir(build_ir, sparsity={"max_spikes": 3, "gradient_threshold": 0.9})
    r, grad = _step(ir, torch.ones(1, 1, 1))
    assert r.grad_mask["h"][0, 0].tolist() == [1, 1, 0, 0, 1]
    assert grad == pytest.approx([0.5, 0.5, 0.0, 0.0, 0.5])


def test_gradient_threshold_with_room_takes_all_candidates(build_ir):
    ir = _one_step_ir(build_ir, sparsity={"max_spikes": 5, "gradient_threshold": 0.9})
    _, grad = _step(ir, torch.ones(1, 1, 1))
    assert grad == pytest.approx([0.5, 0.5, 0.0, 0.5, 0.5])


def test_drop_keeps_lowest_index_spikes_and_counts_the_rest(build_ir):
    ir = _one_step_ir(build_ir, sparsity={"max_spikes": 1, "gradient_threshold": 0.9})
    r, grad = _step(ir, torch.ones(1, 1, 1))
    assert r.spikes["h"][0, 0].tolist() == [1, 0, 0, 0, 0]
    assert int(r.overflow["h"].sum()) == 1
    assert grad == pytest.approx([0.5, 0.0, 0.0, 0.0, 0.0])  # a full list leaves no room for gradient ids


def test_drop_is_per_sample_and_timestep(build_ir):
    ir = _one_step_ir(build_ir, sparsity={"max_spikes": 1}, timesteps=2)
    x = torch.tensor([[[1.0], [0.0]], [[1.0], [1.0]]])  # [T=2, B=2, 1]
    r, _ = _step(ir, x)
    # reset none, beta 1: sample 0 has U = 2 W at t = 1: [3, 1.9, 1.0, 1.84, 2.4], four
    # strictly above theta = 1; sample 1 has U = W at t = 1: two spikes
    assert r.spikes["h"].tolist() == [[[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
                                      [[1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]]
    assert r.overflow["h"].tolist() == [[1, 0], [3, 1]]


def test_overflow_error_names_population_timestep_sample(build_ir):
    ir = _one_step_ir(build_ir, sparsity={"max_spikes": 1}, timesteps=2, overflow="error")
    x = torch.tensor([[[0.0], [0.0]], [[0.0], [1.0]]])
    with pytest.raises(SpikeOverflowError) as err:
        _step(ir, x)
    assert (err.value.population, err.value.timestep, err.value.sample) == ("h", 1, 1)
    assert "population 'h'" in str(err.value) and "timestep 1" in str(err.value) and "sample 1" in str(err.value)


def test_input_capacity_drops_input_spikes(build_ir):
    pops = [
        {"kind": "input", "id": "x", "size": 4, "sparsity": {"max_spikes": 2}},
        {"kind": "neuron", "id": "h", "size": 3, "neuron": {"model": "if", "threshold": 100.0}},
    ]
    ir = build_ir(pops, [{"id": "xh", "source": "x", "target": "h", "bias": False}], timesteps=1,
                  data={"kind": "synthetic", "num_classes": 3, "num_samples": 20})
    model = build_model(ir)
    model.set_weights({"weight.xh": torch.tensor([[1.0, 0, 0], [10.0, 0, 0], [100.0, 0, 0], [1000.0, 0, 0]])})
    r = model(torch.tensor([[[0.0, 1.0, 1.0, 1.0]]]))
    assert r.spikes["x"][0, 0].tolist() == [0, 1, 1, 0]
    assert r.mem["h"][0, 0, 0].item() == pytest.approx(110.0)
    assert int(r.overflow["x"].sum()) == 1


def test_delay_and_bias_from_t0(build_ir):
    pops = [
        {"kind": "input", "id": "x", "size": 1},
        {"kind": "neuron", "id": "h", "size": 2, "neuron": {"model": "if", "threshold": 100.0}},
    ]
    ir = build_ir(pops, [{"id": "xh", "source": "x", "target": "h", "delay": 2}], timesteps=5,
                  data={"kind": "synthetic", "num_classes": 2, "num_samples": 20})
    model = build_model(ir)
    model.set_weights({"weight.xh": torch.tensor([[0.5, 0.0]]), "bias.xh": torch.tensor([0.1, 0.0])})
    x = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0]).reshape(5, 1, 1)
    r = model(x)
    # I[t] = 0.1 + 0.5 x[t - 2]; U[t] = U[t-1] + I[t]
    assert r.mem["h"][:, 0, 0].tolist() == pytest.approx([0.1, 0.2, 0.8, 1.4, 1.5], abs=1e-6)


def test_zero_delay_chain_updates_in_the_same_timestep_and_delayed_chain_lags(build_ir):
    def chain(delay):
        pops = [
            {"kind": "input", "id": "x", "size": 1},
            {"kind": "neuron", "id": "a", "size": 2, "neuron": {"model": "if", "threshold": 0.5, "reset": "zero"}},
            {"kind": "neuron", "id": "b", "size": 2, "neuron": {"model": "if", "threshold": 0.5, "reset": "zero"}},
        ]
        projs = [{"id": "xa", "source": "x", "target": "a", "bias": False},
                 {"id": "ab", "source": "a", "target": "b", "bias": False, "delay": delay}]
        ir = build_ir(pops, projs, timesteps=4, data={"kind": "synthetic", "num_classes": 2, "num_samples": 20})
        model = build_model(ir)
        model.set_weights({"weight.xa": torch.tensor([[1.0, 0.0]]), "weight.ab": torch.tensor([[1.0, 0.0], [0.0, 0.0]])})
        return model(torch.tensor([1.0, 0, 0, 0]).reshape(4, 1, 1)).spikes["b"][:, 0, 0].tolist()

    assert chain(0) == [1, 0, 0, 0]
    assert chain(1) == [0, 1, 0, 0]


@pytest.mark.parametrize("reset,expected", [
    # beta 0.5, theta 1, I = 0.8 each step. U: 0.8, 1.2 (spike), then R = 1 at t = 2:
    ("subtract", [0.8, 1.2, 0.4]),  # 0.5 x 1.2 + 0.8 - 1
    ("zero", [0.8, 1.2, 0.8]),  # previous membrane zeroed, input kept
    ("zero_updated", [0.8, 1.2, 0.0]),  # the whole updated membrane zeroed
    ("none", [0.8, 1.2, 0.5 * 1.2 + 0.8]),
])
def test_reset_modes(build_ir, reset, expected):
    pops = [
        {"kind": "input", "id": "x", "size": 1},
        {"kind": "neuron", "id": "h", "size": 2, "neuron": {"model": "lif", "beta": 0.5, "reset": reset}},
    ]
    ir = build_ir(pops, [{"id": "xh", "source": "x", "target": "h", "bias": False}], timesteps=3,
                  data={"kind": "synthetic", "num_classes": 2, "num_samples": 20})
    model = build_model(ir)
    model.set_weights({"weight.xh": torch.tensor([[0.8, 0.0]])})
    r = model(torch.ones(3, 1, 1))
    assert r.mem["h"][:, 0, 0].tolist() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("decoding", ["membrane_sum", "membrane_max"])
def test_leaky_integrator_readout(build_ir, decoding):
    pops = [
        {"kind": "input", "id": "x", "size": 1},
        {"kind": "neuron", "id": "o", "size": 2, "neuron": {"model": "li", "beta": 0.5}},
    ]
    ir = build_ir(pops, [{"id": "xo", "source": "x", "target": "o", "bias": False}], timesteps=4,
                  readout={"population": "o", "decoding": decoding},
                  data={"kind": "synthetic", "num_classes": 2, "num_samples": 20})
    model = build_model(ir)
    model.set_weights({"weight.xo": torch.tensor([[0.5, 0.0]])})
    # beta 0.5, x = 1, 1, 0, 0, w = 0.5: U = 0.5, 0.75, 0.375, 0.1875
    r = model(torch.tensor([1.0, 1.0, 0.0, 0.0]).reshape(4, 1, 1))
    trace = [0.5, 0.75, 0.375, 0.1875]
    assert r.mem["o"][:, 0, 0].tolist() == pytest.approx(trace)
    want = sum(trace) if decoding == "membrane_sum" else max(trace)
    assert float(r.scores[0, 0].detach()) == pytest.approx(want)
    assert "o" not in r.spikes


def test_initial_weights_layout_and_bounds(build_ir):
    pops = [
        {"kind": "input", "id": "x", "size": 100},
        {"kind": "neuron", "id": "h", "size": 30, "neuron": {"model": "lif", "beta": 0.9}},
        {"kind": "neuron", "id": "o", "size": 4, "neuron": {"model": "lif", "beta": 0.9}},
    ]
    projs = [
        {"id": "xh", "source": "x", "target": "h", "weight_init": {"scale": 2.0}},
        {"id": "ho", "source": "h", "target": "o", "weight_init": {"distribution": "normal"}},
    ]
    ir = build_ir(pops, projs)
    w = initial_weights(ir)
    assert w["weight.xh"].shape == (100, 30) and w["bias.xh"].shape == (30,)
    assert float(w["weight.xh"].abs().max()) <= 2.0 / 10 and float(w["weight.xh"].abs().max()) > 0.19
    assert float(w["bias.xh"].abs().max()) <= 1.0 / 10
    assert float(w["weight.ho"].std()) == pytest.approx(1 / math.sqrt(30), rel=0.25)
    again = initial_weights(ir)
    assert all(torch.equal(w[k], again[k]) for k in w)  # deterministic from the seed


def test_sparse_masks_and_masked_weights_stay_zero(build_ir):
    pops = [
        {"kind": "input", "id": "x", "size": 40},
        {"kind": "neuron", "id": "h", "size": 30, "neuron": {"model": "lif", "beta": 0.9}},
        {"kind": "neuron", "id": "o", "size": 3, "neuron": {"model": "lif", "beta": 0.9}},
    ]
    projs = [
        {"id": "xh", "source": "x", "target": "h", "connectivity": {"kind": "sparse", "fan_in": 7, "seed": 3},
         "weight_init": {"scale": 3.0}},
        {"id": "ho", "source": "h", "target": "o", "connectivity": {"kind": "sparse", "probability": 0.5, "seed": 1}},
    ]
    ir = build_ir(pops, projs, timesteps=10)
    w = initial_weights(ir)
    nonzero = (w["weight.xh"] != 0).sum(dim=0)
    assert nonzero.tolist() == [7] * 30  # exactly fan_in inputs per target
    x = (torch.rand(10, 8, 40, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    step = reference_step(ir, None, x, torch.arange(8) % 3)
    for name in ("weight.xh", "weight.ho"):
        masked = w[name] == 0
        assert float(step.gradients[name][masked].abs().max()) == 0.0
        assert float(step.weights[name][masked].abs().max()) == 0.0
        assert float(step.gradients[name][~masked].abs().max()) > 0.0


def test_reference_step_is_one_adam_step(build_ir):
    """reference_step's updated weights are torch.optim.Adam's first step from its gradients:
    w - lr * sign(g) (for |g| >> eps)."""
    pops = [
        {"kind": "input", "id": "x", "size": 10},
        {"kind": "neuron", "id": "o", "size": 3, "neuron": {"model": "lif", "beta": 0.9}},
    ]
    ir = build_ir(pops, [{"id": "xo", "source": "x", "target": "o", "weight_init": {"scale": 4.0}}], timesteps=10,
                  optimizer={"kind": "adam", "lr": 0.01})
    x = (torch.rand(10, 5, 10, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    w0 = initial_weights(ir)
    step = reference_step(ir, w0, x, torch.tensor([0, 1, 2, 0, 1]))
    g = step.gradients["weight.xo"]
    big = g.abs() > 1e-4
    expected = w0["weight.xo"] - 0.01 * torch.sign(g)
    torch.testing.assert_close(step.weights["weight.xo"][big], expected[big], rtol=0, atol=1e-6)
    assert np.isfinite(step.loss)
