"""Networks built in snnTorch 1.0, exported by snnTorch's own export_to_nir, imported by
`snncc import-nir`: snncc.torch gives spike for spike snnTorch's output on the same
random input, in every layer, over 40 timesteps."""

from __future__ import annotations

import numpy as np
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


def _zero_reset_net(rleaky_mechanism="zero"):
    """Leaky -> RLeaky -> Synaptic, every one with reset_mechanism='zero' (RLeaky's may differ),
    as default-built as snnTorch 1.0's export allows: its export_to_nir needs Leaky's and
    Synaptic's beta, alpha and threshold per neuron (scalars fail its type inference); RLeaky's
    are scalars."""
    n_in, n_h, n_r, n_o = 12, 10, 8, 5
    return _scaled(torch.nn.Sequential(
        torch.nn.Linear(n_in, n_h),
        snn.Leaky(beta=torch.rand(n_h) * 0.3 + 0.6, threshold=torch.ones(n_h), reset_mechanism="zero",
                  init_hidden=True),
        torch.nn.Linear(n_h, n_r),
        snn.RLeaky(beta=0.9, linear_features=n_r, reset_mechanism=rleaky_mechanism, init_hidden=True),
        torch.nn.Linear(n_r, n_o),
        snn.Synaptic(alpha=torch.full((n_o,), 0.8), beta=torch.rand(n_o) * 0.3 + 0.6, threshold=torch.ones(n_o),
                     reset_mechanism="zero", init_hidden=True, output=True),
    ), 3.0)


def test_reset_zero_is_mapped_per_module_kind(import_nir, snncc_spikes, snntorch_layer_spikes):
    """--reset zero, snnTorch's own name: snncc's zero for Leaky, zero_updated for RLeaky and Synaptic."""
    torch.manual_seed(5)
    net = _zero_reset_net()
    graph = export_to_nir(net, torch.zeros(12))
    ir, model, printed = import_nir(graph, "--timesteps", str(T), "--reset", "zero")
    leaky, rleaky, synaptic = [p for p in ir.populations if p.kind == "neuron"]
    assert (leaky.reset, rleaky.reset, synaptic.reset) == ("zero", "zero_updated", "zero_updated")
    assert f"{rleaky.id} (NIR node 3.lif), LIF, snnTorch's RLeaky: zero_updated (--reset zero: " in printed
    assert "snnTorch's Leaky: zero (--reset zero: " in printed and "snnTorch's Synaptic: zero_updated" in printed
    x = (torch.rand(T, B, 12) < 0.3).float()
    theirs = snntorch_layer_spikes(net, x)
    _compare(theirs, snncc_spikes(model, x), ir)
    # the mapping matters: snncc's 'zero' everywhere (snncc:zero) gives other spikes in RLeaky or Synaptic
    ir2, model2, _ = import_nir(graph, "--timesteps", str(T), "--reset", "snncc:zero")
    assert {p.reset for p in ir2.populations if p.kind == "neuron"} == {"zero"}
    ours2 = snncc_spikes(model2, x)
    assert not all(torch.equal(ours2[p.id], spk) for p, spk in zip((rleaky, synaptic), theirs[1:]))


def test_rleaky_as_a_nested_graph(import_nir, snncc_spikes, snntorch_layer_spikes):
    """snnTorch's RLeaky subgraph nested as a NIRGraph node (as older snnTorch exports wrote it),
    from snnTorch's own module conversion: recognised as RLeaky all the same."""
    import nir

    from snntorch.export_nir import _extract_snntorch_module

    torch.manual_seed(6)
    net = _zero_reset_net()
    nodes = {"input": nir.Input(input_type={"input": np.array([12])}),
             **{str(i): _extract_snntorch_module(m) for i, m in enumerate(net)},
             "output": nir.Output(output_type={"output": np.array([5])})}
    assert isinstance(nodes["3"], nir.NIRGraph)
    names = ["input", *map(str, range(len(net))), "output"]
    graph = nir.NIRGraph(nodes=nodes, edges=list(zip(names, names[1:])), type_check=False)
    ir, model, printed = import_nir(graph, "--timesteps", str(T), "--reset", "zero")
    assert [p.reset for p in ir.populations if p.kind == "neuron"] == ["zero", "zero_updated", "zero_updated"]
    assert "(NIR node 3.lif), LIF, snnTorch's RLeaky: zero_updated" in printed
    x = (torch.rand(T, B, 12) < 0.3).float()
    _compare(snntorch_layer_spikes(net, x), snncc_spikes(model, x), ir)


def test_per_population_reset(import_nir, snncc_spikes, snntorch_layer_spikes):
    """--reset zero --reset POP=subtract: the RLeaky built with subtract, named by its NIR node."""
    torch.manual_seed(7)
    net = _zero_reset_net(rleaky_mechanism="subtract")
    ir, model, printed = import_nir(export_to_nir(net, torch.zeros(12)), "--timesteps", str(T),
                                    "--reset", "zero", "--reset", "3.lif=subtract")
    leaky, rleaky, synaptic = [p for p in ir.populations if p.kind == "neuron"]
    assert (leaky.reset, rleaky.reset, synaptic.reset) == ("zero", "subtract", "zero_updated")
    assert "snnTorch's RLeaky: subtract (--reset 3.lif=subtract: " in printed
    x = (torch.rand(T, B, 12) < 0.3).float()
    _compare(snntorch_layer_spikes(net, x), snncc_spikes(model, x), ir)
    # the population id names it too
    ir2, _, _ = import_nir(export_to_nir(net, torch.zeros(12)), "--reset", "zero", "--reset", f"{rleaky.id}=subtract")
    assert [p.reset for p in ir2.populations if p.kind == "neuron"] == ["zero", "subtract", "zero_updated"]


@pytest.mark.parametrize("options,fragment", [
    (["--reset", "reset_to_zero"], "--reset reset_to_zero: unknown reset mechanism 'reset_to_zero' (choose from "
                                   "subtract, zero, none, zero_updated"),
    (["--reset", "nope=zero"], "--reset nope=zero: no spiking population 'nope' (known: pop_1 (NIR node 1), "
                               "pop_3 (NIR node 3))"),
    (["--reset", "zero", "--reset", "subtract"], "--reset zero and --reset subtract: give one mechanism"),
    (["--reset", "1=zero", "--reset", "1=none"], "--reset 1=none: population '1' is given twice"),
])
def test_reset_option_errors(tmp_path, capsys, options, fragment):
    import nir

    from snncc.cli import main

    net = torch.nn.Sequential(torch.nn.Linear(3, 4), snn.Leaky(beta=torch.full((4,), 0.9), threshold=torch.ones(4),
                                                               init_hidden=True),
                              torch.nn.Linear(4, 2), snn.Leaky(beta=torch.full((2,), 0.9), threshold=torch.ones(2),
                                                               init_hidden=True, output=True))
    nir.write(str(tmp_path / "n.nir"), export_to_nir(net, torch.zeros(3)))
    assert main(["import-nir", str(tmp_path / "n.nir"), "-o", str(tmp_path / "m.json"), *options]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("snncc import-nir: error: ") and fragment in err, err
    assert not (tmp_path / "m.json").exists()


def test_snntorch_file_read_with_norse_convention_warns(import_nir):
    torch.manual_seed(8)
    net = _zero_reset_net()
    _, _, printed = import_nir(export_to_nir(net, torch.zeros(12)), "--convention", "norse")
    assert "WARNING: the file looks like one from snnTorch's export_to_nir" in printed
    assert "leave out --convention norse" in printed
    _, _, printed = import_nir(export_to_nir(net, torch.zeros(12)))
    assert "WARNING" not in printed


def test_rsynaptic_zero_reset(import_nir, snncc_spikes, snntorch_layer_spikes):
    """RSynaptic (CubaLIF with a self-loop) with reset_mechanism='zero': zero_updated, like Synaptic."""
    torch.manual_seed(9)
    net = _scaled(torch.nn.Sequential(
        torch.nn.Linear(10, 7),
        snn.RSynaptic(alpha=0.7, beta=0.85, linear_features=7, reset_mechanism="zero", init_hidden=True),
        torch.nn.Linear(7, 3),
        snn.Leaky(beta=torch.full((3,), 0.9), threshold=torch.ones(3), reset_mechanism="zero", init_hidden=True,
                  output=True),
    ), 3.0)
    ir, model, printed = import_nir(export_to_nir(net, torch.zeros(10)), "--timesteps", str(T), "--reset", "zero")
    rsyn, leaky = [p for p in ir.populations if p.kind == "neuron"]
    assert (rsyn.model, rsyn.reset, leaky.reset) == ("cuba_lif", "zero_updated", "zero")
    assert "CubaLIF, snnTorch's RSynaptic: zero_updated" in printed
    x = (torch.rand(T, B, 10) < 0.3).float()
    _compare(snntorch_layer_spikes(net, x), snncc_spikes(model, x), ir)
