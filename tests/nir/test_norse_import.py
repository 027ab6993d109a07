"""Networks built in Norse 1.1 (LIFBoxCell, LIFCell), exported by Norse's own to_nir,
imported by `snncc import-nir --convention norse`: snncc.torch gives spike for spike
Norse's output on the same random input, in every layer, over 40 timesteps.

Norse is installed without its dependencies (`pip install --no-deps norse`, as the README's test
command does); these tests skip when it is absent, saying so."""

from __future__ import annotations

import pytest
import torch

norse = pytest.importorskip("norse.torch", reason="Norse is not installed: pip install --no-deps norse (its declared dependencies would replace torch)")

T, B = 40, 4


def _cell(kind: str, n: int):
    v = dict(v_th=torch.rand(n) * 0.5 + 0.3, v_leak=torch.zeros(n))  # per-neuron tensors, as NIR needs
    if kind == "box":
        return norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.rand(n) * 200 + 50, **v))
    return norse.LIFCell(norse.LIFParameters(tau_mem_inv=torch.rand(n) * 200 + 50,
                                             tau_syn_inv=torch.rand(n) * 200 + 100, **v))


@pytest.mark.parametrize("kind,gain", [("box", 8.0), ("cell", 3.0)])
def test_norse_lif_cells(import_nir, snncc_spikes, kind, gain):
    torch.manual_seed(1)
    n_in, n_h, n_o = 12, 10, 6
    c1, c2 = _cell(kind, n_h), _cell(kind, n_o)
    net = norse.SequentialState(torch.nn.Linear(n_in, n_h), c1, torch.nn.Linear(n_h, n_o, bias=False), c2)
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.Linear):
                m.weight.mul_(gain)
    graph = norse.to_nir(net, torch.zeros(1, n_in))
    ir, model, printed = import_nir(graph, "--convention", "norse", "--timesteps", str(T))
    assert "dt = 1e-06 s" in printed and "reset = zero" in printed
    hid, out = [p for p in ir.populations if p.kind == "neuron"]
    assert hid.model == ("lif" if kind == "box" else "cuba_lif") and isinstance(hid.beta, tuple)

    x = (torch.rand(T, B, n_in) < 0.3).float()
    # Norse's cells are single-step modules: run the layers step by step, keeping each state
    theirs = {hid.id: [], out.id: []}
    s1 = s2 = None
    with torch.no_grad():
        for t in range(T):
            z1, s1 = c1(net[0](x[t]), s1)
            z2, s2 = c2(net[2](z1), s2)
            theirs[hid.id].append(z1)
            theirs[out.id].append(z2)
    ours = snncc_spikes(model, x)
    for pid, spk in theirs.items():
        spk = torch.stack(spk)
        assert 0 < spk.sum() < spk.numel()
        assert torch.equal(ours[pid], spk), f"{pid}: {int((ours[pid] != spk).sum())} spikes differ"


def test_norse_file_with_snntorch_defaults_is_refused(tmp_path, capsys):
    """Norse's tau is dt x tau (about 1e-5 s): snnTorch's dt = 1e-4 exceeds it, and the import says so."""
    import nir

    from snncc.cli import main

    net = norse.SequentialState(torch.nn.Linear(4, 5), _cell("box", 5))
    nir.write(str(tmp_path / "n.nir"), norse.to_nir(net, torch.zeros(1, 4)))
    assert main(["import-nir", str(tmp_path / "n.nir"), "-o", str(tmp_path / "m.json")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "exceeds tau" in err and "--dt" in err
    assert not (tmp_path / "m.json").exists()
