"""`snncc train --backend host`: the generated program trains over the spec's data and its
epochs match the torch backend's (issue 6's oracle: first-epoch loss within 1e-3 relative)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen_helpers import small_spec
from snncc.backends.host import HostTrainingError, train_host
from snncc.ir import spec_to_ir
from snncc.spec import load_spec
from snncc.torch.trainer import TrainOptions, train


def _spec(tmp_path, name="hosttrain", epochs=2, **kw):
    kw.setdefault("optimizer", {"kind": "adam", "lr": 0.003})  # still learning after 4 epochs
    spec = small_spec(name, **kw)
    spec["training"]["epochs"] = epochs
    spec["data"]["num_samples"] = 60  # 48 training samples: 10 batches of 5, the last one 3 (padding)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(spec))
    return path, spec_to_ir(load_spec(path))


def _options(run_dir, **kw):
    return TrainOptions(run_dir=run_dir, show_progress=False, plots=False, **kw)


def _same_epochs(host, ref, rel=1e-3):
    assert [r["epoch"] for r in host] == [r["epoch"] for r in ref]
    for h, r in zip(host, ref):
        assert set(h) == set(r)
        assert set(h["populations"]) == set(r["populations"])
        for key in ("train_loss", "test_loss"):
            assert h[key] == pytest.approx(r[key], rel=rel), key
        for key in ("train_acc", "test_acc"):
            assert h[key] == r[key], key
        for pid, pr in r["populations"].items():
            assert h["populations"][pid]["overflow"] == pr["overflow"]
            assert h["populations"][pid]["spike_rate"] == pytest.approx(pr["spike_rate"], rel=1e-6)


def test_host_epochs_match_torch(tmp_path):
    path, ir = _spec(tmp_path)
    ref = train(ir, _options(tmp_path / "torch"), log=lambda _: None).metrics
    summary = train_host(ir, path, _options(tmp_path / "host"), log=lambda _: None)
    host = summary.metrics
    assert len(host) == 2
    assert host[0]["train_loss"] == pytest.approx(ref[0]["train_loss"], rel=1e-3)  # the acceptance oracle
    _same_epochs(host, ref)
    run = tmp_path / "host"
    assert (run / "checkpoint.bin").is_file() and json.loads((run / "checkpoint.json").read_text()) == {"epoch": 2}
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]


def test_host_sgd_mse_matches_torch(tmp_path):
    path, ir = _spec(tmp_path, "hostsgd", epochs=1, optimizer={"kind": "sgd", "lr": 0.05, "momentum": 0.9},
                     loss={"kind": "mse_count"})
    ref = train(ir, _options(tmp_path / "torch"), log=lambda _: None).metrics
    host = train_host(ir, path, _options(tmp_path / "host"), log=lambda _: None).metrics
    _same_epochs(host, ref)


def test_host_resume_equals_uninterrupted(tmp_path):
    path, ir = _spec(tmp_path, epochs=3)
    whole = train_host(ir, path, _options(tmp_path / "whole"), log=lambda _: None).metrics
    train_host(ir, path, _options(tmp_path / "parts", epochs=1), log=lambda _: None)
    resumed = train_host(ir, path, _options(tmp_path / "parts", epochs=3, resume=True), log=lambda _: None).metrics
    assert [r["epoch"] for r in resumed] == [1, 2, 3]
    for a, b in zip(resumed, whole):
        for key in ("train_loss", "test_loss", "train_acc", "test_acc", "populations"):
            assert a[key] == b[key], key


def test_torch_checkpoint_is_refused(tmp_path):
    path, ir = _spec(tmp_path, epochs=1)
    train(ir, _options(tmp_path / "run"), log=lambda _: None)
    with pytest.raises(HostTrainingError, match="not a host-backend checkpoint"):
        train_host(ir, path, _options(tmp_path / "run", resume=True), log=lambda _: None)


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    """`snncc train --backend host` killed with SIGKILL after its first checkpoint, then
    `--resume`: the same metrics as an uninterrupted run (timings aside)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path, ir = _spec(tmp_path, "hostkill", epochs=4)
    whole = train_host(ir, path, _options(tmp_path / "whole"), log=lambda _: None).metrics
    run = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [sys.executable, "-m", "snncc.cli", "train", str(path), "--backend", "host", "--run-dir", str(run), "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (run / "checkpoint.json").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = json.loads((run / "checkpoint.json").read_text())["epoch"]
    assert subprocess.run(cmd + ["--resume"], env=env, capture_output=True).returncode == 0
    resumed = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in resumed] == [1, 2, 3, 4], done
    for a, b in zip(resumed, whole):
        for key in ("train_loss", "test_loss", "train_acc", "test_acc", "populations"):
            assert a[key] == b[key], key


def test_ipu_and_cpu_layouts_train_alike(tmp_path):
    """The spec's exact IPU tile layout (--emulate-target) and the CPU-shaped target (2 and
    3 threads: 4 and 6 tiles) train the same model: equal up to float rounding."""
    path, ir = _spec(tmp_path, "layouts", epochs=2)
    ipu = train_host(ir, path, _options(tmp_path / "ipu"), log=lambda _: None, emulate_target=True).metrics
    for threads in (2, 3):
        cpu = train_host(ir, path, _options(tmp_path / f"cpu{threads}"), log=lambda _: None, threads=threads).metrics
        _same_epochs(cpu, ipu, rel=1e-5)
    plan = json.loads((tmp_path / "cpu3" / "program" / "plan.json").read_text())["target"]
    assert (plan["num_ipus"], plan["tiles_per_ipu"]) == (1, 6)
    spec_target = json.loads(path.read_text()).get("target", {})
    ipu_plan = json.loads((tmp_path / "ipu" / "program" / "plan.json").read_text())["target"]
    assert ipu_plan["tiles_per_ipu"] == spec_target.get("tiles_per_ipu", 1472) != 6


def test_checkpoint_resumes_on_the_other_layout(tmp_path):
    """Checkpoints hold weights and optimizer state in host order: a run started on the IPU
    layout resumes on the CPU-shaped target (another tile count) and ends like a run that
    never changed layout (up to float rounding)."""
    path, ir = _spec(tmp_path, "relayout", epochs=3)
    whole = train_host(ir, path, _options(tmp_path / "whole"), log=lambda _: None, threads=2).metrics
    train_host(ir, path, _options(tmp_path / "parts", epochs=1), log=lambda _: None, emulate_target=True)
    resumed = train_host(ir, path, _options(tmp_path / "parts", resume=True), log=lambda _: None, threads=2).metrics
    assert [r["epoch"] for r in resumed] == [1, 2, 3]
    _same_epochs(resumed, whole, rel=1e-5)


def test_cli_trains_on_the_host_backend_by_default(tmp_path, capsys):
    """`snncc train FILE`: the generated program on the CPU-shaped target (--threads 1: 2 tiles),
    with the torch backend's first-epoch loss (issue 6's oracle, 1e-3 relative)."""
    from snncc.cli import main

    path, ir = _spec(tmp_path, "clidefault", epochs=1)
    assert main(["train", str(path), "--run-dir", str(tmp_path / "run"), "--threads", "1", "--quiet"]) == 0
    assert "clidefault: 1 epochs, test accuracy" in capsys.readouterr().out
    target = json.loads((tmp_path / "run" / "program" / "plan.json").read_text())["target"]
    assert (target["num_ipus"], target["tiles_per_ipu"]) == (1, 2)
    host = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    ref = train(ir, _options(tmp_path / "torch"), log=lambda _: None).metrics
    assert host[0]["train_loss"] == pytest.approx(ref[0]["train_loss"], rel=1e-3)
    assert main(["train", str(path), "--backend", "torch", "--emulate-target"]) == 1
    assert capsys.readouterr().err.strip() == "snncc train: error: --emulate-target is for --backend host (poplar runs the spec's target anyway)"


def test_ctrl_c_says_where_the_last_checkpoint_is(tmp_path):
    """Ctrl-C (SIGINT) during `snncc train`: one line naming the last checkpoint, exit 130,
    the program stopped with it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path, _ = _spec(tmp_path, "hostint", epochs=200)
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "snncc.cli", "train", str(path), "--run-dir", str(run), "--quiet"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (run / "checkpoint.json").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.startswith("snncc train: interrupted; the last checkpoint (epoch ") and "--resume continues" in err
    assert len(err.strip().splitlines()) == 1
