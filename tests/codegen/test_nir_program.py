"""Issue 7, last acceptance item, with the generated program: a network built in snnTorch 1.0
(Leaky with per-neuron beta and threshold, RLeaky, Synaptic with per-neuron alpha, beta and
threshold), exported by snnTorch's own export_to_nir and imported by `snncc import-nir`, is
compiled, built and run on the host runtime; its spikes equal snnTorch's, spike for spike,
in every layer over 40 timesteps. The same build also passes `snncc verify`. Norse 1.1 LIFBoxCell
and LIFCell networks imported with --convention norse do the same."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import nir
import snntorch as snn
from snntorch.export_nir import export_to_nir

from snncc.cli import main
from snncc.driver import build, compile_spec
from snncc.codegen.render import write_build_dir
from snncc.verify.compare import verify
from snncc.driver import init_tensors
from snncc.verify.harness import run_program
from snncc.runtime.build import default_cache_root

T, B = 40, 4


def _import_and_build(tmp_path, capsys, graph, *options):
    """`snncc import-nir` of graph (batch B, 8 tiles), compiled and built: (ir, binary)."""
    src = tmp_path / "net.nir"
    nir.write(str(src), graph)
    model = tmp_path / "imported" / "model.json"
    assert main(["import-nir", str(src), "-o", str(model), *options, "--timesteps", str(T)]) == 0
    capsys.readouterr()
    spec = json.loads(model.read_text())
    spec["training"] = {"batch_size": B}
    spec["target"] = {"tiles_per_ipu": 8}
    model.write_text(json.dumps(spec))
    ir, files = compile_spec(model)
    return ir, build(write_build_dir(files, tmp_path / "b"), "host", cache_root=default_cache_root())


@pytest.mark.slow
def test_snntorch_network_runs_spike_for_spike_in_the_generated_program(tmp_path, capsys, snntorch_layer_spikes):
    torch.manual_seed(0)
    n_in, n_h, n_r, n_o = 12, 10, 8, 5
    net = torch.nn.Sequential(
        torch.nn.Linear(n_in, n_h),
        snn.Leaky(beta=torch.rand(n_h) * 0.5 + 0.5, threshold=torch.rand(n_h) + 0.5, init_hidden=True),
        torch.nn.Linear(n_h, n_r),
        snn.RLeaky(beta=0.8, linear_features=n_r, init_hidden=True),
        torch.nn.Linear(n_r, n_o, bias=False),
        snn.Synaptic(alpha=torch.rand(n_o) * 0.5 + 0.3, beta=torch.rand(n_o) * 0.5 + 0.4,
                     threshold=torch.rand(n_o) + 0.5, init_hidden=True, output=True),
    )
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(3.0)
    ir, binary = _import_and_build(tmp_path, capsys, export_to_nir(net, torch.zeros(n_in)))
    hid, _, out = [p for p in ir.populations if p.kind == "neuron"]
    assert isinstance(hid.beta, tuple) and isinstance(hid.threshold, tuple) and isinstance(out.alpha, tuple)

    x = (torch.rand(T, B, n_in) < 0.3).float()
    theirs = [spk.numpy() for spk in snntorch_layer_spikes(net, x)]
    # one training step: the forward outputs are those of the initial (imported) weights
    result = run_program(binary, tmp_path / "run", init_tensors(ir)[1], x.numpy().astype(np.uint8),
                         np.zeros(B, dtype=np.uint32), 1)
    pops = [p.id for p in ir.populations if p.kind == "neuron"]
    assert len(pops) == len(theirs)
    for pid, spk in zip(pops, theirs):
        ours = result[f"spikes.{pid}"]
        assert ours.shape == spk.shape == (T, B, ir.population(pid).size)
        assert np.array_equal(ours, spk), f"{pid}: {int((ours != spk).sum())} of {spk.size} spikes differ"
        assert 0 < spk.sum() < spk.size  # every layer spikes, none saturates

    report = verify(ir, binary, tmp_path / "verify", steps=1)
    assert report.ok and not report.flips, report.text()


def _norse_cell(norse, kind: str, n: int):
    v = dict(v_th=torch.rand(n) * 0.5 + 0.3, v_leak=torch.zeros(n))  # per-neuron tensors, as NIR needs
    if kind == "box":
        return norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.rand(n) * 200 + 50, **v))
    return norse.LIFCell(norse.LIFParameters(tau_mem_inv=torch.rand(n) * 200 + 50,
                                             tau_syn_inv=torch.rand(n) * 200 + 100, **v))


@pytest.mark.slow
@pytest.mark.parametrize("kind,gain", [("box", 8.0), ("cell", 3.0)])
def test_norse_network_runs_spike_for_spike_in_the_generated_program(tmp_path, capsys, kind, gain):
    """Norse 1.1 LIFBoxCell / LIFCell layers, exported by Norse's own to_nir and imported with
    `--convention norse`: the generated program's spikes equal Norse's in every layer."""
    norse = pytest.importorskip("norse.torch", reason="Norse is not installed: pip install --no-deps norse (its declared dependencies would replace torch)")
    torch.manual_seed(1)
    n_in, n_h, n_o = 12, 10, 6
    c1, c2 = _norse_cell(norse, kind, n_h), _norse_cell(norse, kind, n_o)
    net = norse.SequentialState(torch.nn.Linear(n_in, n_h), c1, torch.nn.Linear(n_h, n_o, bias=False), c2)
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(gain)
    ir, binary = _import_and_build(tmp_path, capsys, norse.to_nir(net, torch.zeros(1, n_in)), "--convention", "norse")
    hid, out = [p for p in ir.populations if p.kind == "neuron"]
    assert hid.model == ("lif" if kind == "box" else "cuba_lif") and isinstance(hid.beta, tuple)

    x = (torch.rand(T, B, n_in) < 0.3).float()
    theirs = {hid.id: [], out.id: []}
    s1 = s2 = None
    with torch.no_grad():  # Norse's cells are single-step modules: run them step by step
        for t in range(T):
            z1, s1 = c1(net[0](x[t]), s1)
            z2, s2 = c2(net[2](z1), s2)
            theirs[hid.id].append(z1)
            theirs[out.id].append(z2)
    result = run_program(binary, tmp_path / "run", init_tensors(ir)[1], x.numpy().astype(np.uint8),
                         np.zeros(B, dtype=np.uint32), 1)
    for pid, spk in theirs.items():
        spk = torch.stack(spk).numpy()
        ours = result[f"spikes.{pid}"]
        assert ours.shape == spk.shape == (T, B, ir.population(pid).size)
        assert 0 < spk.sum() < spk.size  # every layer spikes, none saturates
        assert np.array_equal(ours, spk), f"{pid}: {int((ours != spk).sum())} of {spk.size} spikes differ"
