"""The build directory's train.py and model.json: self-contained, the same training as
`snncc train --backend torch`, PopTorch only with an IPU, deterministic."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from snncc.cli import main
from snncc.driver import compile_spec
from snncc.codegen.render import write_build_dir
from snncc.data import batch_order, load_data
from snncc.ir import spec_to_ir
from snncc.spec import load_spec
from snncc.torch import reference_step

from codegen_helpers import small_spec


def _arrays_spec(tmp_path: Path, name: str = "with_arrays") -> Path:
    """A small spec in tmp_path/src with an arrays file (per-neuron beta, given weights)."""
    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(2)
    np.savez(src / "params.npz", **{"h.beta": rng.uniform(0.6, 0.95, 9), "w.x": rng.normal(0.0, 1.0, (12, 9))})
    spec = small_spec(
        name,
        hidden=[{"kind": "neuron", "id": "h", "size": 9, "neuron": {"model": "lif", "beta": {"array": "h.beta"}}}],
        projections=[{"id": "x_to_h", "source": "x", "target": "h", "initial_weights": {"array": "w.x"}},
                     {"id": "h_to_out", "source": "h", "target": "out", "weight_init": {"scale": 3.0}}])
    spec["arrays"] = "params.npz"
    path = src / f"{name}.json"
    path.write_text(json.dumps(spec))
    return path


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-30)


def test_train_py_trains_like_snncc_train_torch(tmp_path):
    """Compiled, its source directory deleted (model.json and arrays.npz are in the build
    directory), train.py's first epoch equals `snncc train --backend torch`'s."""
    spec_path = _arrays_spec(tmp_path)
    assert main(["train", str(spec_path), "--backend", "torch", "--epochs", "1", "--quiet",
                 "--run-dir", str(tmp_path / "ref")]) == 0
    out = tmp_path / "build_dir"
    assert main(["compile", str(spec_path), "-o", str(out)]) == 0
    shutil.rmtree(spec_path.parent)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "train.py", "--epochs", "1", "--device", "cpu",
                           "--run-dir", str(tmp_path / "run")], cwd=out, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "training with_arrays on cpu" in proc.stdout
    ref, = [json.loads(line) for line in (tmp_path / "ref" / "metrics.jsonl").read_text().splitlines()]
    got, = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert _rel(got[key], ref[key]) <= 1e-6, (key, got[key], ref[key])
    for pid, row in ref["populations"].items():
        assert _rel(got["populations"][pid]["spike_rate"], row["spike_rate"]) <= 1e-6
        assert got["populations"][pid]["overflow"] == row["overflow"]
    assert (tmp_path / "run" / "checkpoint.bin").is_file()


def test_model_json_is_the_spec_and_output_is_deterministic(tmp_path):
    spec_path = _arrays_spec(tmp_path)
    _, a = compile_spec(spec_path)
    _, b = compile_spec(spec_path)
    assert a == b
    assert {"train.py", "model.json", "arrays.npz"} <= set(a)
    manifest = json.loads(a["manifest.json"])
    assert set(manifest["files"]) == set(a) - {"manifest.json"}
    assert a["arrays.npz"] == (spec_path.parent / "params.npz").read_bytes()
    out = write_build_dir(a, tmp_path / "out")
    model = json.loads((out / "model.json").read_text())
    assert model["arrays"] == "arrays.npz" and "$schema" not in model
    assert model["training"]["optimizer"] == {"kind": "adam", "lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-08}
    original, copy = load_spec(spec_path), load_spec(out / "model.json")
    assert copy.model_dump(exclude={"arrays"}) == original.model_dump(exclude={"arrays"})
    ir_a, ir_b = spec_to_ir(original), spec_to_ir(copy)
    assert ir_a.population("h").beta == ir_b.population("h").beta and len(ir_b.population("h").beta) == 9


def test_npz_data_path_becomes_absolute(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    np.savez(data / "d.npz", spikes=(rng.random((20, 6, 12)) < 0.3).astype(np.uint8),
             labels=rng.integers(0, 3, 20))
    spec = small_spec("npz_data")
    spec["data"] = {"kind": "npz", "path": "../data/d.npz", "test_fraction": 0.2}
    (tmp_path / "src").mkdir()
    path = tmp_path / "src" / "npz_data.json"
    path.write_text(json.dumps(spec))
    _, files = compile_spec(path)
    out = write_build_dir(files, tmp_path / "elsewhere" / "out")
    assert json.loads(files["model.json"])["data"]["path"] == str((data / "d.npz").resolve())
    copy = load_spec(out / "model.json")
    s = spec_to_ir(copy).settings
    split = load_data(s.data, s.timesteps, 12, 3, out)
    assert len(split.train) == 16


# ----------------------------------------------------------------- PopTorch dispatch


def _fake_poptorch(ipu: bool) -> tuple[types.ModuleType, list]:
    """A stand-in for poptorch that runs the step on the CPU and records every call."""
    calls: list = []
    pt = types.ModuleType("poptorch")
    pt.ipuHardwareIsAvailable = lambda num_ipus=1: ipu

    class Options:
        def __init__(self):
            calls.append(("Options",))

    def identity_loss(x, reduction):
        calls.append(("identity_loss", reduction, tuple(x.shape)))
        return {"mean": x.mean, "sum": x.sum}.get(reduction, lambda: x)()

    class Adam(torch.optim.Adam):
        def __init__(self, params, lr, betas, eps):
            calls.append(("Adam", lr, betas, eps))
            super().__init__(params, lr=lr, betas=betas, eps=eps)

    class SGD(torch.optim.SGD):
        def __init__(self, params, lr, momentum):
            calls.append(("SGD", lr, momentum))
            super().__init__(params, lr=lr, momentum=momentum)

    class Executor:
        def __init__(self, model, options, optimizer):
            self.model, self.optimizer = model, optimizer

        def __call__(self, x, y):
            self.optimizer.zero_grad()
            scores, loss = self.model(x, y)
            loss.backward()
            self.optimizer.step()
            calls.append(("step", tuple(x.shape), float(loss.detach())))
            return scores.detach(), loss.detach()

        def copyWeightsToHost(self):
            calls.append(("copyWeightsToHost",))

        def detachFromDevice(self):
            calls.append(("detachFromDevice",))

    def trainingModel(model, options=None, optimizer=None):
        assert isinstance(model, torch.nn.Module) and isinstance(options, Options)
        calls.append(("trainingModel", type(optimizer).__name__))
        return Executor(model, options, optimizer)

    pt.Options, pt.identity_loss, pt.trainingModel = Options, identity_loss, trainingModel
    pt.optim = types.SimpleNamespace(Adam=Adam, SGD=SGD)
    return pt, calls


@pytest.fixture
def train_py(tmp_path):
    """The generated train.py of a small spec, imported as a module."""
    spec_path = tmp_path / "small.json"
    spec_path.write_text(json.dumps(small_spec("small")))
    _, files = compile_spec(spec_path)
    out = write_build_dir(files, tmp_path / "out")
    spec = importlib.util.spec_from_file_location("snncc_generated_train", out / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record_cpu_trainer(module, monkeypatch) -> list:
    """Replace snncc's trainer in train.py by a recorder of the TrainOptions it is called with."""
    seen: list = []
    summary = types.SimpleNamespace(line=lambda: "done")
    monkeypatch.setattr(module, "train", lambda ir, options: seen.append(options) or summary)
    return seen


def test_poptorch_is_used_only_with_an_ipu(train_py, tmp_path, monkeypatch):
    seen = _record_cpu_trainer(train_py, monkeypatch)
    monkeypatch.setitem(sys.modules, "poptorch", None)  # not installed: import fails
    assert train_py.main(["--epochs", "1"]) == 0
    assert [o.device for o in seen] == ["cuda" if torch.cuda.is_available() else "cpu"]
    # the default run directory lies beside the build directory, which a recompile replaces
    assert seen[0].run_dir == tmp_path / "runs" / "small" and seen[0].epochs == 1
    with pytest.raises(SystemExit):
        train_py.main(["--device", "ipu"])

    fake, calls = _fake_poptorch(ipu=False)  # installed, no IPU attached
    monkeypatch.setitem(sys.modules, "poptorch", fake)
    assert train_py.main(["--epochs", "1", "--device", "cpu", "--run-dir", str(tmp_path / "r")]) == 0
    assert train_py.main(["--epochs", "1", "--run-dir", str(tmp_path / "r")]) == 0
    assert len(seen) == 3 and seen[1].device == "cpu" and calls == []

    fake, calls = _fake_poptorch(ipu=True)  # an IPU, but the CPU asked for
    monkeypatch.setitem(sys.modules, "poptorch", fake)
    assert train_py.main(["--epochs", "1", "--device", "cpu", "--run-dir", str(tmp_path / "r")]) == 0
    assert len(seen) == 4 and seen[-1].device == "cpu" and calls == []


def test_poptorch_training_model_calls(train_py, tmp_path, monkeypatch):
    """With an IPU: trainingModel over network + loss, the spec's Adam from poptorch.optim,
    full batches only (batch-major inputs), weights back to the host, then detached."""
    seen = _record_cpu_trainer(train_py, monkeypatch)
    fake, calls = _fake_poptorch(ipu=True)
    monkeypatch.setitem(sys.modules, "poptorch", fake)
    run = tmp_path / "ipu_run"
    assert train_py.main(["--epochs", "2", "--run-dir", str(run)]) == 0
    assert seen == []
    assert calls[:3] == [("Adam", 0.01, (0.9, 0.999), 1e-08), ("Options",), ("trainingModel", "Adam")]
    steps = [c for c in calls if c[0] == "step"]
    # small_spec: 16 training samples in batches of 5 -> 3 full batches per epoch
    assert [c[1] for c in steps] == [(5, 6, 12)] * 6
    assert ("identity_loss", "mean", (5,)) in calls
    assert [c[0] for c in calls if c[0] in ("copyWeightsToHost", "detachFromDevice")] == \
        ["copyWeightsToHost", "copyWeightsToHost", "detachFromDevice"]
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and all(math.isfinite(r["test_loss"]) for r in rows)
    assert (run / "weights.pt").is_file()

    # the first step's loss is snncc.torch's for that batch from the same initial weights
    ir = spec_to_ir(load_spec(Path(train_py.__file__).parent / "model.json"))
    s = ir.settings
    data = load_data(s.data, s.timesteps, 12, 3, ".")
    first = batch_order(len(data.train), s.batch_size, s.seed, 1)[0]
    x = torch.from_numpy(data.train.dense(first).transpose(1, 0, 2)).float()
    ref = reference_step(ir, None, x, torch.from_numpy(data.train.labels[first]))
    assert _rel(steps[0][2], ref.loss) <= 1e-6
