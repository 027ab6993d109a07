"""Networks built in snnTorch 1.0, exported by snnTorch's own export_to_nir, imported by
`snncc import-nir`: snncc.torch gives spike for spike snnTorch's output on the same
random input, in every layer, over 40 timesteps."""

from __future__ import annotations

import pytest
import torch

import snntorch as snn
from snntorch.export_nir import export_to_nir

T, B = 40, 4


def _scaled(net, gain):
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(gain)
    return net


def _compare(theirs, ours, ir):
    pops = [p.id for p in ir.populations if p.kind == "neuron"]
    assert len(pops) == len(theirs)
    total = 0
    for pid, spk in zip(pops, theirs):
        assert torch.equal(ours[pid], spk), f"{pid}: {int((ours[pid] != spk).sum())} of {spk.numel()} spikes differ"
        total += int(spk.sum())
    assert total > 20  # the comparison is about real spikes
    for spk in theirs:
        assert 0 < spk.sum() < spk.numel()  # every layer spikes, none saturates


def test_leaky_rleaky_synaptic_with_per_neuron_parameters(import_nir, snncc_spikes, snntorch_layer_spikes):
    torch.manual_seed(0)
    n_in, n_h, n_r, n_o = 12, 10, 8, 5
    net = _scaled(torch.nn.Sequential(
        torch.nn.Linear(n_in, n_h),
        snn.Leaky(beta=torch.rand(n_h) * 0.5 + 0.5, threshold=torch.rand(n_h) + 0.5, init_hidden=True),
        torch.nn.Linear(n_h, n_r),
        snn.RLeaky(beta=0.8, linear_features=n_r, init_hidden=True),
        torch.nn.Linear(n_r, n_o, bias=False),
        snn.Synaptic(alpha=torch.rand(n_o) * 0.5 + 0.3, beta=torch.rand(n_o) * 0.5 + 0.4,
                     threshold=torch.rand(n_o) + 0.5, init_hidden=True, output=True),
    ), 3.0)
    graph = export_to_nir(net, torch.zeros(n_in))
    ir, model, printed = import_nir(graph, "--timesteps", str(T))
    assert "dt = 0.0001 s" in printed and "reset = subtract" in printed and "synthetic" in printed
    hid, rec, out = [p for p in ir.populations if p.kind == "neuron"]
    assert isinstance(hid.beta, tuple) and isinstance(hid.threshold, tuple) and isinstance(out.alpha, tuple)
    assert rec.beta == pytest.approx(0.8) and rec.reset == "subtract"
    self_loop = [p for p in ir.projections if p.source == p.target]
    assert len(self_loop) == 1 and self_loop[0].delay == 1 and self_loop[0].source == rec.id
    x = (torch.rand(T, B, n_in) < 0.3).float()
    _compare(snntorch_layer_spikes(net, x), snncc_spikes(model, x), ir)


@pytest.mark.parametrize("mechanism,option", [("subtract", []), ("zero", ["--reset", "zero"])])
def test_leaky_reset_mechanisms(import_nir, snncc_spikes, snntorch_layer_spikes, mechanism, option):
    torch.manual_seed(1)
    net = _scaled(torch.nn.Sequential(
        torch.nn.Linear(9, 11), snn.Leaky(beta=torch.rand(11) * 0.4 + 0.6, threshold=torch.ones(11) * 0.7,
                                          reset_mechanism=mechanism, init_hidden=True),
        torch.nn.Linear(11, 3), snn.Leaky(beta=torch.full((3,), 0.9), threshold=torch.rand(3) + 0.5,
                                          reset_mechanism=mechanism, init_hidden=True, output=True),
    ), 4.0)
    ir, model, _ = import_nir(export_to_nir(net, torch.zeros(9)), "--timesteps", str(T), *option)
    assert ir.populations[1].threshold == pytest.approx(0.7)  # equal values collapse to one number
    x = (torch.rand(T, B, 9) < 0.3).float()
    _compare(snntorch_layer_spikes(net, x), snncc_spikes(model, x), ir)


def test_synaptic_zero_reset_is_zero_updated(import_nir, snncc_spikes, snntorch_layer_spikes):
    """snnTorch's Synaptic(reset_mechanism='zero') zeroes the whole updated membrane: --reset zero_updated."""
    torch.manual_seed(2)
    net = _scaled(torch.nn.Sequential(
        torch.nn.Linear(9, 6), snn.Synaptic(alpha=torch.full((6,), 0.7), beta=torch.rand(6) * 0.3 + 0.6,
                                            threshold=torch.ones(6), reset_mechanism="zero", init_hidden=True),
        torch.nn.Linear(6, 3), snn.Synaptic(alpha=torch.rand(3) * 0.5, beta=torch.full((3,), 0.8),
                                            threshold=torch.ones(3), reset_mechanism="zero", init_hidden=True,
                                            output=True),
    ), 1.5)
    ir, model, _ = import_nir(export_to_nir(net, torch.zeros(9)), "--timesteps", str(T), "--reset", "zero_updated")
    x = (torch.rand(T, B, 9) < 0.3).float()
    _compare(snntorch_layer_spikes(net, x), snncc_spikes(model, x), ir)
