"""snncc.torch against snnTorch 1.0 where the two overlap: same weights and inputs, same
membrane traces and spikes (1e-6) and weight gradients (1e-5 relative) over 30 steps."""

from __future__ import annotations

import pytest
import snntorch as snn
import torch
from snntorch import surrogate as snn_surrogate
from snntorch.functional import mse_count_loss

from snncc.torch import ForwardResult, build_model, per_sample_loss

T, B, N_IN, N_H, N_OUT = 30, 4, 20, 24, 6
BETA, ALPHA, THETA = 0.9, 0.8, 1.0

SURROGATES = {
    "atan": ({"kind": "atan", "alpha": 2.0}, lambda: snn_surrogate.atan(alpha=2.0)),
    "fast_sigmoid": ({"kind": "fast_sigmoid", "slope": 25.0}, lambda: snn_surrogate.fast_sigmoid(slope=25)),
}


def _neuron(kind: str, reset: str) -> dict:
    if kind == "synaptic":
        # snnTorch's Synaptic 'zero' zeroes the whole updated membrane: our zero_updated
        return {"model": "cuba_lif", "beta": BETA, "alpha": ALPHA, "threshold": THETA,
                "reset": "zero_updated" if reset == "zero" else reset}
    if kind == "rleaky":
        return {"model": "lif", "beta": BETA, "threshold": THETA,
                "reset": "zero_updated" if reset == "zero" else reset}
    return {"model": "lif", "beta": BETA, "threshold": THETA, "reset": reset}


def _ours(build_ir, kind, reset, surrogate):
    pops = [
        {"kind": "input", "id": "x", "size": N_IN},
        {"kind": "neuron", "id": "h", "size": N_H, "neuron": _neuron(kind, reset)},
        {"kind": "neuron", "id": "o", "size": N_OUT, "neuron": _neuron(kind, reset)},
    ]
    # synaptic currents integrate about 1 / (1 - alpha) = 5x more: smaller weights keep U of order 1
    scale = 1.2 if kind == "synaptic" else 4.0
    projs = [
        {"id": "xh", "source": "x", "target": "h", "weight_init": {"scale": scale}},
        {"id": "ho", "source": "h", "target": "o", "weight_init": {"scale": scale}},
    ]
    if kind == "rleaky":
        projs.append({"id": "hh", "source": "h", "target": "h", "delay": 1, "weight_init": {"scale": 2.0}})
    return build_model(build_ir(pops, projs, timesteps=T, surrogate=surrogate))


def _snntorch_layer(kind, reset, spike_grad, size):
    if kind == "synaptic":
        return snn.Synaptic(alpha=ALPHA, beta=BETA, threshold=THETA, spike_grad=spike_grad, reset_mechanism=reset)
    if kind == "rleaky":
        return snn.RLeaky(beta=BETA, threshold=THETA, spike_grad=spike_grad, reset_mechanism=reset,
                          linear_features=size)
    return snn.Leaky(beta=BETA, threshold=THETA, spike_grad=spike_grad, reset_mechanism=reset)


def _run_snntorch(kind, reset, spike_grad, model, x):
    """The same network written as an snnTorch user would, with our initial weights."""
    fc1, fc2 = torch.nn.Linear(N_IN, N_H), torch.nn.Linear(N_H, N_OUT)
    with torch.no_grad():
        fc1.weight.copy_(model.weight["xh"].T)
        fc1.bias.copy_(model.bias["xh"])
        fc2.weight.copy_(model.weight["ho"].T)
        fc2.bias.copy_(model.bias["ho"])
    lif1 = _snntorch_layer(kind, reset, spike_grad, N_H)
    lif2 = _snntorch_layer(kind, reset, spike_grad, N_OUT)
    if kind == "rleaky":
        with torch.no_grad():
            lif1.recurrent.weight.copy_(model.weight["hh"].T)
            lif1.recurrent.bias.copy_(model.bias["hh"])
        # the output layer of our spec has no self projection: silence the snnTorch one
        lif2.recurrent.weight.data.zero_()
        lif2.recurrent.bias.data.zero_()
    rec = {"h_spk": [], "h_mem": [], "o_spk": [], "o_mem": []}
    if kind == "synaptic":
        syn1, mem1 = lif1.reset_mem()
        syn2, mem2 = lif2.reset_mem()
    elif kind == "rleaky":
        spk1, mem1 = lif1.reset_mem()
        spk2, mem2 = lif2.reset_mem()
    else:
        mem1, mem2 = lif1.reset_mem(), lif2.reset_mem()
    for t in range(T):
        cur1 = fc1(x[t])
        if kind == "synaptic":
            spk1, syn1, mem1 = lif1(cur1, syn1, mem1)
            spk2, syn2, mem2 = lif2(fc2(spk1), syn2, mem2)
        elif kind == "rleaky":
            spk1, mem1 = lif1(cur1, spk1, mem1)
            spk2, mem2 = lif2(fc2(spk1), spk2, mem2)
        else:
            spk1, mem1 = lif1(cur1, mem1)
            spk2, mem2 = lif2(fc2(spk1), mem2)
        for key, v in (("h_spk", spk1), ("h_mem", mem1), ("o_spk", spk2), ("o_mem", mem2)):
            rec[key].append(v)
    rec = {k: torch.stack(v) for k, v in rec.items()}
    grads = [fc1.weight, fc1.bias, fc2.weight, fc2.bias]
    names = ["weight.xh", "bias.xh", "weight.ho", "bias.ho"]
    if kind == "rleaky":
        grads += [lif1.recurrent.weight, lif1.recurrent.bias]
        names += ["weight.hh", "bias.hh"]
    return rec, grads, names


def _loss(rec, coeffs):
    return sum((rec[k] * coeffs[k]).sum() for k in coeffs)


def _assert_grad_close(ours, theirs, name):
    scale = theirs.abs().max().clamp(min=1e-12)
    err = float((ours - theirs).abs().max() / scale)
    assert err <= 1e-5, f"{name}: relative gradient error {err:.2e}"


CASES = [(k, r, s) for k in ("leaky", "synaptic") for r in ("subtract", "zero", "none") for s in SURROGATES]
CASES += [("rleaky", r, s) for r in ("subtract", "zero") for s in SURROGATES]


@pytest.mark.parametrize("kind,reset,surrogate", CASES, ids=["-".join(c) for c in CASES])
def test_matches_snntorch(build_ir, kind, reset, surrogate):
    ours_sg, theirs_sg = SURROGATES[surrogate]
    model = _ours(build_ir, kind, reset, ours_sg)
    gen = torch.Generator().manual_seed(1)
    x = (torch.rand(T, B, N_IN, generator=gen) < 0.3).float()
    coeffs = {k: torch.randn(T, B, N_H if k[0] == "h" else N_OUT, generator=gen)
              for k in ("h_spk", "h_mem", "o_spk", "o_mem")}

    rec, params, names = _run_snntorch(kind, reset, theirs_sg(), model, x)
    _loss(rec, coeffs).backward()

    r = model(x)
    mine = {"h_spk": r.spikes["h"], "h_mem": r.mem["h"], "o_spk": r.spikes["o"], "o_mem": r.mem["o"]}
    _loss(mine, coeffs).backward()

    # the comparison means something only if neurons spike and get reset
    h_rate, o_rate = float(mine["h_spk"].detach().mean()), float(mine["o_spk"].detach().mean())
    assert 0.02 < h_rate < 0.8 and o_rate > 0.01, (h_rate, o_rate)
    for key in rec:
        # 1e-6 absolute for traces of order 1; float32 rounding grows with the membrane's size
        atol = 1e-6 * max(1.0, float(rec[key].detach().abs().max()))
        torch.testing.assert_close(mine[key], rec[key].detach(), rtol=1e-6, atol=atol, msg=key)
    weights = model.weights()
    for name, p in zip(names, params):
        ours = weights[name].grad
        theirs = p.grad.T if name.startswith("weight.") else p.grad
        _assert_grad_close(ours, theirs, name)


def test_mse_count_matches_snntorch(build_ir):
    pops = [{"kind": "input", "id": "x", "size": 3},
            {"kind": "neuron", "id": "o", "size": 5, "neuron": {"model": "lif", "beta": 0.9}}]
    ir = build_ir(pops, [{"id": "xo", "source": "x", "target": "o"}], timesteps=25,
                  loss={"kind": "mse_count", "correct_rate": 0.8, "incorrect_rate": 0.2})
    gen = torch.Generator().manual_seed(3)
    spikes = (torch.rand(25, 6, 5, generator=gen) < 0.4).float()
    labels = torch.tensor([0, 4, 2, 2, 1, 3])
    result = ForwardResult({"o": spikes}, {}, {}, {}, {}, spikes.sum(0))
    ours = per_sample_loss(ir.settings.loss, result, labels, "o").mean()
    theirs = mse_count_loss(correct_rate=0.8, incorrect_rate=0.2)(spikes, labels)
    torch.testing.assert_close(ours, theirs.reshape(()), rtol=1e-6, atol=1e-6)
