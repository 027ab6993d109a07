"""precision float16 in the reference (docs/training.md, "float16"): weights and biases used
as their float16 copies, membranes and synaptic currents stored as float16 once per timestep,
sums and gradients in float32.

The oracle is a numpy simulation of the same network with numpy's own float16 rounding, on
values chosen so that every float32 sum is exact (weights of at least 2^-10 in magnitude, 0/1
inputs, beta and alpha powers of two): the membranes, synaptic currents and spikes must then be
equal bit for bit, whatever order torch sums in."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snncc.torch.network import build_model

from snn_specs import make_ir

T, B, N_IN, N_H, N_OUT = 12, 3, 10, 7, 4


def ir_for(precision: str, model: str, reset: str):
    neuron = {"model": model, "beta": 0.75, "threshold": 1.0, "reset": reset}
    if model == "cuba_lif":
        neuron["alpha"] = 0.5
    pops = [{"kind": "input", "id": "i", "size": N_IN},
            {"kind": "neuron", "id": "h", "size": N_H, "neuron": neuron},
            {"kind": "neuron", "id": "o", "size": N_OUT, "neuron": {"model": "lif", "beta": 0.75}}]
    projs = [{"id": "ih", "source": "i", "target": "h", "bias": True}, {"id": "ho", "source": "h", "target": "o", "bias": False}]
    ir = make_ir(pops, projs, timesteps=T, batch_size=B)
    import dataclasses

    return dataclasses.replace(ir, settings=dataclasses.replace(ir.settings, precision=precision))


def weights(rng) -> dict[str, np.ndarray]:
    """float32 values that float16 rounds (at least 2^-10 in magnitude, so that float32 sums
    of their float16 copies are exact)."""
    def draw(*shape):
        w = rng.uniform(-0.9, 0.9, shape).astype(np.float32)
        w[np.abs(w) < 2.0 ** -10] = 0.0
        return w
    return {"weight.ih": draw(N_IN, N_H), "bias.ih": draw(N_H) * 0.2, "weight.ho": draw(N_H, N_OUT)}


def oracle(x: np.ndarray, w: dict[str, np.ndarray], model: str, reset: str):
    """The float16 semantics in numpy: (mem h, syn h, spikes h, mem o)."""
    f16 = lambda a: a.astype(np.float16).astype(np.float32)  # noqa: E731
    w_ih, b_ih, w_ho = f16(w["weight.ih"]), f16(w["bias.ih"]), f16(w["weight.ho"])
    u = np.zeros((B, N_H), np.float32)
    syn = np.zeros((B, N_H), np.float32)
    uo = np.zeros((B, N_OUT), np.float32)
    mems, syns, spikes, outs = [], [], [], []
    for t in range(T):
        current = x[t] @ w_ih + b_ih
        if model == "cuba_lif":
            syn = f16(np.float32(0.5) * syn + current)
            current = syn
        fired = (u - 1.0 > 0).astype(np.float32)
        if reset == "subtract":
            u = np.float32(0.75) * u + current - fired
        elif reset == "zero":
            u = np.float32(0.75) * ((1 - fired) * u) + current
        else:  # zero_updated
            u = (1 - fired) * (np.float32(0.75) * u + current)
        u = f16(u)
        s = (u - 1.0 > 0).astype(np.float32)
        uo = f16(np.float32(0.75) * uo + s @ w_ho - (uo - 1.0 > 0).astype(np.float32))  # lif's default: subtract
        mems.append(u), syns.append(syn), spikes.append(s), outs.append(uo)
    return np.stack(mems), np.stack(syns), np.stack(spikes), np.stack(outs)


@pytest.mark.parametrize("model,reset", [("lif", "subtract"), ("lif", "zero"), ("lif", "zero_updated"),
                                         ("cuba_lif", "subtract")])
@pytest.mark.parametrize("multi_step", [True, False])
def test_float16_states_equal_a_numpy_float16_simulation(model, reset, multi_step):
    rng = np.random.default_rng(3)
    w = weights(rng)
    x = (rng.random((T, B, N_IN)) < 0.4).astype(np.float32)
    net = build_model(ir_for("float16", model, reset), multi_step=multi_step)
    net.set_weights({k: torch.from_numpy(v) for k, v in w.items()})
    with torch.no_grad():
        result = net(torch.from_numpy(x))
    mem, syn, spikes, out = oracle(x, w, model, reset)
    assert spikes.sum() > 0 and (mem != np.float32(mem.astype(np.float64))).sum() == 0
    np.testing.assert_array_equal(result.mem["h"].numpy(), mem)
    np.testing.assert_array_equal(result.spikes["h"].numpy(), spikes)
    np.testing.assert_array_equal(result.mem["o"].numpy(), out)
    if model == "cuba_lif":
        np.testing.assert_array_equal(result.syn["h"].numpy(), syn)
    # and float32 is a different network on these weights: the rounding is really applied
    net32 = build_model(ir_for("float32", model, reset), multi_step=multi_step)
    net32.set_weights({k: torch.from_numpy(v) for k, v in w.items()})
    with torch.no_grad():
        assert not torch.equal(net32(torch.from_numpy(x)).mem["h"], result.mem["h"])


def test_gradients_pass_the_rounding_and_both_forms_agree():
    """The multi-step form's hand-written backward and plain autograd over the timestep-by-
    timestep form give the same float32 gradients of the float32 master weights."""
    rng = np.random.default_rng(4)
    w = weights(rng)
    x = torch.from_numpy((rng.random((T, B, N_IN)) < 0.4).astype(np.float32))
    grads = []
    for multi_step in (True, False):
        net = build_model(ir_for("float16", "lif", "subtract"), multi_step=multi_step)
        net.set_weights({k: torch.from_numpy(v) for k, v in w.items()})
        result = net(x)
        (result.mem["o"].sum() + result.spikes["h"].sum()).backward()
        grads.append({k: p.grad.clone() for k, p in net.weights().items()})
    for k in grads[0]:
        assert grads[0][k].abs().sum() > 0, k
        torch.testing.assert_close(grads[0][k], grads[1][k], rtol=1e-5, atol=1e-6)
