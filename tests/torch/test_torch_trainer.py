"""The trainer and `snncc train`: metrics, checkpoints, resume after SIGKILL, NaN stop, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from snncc import cli
from snncc.ir import spec_to_ir
from snncc.spec import load_spec
from snncc.torch import trainer as trainer_mod
from snncc.torch.trainer import TrainingError, TrainOptions, train

from snn_specs import spec_text

ROOT = Path(__file__).resolve().parents[2]
TIMING = {"samples_per_s", "epoch_s", "wall_s"}


def _spec_file(tmp_path: Path, *, samples=240, timesteps=12, hidden=None, epochs=3, batch_size=16) -> Path:
    pops = [
        {"kind": "input", "id": "x", "size": 20},
        {"kind": "neuron", "id": "h", "size": 32, "neuron": {"model": "lif", "beta": 0.9},
         **({"sparsity": hidden} if hidden else {})},
        {"kind": "neuron", "id": "o", "size": 4, "neuron": {"model": "lif", "beta": 0.9}},
    ]
    projs = [{"id": "xh", "source": "x", "target": "h", "weight_init": {"scale": 3.0}},
             {"id": "ho", "source": "h", "target": "o"}]
    text = spec_text(pops, projs, timesteps=timesteps, batch_size=batch_size, epochs=epochs,
                     data={"kind": "synthetic", "num_classes": 4, "num_samples": samples, "spikes_per_step": 4.0})
    path = tmp_path / "model.json"
    path.write_text(text)
    return path


def _train(path: Path, run_dir: Path, **kw):
    return train(spec_to_ir(load_spec(path)), TrainOptions(run_dir=run_dir, show_progress=False, **kw),
                 log=lambda _: None)


@pytest.mark.slow
def test_metrics_checkpoint_and_plots(tmp_path):
    path = _spec_file(tmp_path, epochs=2)
    summary = _train(path, tmp_path / "run")
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and rows == summary.metrics
    for r in rows:
        for key in ("train_acc", "test_acc"):
            assert 0.0 <= r[key] <= 1.0
        assert r["train_loss"] > 0 and r["test_loss"] > 0 and r["samples_per_s"] > 0
        assert set(r["populations"]) == {"x", "h", "o"}
        assert all(0.0 <= p["spike_rate"] <= 1.0 and p["overflow"] == 0 for p in r["populations"].values())
    assert rows[0]["populations"]["x"]["spike_rate"] == pytest.approx(4.0 / 20, rel=0.15)
    # synthetic classes are easy: the run must actually learn
    assert rows[-1]["test_acc"] > 0.5
    for png in ("loss.png", "accuracy.png", "raster.png"):
        assert (tmp_path / "run" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "run" / "checkpoint.json").read_text()) == {"epoch": 2}
    assert "2 epochs, test accuracy" in summary.line()


def test_overflow_is_counted_and_error_names_the_sample(tmp_path):
    drop = _train(_spec_file(tmp_path, epochs=1, hidden={"max_spikes": 1}), tmp_path / "drop")
    assert drop.final["populations"]["h"]["overflow"] > 0
    with pytest.raises(TrainingError) as err:
        _train(_spec_file(tmp_path, epochs=1, hidden={"max_spikes": 1, "overflow": "error"}), tmp_path / "err")
    msg = str(err.value)
    assert "population 'h'" in msg and "timestep" in msg and "training sample" in msg and "\n" not in msg


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    path = _spec_file(tmp_path, epochs=3)
    real = trainer_mod.compute_loss
    calls = {"n": 0}

    def diverging(value):
        calls["n"] += 1
        return float("nan") if calls["n"] > 14 else real(value)  # 180 samples, 12 batches per epoch

    monkeypatch.setattr(trainer_mod, "compute_loss", diverging)
    with pytest.raises(TrainingError) as err:
        _train(path, tmp_path / "run")
    assert "nan at epoch 2, batch 3" in str(err.value) and "epoch 1" in str(err.value)
    assert json.loads((tmp_path / "run" / "checkpoint.json").read_text()) == {"epoch": 1}
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 1


def test_cli_errors_are_one_line(tmp_path, capsys):
    path = _spec_file(tmp_path)
    assert cli.main(["train", str(path), "--backend", "poplar"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("snncc train: error: --backend poplar needs the Poplar SDK (no popc on PATH: source the SDK's "
                   "enable.sh); use --backend host (the default) or torch")
    assert cli.main(["train", str(tmp_path / "missing.json")]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "snncc.cli", "train", *args, "--backend", "torch", "--quiet", "--threads", "1"]


def _rows(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


@pytest.mark.slow
def test_resume_after_sigkill_matches_uninterrupted_run(tmp_path):
    path = _spec_file(tmp_path, samples=400, timesteps=20, epochs=4, batch_size=32)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the killed run: the same arithmetic
    try:
        _train(path, tmp_path / "whole", base_dir=tmp_path)
    finally:
        torch.set_num_threads(threads)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cli(str(path), "--run-dir", str(killed)), env=env, cwd=tmp_path)
    info = killed / "checkpoint.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if info.exists() and json.loads(info.read_text() or "{}").get("epoch", 0) >= 1:
            break
        time.sleep(0.02)
    time.sleep(0.05)  # into the next epoch
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads(info.read_text())["epoch"]
    assert 1 <= done < 4

    subprocess.run(_cli(str(path), "--run-dir", str(killed), "--resume"), check=True, env=env, cwd=tmp_path)
    assert _rows(killed) == _rows(tmp_path / "whole")
    assert [r["epoch"] for r in _rows(killed)] == [1, 2, 3, 4]


def test_training_flushes_subnormals_on_the_cpu_and_restores_the_mode(tmp_path, monkeypatch):
    """While training on the CPU a float32 subnormal reads as zero (FTZ/DAZ, as the host
    runtime's codelets); before and after, torch's default gradual underflow."""
    tiny = torch.tensor([2.0 ** -140], dtype=torch.float32)
    assert (tiny * 1.0).item() != 0.0
    seen = []
    step = trainer_mod.train_step

    def spying(*args, **kw):
        seen.append((tiny * 1.0).item())
        return step(*args, **kw)

    monkeypatch.setattr(trainer_mod, "train_step", spying)
    _train(_spec_file(tmp_path, samples=32, epochs=1), tmp_path / "run")
    assert seen and all(v == 0.0 for v in seen)
    assert (tiny * 1.0).item() != 0.0
