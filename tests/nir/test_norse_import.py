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
    assert len(err.splitlines()) == 1 and "exceeds tau" in err and "--dt" in err and "--convention norse" in err
    assert not (tmp_path / "m.json").exists()


def _run_norse(net, cells, x):
    """Spikes [T, B, N] of each of Norse's cells in a SequentialState of Linear/cell pairs, run step
    by step (Norse's cells are single-step modules)."""
    out = [[] for _ in cells]
    states = [None] * len(cells)
    with torch.no_grad():
        for t in range(x.shape[0]):
            z = x[t]
            for i, cell in enumerate(cells):
                z, states[i] = cell(net[2 * i](z), states[i])
                out[i].append(z)
    return [torch.stack(o) for o in out]


@pytest.mark.parametrize("cell,sample,gains", [
    ("LIFBoxCell", (1, 12), (12.0, 40.0)),  # Norse's own tests' sample shape: Input [1, 12]
    ("LIFBoxCell", (4, 12), (12.0, 40.0)),  # a batch of 4: Input [4, 12]
    ("LIFCell", (1, 12), (4.0, 15.0)),     # CubaLIF
])
def test_default_built_cells_with_scalar_parameters(import_nir, snncc_spikes, cell, sample, gains):
    """Norse's default cells (LIFBoxCell(): tau_mem_inv, v_th ... 0-d tensors) export one value per
    parameter: each population's size is the output size of the Linear feeding it."""
    torch.manual_seed(3)
    c1, c2 = getattr(norse, cell)(), getattr(norse, cell)()
    assert c1.p.tau_mem_inv.dim() == 0  # what "default-built" means here
    net = norse.SequentialState(torch.nn.Linear(12, 16), c1, torch.nn.Linear(16, 4), c2)
    with torch.no_grad():
        net[0].weight.mul_(gains[0])
        net[2].weight.mul_(gains[1])
    graph = norse.to_nir(net, torch.zeros(*sample))
    ir, model, printed = import_nir(graph, "--convention", "norse", "--timesteps", str(T), compression=None)
    hid, out = [p for p in ir.populations if p.kind == "neuron"]
    assert (ir.populations[0].size, hid.size, out.size) == (12, 16, 4)
    assert f"shape {list(sample)}" in printed and "read as the exporter's batch dimension: 12 inputs" in printed
    assert "one value per parameter" in printed and "16 neurons, the output size of node '0' (Affine)" in printed
    assert hid.beta == pytest.approx(0.9, rel=1e-6)  # 1 - dt tau_mem_inv = 1 - 1e-3 x 100, one number
    x = (torch.rand(T, B, 12) < 0.3).float()
    ours = snncc_spikes(model, x)
    for pop, spk in zip((hid, out), _run_norse(net, [c1, c2], x)):
        assert 0 < spk.sum() < spk.numel(), pop.id
        assert torch.equal(ours[pop.id], spk), f"{pop.id}: {int((ours[pop.id] != spk).sum())} spikes differ"


def test_shape_one_parameters(import_nir, snncc_spikes):
    """Parameters of shape [1] (a one-element tensor) are broadcast like 0-d ones."""
    torch.manual_seed(4)
    one = dict(v_th=torch.tensor([0.8]), v_leak=torch.tensor([0.0]))
    c1 = norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.tensor([150.0]), **one))
    c2 = norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.tensor([80.0]), **one))
    net = norse.SequentialState(torch.nn.Linear(10, 7), c1, torch.nn.Linear(7, 3), c2)
    with torch.no_grad():
        net[0].weight.mul_(8.0)
        net[2].weight.mul_(12.0)
    ir, model, _ = import_nir(norse.to_nir(net, torch.zeros(1, 10)), "--convention", "norse", "--timesteps", str(T))
    hid, out = [p for p in ir.populations if p.kind == "neuron"]
    assert (hid.size, out.size) == (7, 3)
    x = (torch.rand(T, B, 10) < 0.3).float()
    ours = snncc_spikes(model, x)
    for pop, spk in zip((hid, out), _run_norse(net, [c1, c2], x)):
        assert 0 < spk.sum() < spk.numel(), pop.id
        assert torch.equal(ours[pop.id], spk), f"{pop.id}: {int((ours[pop.id] != spk).sum())} spikes differ"


def test_default_norse_file_read_as_snntorch_names_the_convention(tmp_path, capsys):
    """A new user's first try: Norse's default cells, imported without --convention norse."""
    import nir

    from snncc.cli import main

    net = norse.SequentialState(torch.nn.Linear(12, 16), norse.LIFBoxCell(), torch.nn.Linear(16, 4), norse.LIFBoxCell())
    nir.write(str(tmp_path / "n.nir"), norse.to_nir(net, torch.zeros(1, 12)), compression=None)
    assert main(["import-nir", str(tmp_path / "n.nir"), "-o", str(tmp_path / "m.json")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "--convention norse" in err and "exceeds tau" in err, err
    assert not (tmp_path / "m.json").exists()


def test_norse_dt_error_names_the_squared_dt(tmp_path, capsys):
    """to_nir(dt=1e-4) writes tau = 1e-4 / tau_mem_inv, below the default 1e-6: the error says --dt D^2."""
    import nir

    from snncc.cli import main

    net = norse.SequentialState(torch.nn.Linear(4, 5), _cell("box", 5))
    nir.write(str(tmp_path / "n.nir"), norse.to_nir(net, torch.zeros(1, 4), dt=1e-4))
    assert main(["import-nir", str(tmp_path / "n.nir"), "-o", str(tmp_path / "m.json"), "--convention", "norse"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "to_nir(dt=D) needs --dt D^2" in err and "--convention" not in err, err
    # and with that dt it imports
    assert main(["import-nir", str(tmp_path / "n.nir"), "-o", str(tmp_path / "m.json"), "--convention", "norse",
                 "--dt", "1e-8"]) == 0


def test_default_li_readout(import_nir, snncc_spikes):
    """A default LIFBoxCell layer read out by a default LIBoxCell (a leaky integrator, no spikes):
    the LIF's spikes equal Norse's, and the readout's membrane is Norse's voltage (float32 sums)."""
    torch.manual_seed(10)
    c1, li = norse.LIFBoxCell(), norse.LIBoxCell()
    net = norse.SequentialState(torch.nn.Linear(12, 16), c1, torch.nn.Linear(16, 4), li)
    with torch.no_grad():
        net[0].weight.mul_(12.0)
    ir, model, printed = import_nir(norse.to_nir(net, torch.zeros(1, 12)), "--convention", "norse",
                                    "--timesteps", str(T), compression=None)
    hid, out = [p for p in ir.populations if p.kind == "neuron"]
    assert (hid.size, out.size, out.model) == (16, 4, "li")
    assert ir.settings.readout.population == out.id and ir.settings.readout.decoding == "membrane_sum"
    x = (torch.rand(T, B, 12) < 0.3).float()
    z1s, vs, s1, s2 = [], [], None, None
    with torch.no_grad():
        for t in range(T):
            z1, s1 = c1(net[0](x[t]), s1)
            v, s2 = li(net[2](z1), s2)
            z1s.append(z1)
            vs.append(v)
        result = model(x)
    spk = torch.stack(z1s)
    assert 0 < spk.sum() < spk.numel() and torch.equal(result.spikes[hid.id], spk)
    torch.testing.assert_close(result.mem[out.id], torch.stack(vs), rtol=1e-5, atol=1e-6)
