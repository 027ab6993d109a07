"""`snncc export-nir`: snnTorch's import_from_nir runs the exported model spike for spike
like snncc.torch; snncc's own import of the export gives the model back; checkpoint
weights are the ones exported."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

import nir
from snntorch.import_nir import import_from_nir

from snncc.cli import main
from snncc.ir import spec_to_ir
from snncc.spec import load_spec
from snncc.torch import build_model

T, B = 30, 3

MODEL = {
    "name": "ex", "timesteps": T, "arrays": "ex.npz",
    "populations": [
        {"kind": "input", "id": "x", "size": 8},
        {"kind": "neuron", "id": "h", "size": 7,
         "neuron": {"model": "lif", "beta": {"array": "beta_h"}, "threshold": 0.8, "reset": "zero"}},
        {"kind": "neuron", "id": "o", "size": 4, "neuron": {"model": "lif", "beta": 0.9, "reset": "zero"}},
    ],
    "projections": [
        {"id": "xh", "source": "x", "target": "h", "weight_init": {"scale": 3}},
        {"id": "ho", "source": "h", "target": "o", "weight_init": {"scale": 3}},
    ],
    "readout": {"population": "o"},
    "data": {"kind": "synthetic", "num_classes": 4, "num_samples": 8},
}


@pytest.fixture
def model_file(tmp_path):
    np.savez(tmp_path / "ex.npz", beta_h=np.linspace(0.6, 0.95, 7))
    path = tmp_path / "ex.json"
    path.write_text(json.dumps(MODEL))
    return path


def _snntorch_spikes(graph, x, steps=T):
    net = import_from_nir(graph)
    out = []
    with torch.no_grad():
        for t in range(steps):
            y = net(x[t])
            out.append(y[0] if isinstance(y, tuple) else y)
    return torch.stack(out)


def test_snntorch_runs_the_export_like_snncc(model_file, tmp_path, capsys):
    assert main(["export-nir", str(model_file), "-o", str(tmp_path / "ex.nir")]) == 0
    graph = nir.read(str(tmp_path / "ex.nir"))
    assert isinstance(graph.nodes["h"], nir.LIF) and graph.nodes["h"].tau.shape == (7,)
    model = build_model(spec_to_ir(load_spec(model_file)))
    torch.manual_seed(0)
    x = (torch.rand(T, B, 8) < 0.3).float()
    with torch.no_grad():
        ours = model(x).spikes["o"]
    theirs = _snntorch_spikes(graph, x)
    assert ours.sum() > 10
    assert torch.equal(ours, theirs), f"{int((ours != theirs).sum())} spikes differ"


def test_round_trip_through_snncc_import(model_file, tmp_path, capsys):
    assert main(["export-nir", str(model_file), "-o", str(tmp_path / "ex.nir")]) == 0
    assert main(["import-nir", str(tmp_path / "ex.nir"), "-o", str(tmp_path / "back.json"), "--reset", "zero",
                 "--timesteps", str(T)]) == 0
    a = build_model(spec_to_ir(load_spec(model_file)))
    b = build_model(spec_to_ir(load_spec(tmp_path / "back.json")))
    x = (torch.rand(T, B, 8) < 0.3).float()
    with torch.no_grad():
        ra, rb = a(x), b(x)
    for pid_a, pid_b in (("h", "h"), ("o", "o")):
        assert torch.equal(ra.spikes[pid_a], rb.spikes[pid_b])


def test_checkpoint_weights_are_exported(model_file, tmp_path, capsys):
    from snncc.torch.trainer import CHECKPOINT_FORMAT

    model = build_model(spec_to_ir(load_spec(model_file)))
    state = {k: v * 2 + 1 for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "model": "ex", "epoch": 1, "wall_s": 0.0, "weights": state,
                "optimizer": {}}, buf)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.bin").write_bytes(buf.getvalue())
    assert main(["export-nir", str(model_file), "--checkpoint", str(tmp_path / "run"), "-o", str(tmp_path / "c.nir")]) == 0
    graph = nir.read(str(tmp_path / "c.nir"))
    np.testing.assert_array_equal(graph.nodes["xh"].weight, state["weight.xh"].numpy().T)
    np.testing.assert_array_equal(graph.nodes["ho"].bias, state["bias.ho"].numpy())
    other = tmp_path / "other.bin"
    torch.save({"format": CHECKPOINT_FORMAT, "model": "zz", "weights": state}, other)
    assert main(["export-nir", str(model_file), "--checkpoint", str(other), "-o", str(tmp_path / "d.nir")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "belongs to model 'zz'" in err



@pytest.mark.parametrize("example", ["digits", "cuba", "recurrent"])
def test_every_example_exports(root, example, tmp_path, capsys):
    """digits' readout population is called 'output', as NIR's Output node usually is."""
    path = root / "examples" / f"{example}.json"
    assert main(["export-nir", str(path), "-o", str(tmp_path / "m.nir")]) == 0, capsys.readouterr().err
    graph = nir.read(str(tmp_path / "m.nir"))
    ir = spec_to_ir(load_spec(path))
    outputs = [name for name, node in graph.nodes.items() if isinstance(node, nir.Output)]
    assert len(outputs) == 1
    assert [src for src, dst in graph.edges if dst == outputs[0]] == [ir.settings.readout.population]
    assert {p.id for p in ir.populations} <= set(graph.nodes)
    if ir.settings.dt is None:  # snnTorch's import_from_nir assumes its own dt, 1e-4 s
        x = (torch.rand(4, 2, next(p.size for p in ir.populations if p.kind == "input")) < 0.3).float()
        assert _snntorch_spikes(graph, x, steps=4).shape[:2] == (4, 2)


def test_round_trip_of_zero_resets_that_snntorch_names_otherwise(tmp_path, capsys):
    """cuba_lif and a self-looped lif with snncc's 'zero': the export's note names the --reset that
    gives them back (plain --reset zero reads them as snnTorch's Synaptic and RLeaky)."""
    model = {
        "name": "z", "timesteps": T,
        "populations": [
            {"kind": "input", "id": "x", "size": 6},
            {"kind": "neuron", "id": "r", "size": 5, "neuron": {"model": "lif", "beta": 0.8, "reset": "zero"}},
            {"kind": "neuron", "id": "c", "size": 3,
             "neuron": {"model": "cuba_lif", "alpha": 0.7, "beta": 0.85, "reset": "zero"}},
        ],
        "projections": [
            {"id": "xr", "source": "x", "target": "r", "weight_init": {"scale": 3}},
            {"id": "rr", "source": "r", "target": "r", "weight_init": {"scale": 2}},
            {"id": "rc", "source": "r", "target": "c", "weight_init": {"scale": 3}},
        ],
        "readout": {"population": "c"},
        "data": {"kind": "synthetic", "num_classes": 3, "num_samples": 8},
    }
    (tmp_path / "z.json").write_text(json.dumps(model))
    assert main(["export-nir", str(tmp_path / "z.json"), "-o", str(tmp_path / "z.nir")]) == 0
    printed = capsys.readouterr().out
    assert "--reset r=snncc:zero restores it" in printed and "--reset c=snncc:zero restores it" in printed
    assert main(["import-nir", str(tmp_path / "z.nir"), "-o", str(tmp_path / "back.json"), "--timesteps", str(T),
                 "--reset", "zero", "--reset", "r=snncc:zero", "--reset", "c=snncc:zero"]) == 0
    a = build_model(spec_to_ir(load_spec(tmp_path / "z.json")))
    b = build_model(spec_to_ir(load_spec(tmp_path / "back.json")))
    torch.manual_seed(0)
    x = (torch.rand(T, B, 6) < 0.3).float()
    with torch.no_grad():
        ra, rb = a(x), b(x)
    for pid in ("r", "c"):
        assert 0 < ra.spikes[pid].sum() < ra.spikes[pid].numel()
        assert torch.equal(ra.spikes[pid], rb.spikes[pid]), pid
