"""Issue 7, last acceptance item, with the generated program: a network built in snnTorch 1.0
(Leaky with per-neuron beta and threshold, RLeaky, Synaptic with per-neuron alpha, beta and
threshold), exported by snnTorch's own export_to_nir and imported by `snncc import-nir`, is
compiled, built and run on the host runtime; its spikes equal snnTorch's, spike for spike,
in every layer over 40 timesteps. The same build also passes `snncc verify`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

snn = pytest.importorskip("snntorch")
nir = pytest.importorskip("nir")
from snntorch.export_nir import export_to_nir  # noqa: E402

from snncc.cli import main  # noqa: E402
from snncc.codegen.pipeline import build, compile_spec  # noqa: E402
from snncc.codegen.render import write_build_dir  # noqa: E402
from snncc.codegen.verify import init_tensors, run_program, verify  # noqa: E402
from snncc.runtime.build import default_cache_root  # noqa: E402

T, B = 40, 4


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
    src = tmp_path / "net.nir"
    nir.write(str(src), export_to_nir(net, torch.zeros(n_in)))
    model = tmp_path / "imported" / "model.json"
    assert main(["import-nir", str(src), "-o", str(model), "--timesteps", str(T)]) == 0
    capsys.readouterr()
    spec = json.loads(model.read_text())
    spec["training"] = {"batch_size": B}
    spec["target"] = {"tiles_per_ipu": 8}
    model.write_text(json.dumps(spec))

    ir, files = compile_spec(model)
    hid, _, out = [p for p in ir.populations if p.kind == "neuron"]
    assert isinstance(hid.beta, tuple) and isinstance(hid.threshold, tuple) and isinstance(out.alpha, tuple)
    binary = build(write_build_dir(files, tmp_path / "b"), "host", cache_root=default_cache_root())

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
