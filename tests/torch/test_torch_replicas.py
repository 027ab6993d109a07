"""`snncc train --backend torch --replicas R`: R processes started with torchrun train like one
process on the whole batch; a bad R is one line; a killed replica is one line, exit 1, and a
checkpoint that --resume continues from."""

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

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits.json"
TIMING = {"samples_per_s", "epoch_s", "wall_s"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "snncc", "train", str(DIGITS), "--backend", "torch", *args]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "LOCAL_RANK", "RANK")}
    return {**env, "PYTHONPATH": str(ROOT)}


def _rows(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoint.bin", weights_only=True)["weights"]


@pytest.mark.slow
def test_two_replicas_train_like_one_process(tmp_path):
    two = subprocess.run(_cli("--replicas", "2", "--epochs", "1", "--run-dir", str(tmp_path / "two")),
                         env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr
    assert two.stderr == ""  # torchrun's output is in the log
    assert (tmp_path / "two" / "work" / "torchrun.log").exists()
    lines = two.stdout.splitlines()  # one process's lines: the epoch, then the summary
    assert len(lines) == 2 and lines[0].startswith("epoch 1: ") and lines[1].startswith("digits: 1 epochs")

    threads = torch.get_num_threads()  # each of the 2 replicas had max(1, 2 CPUs // 2) = 1 thread
    try:
        assert cli.main(["train", str(DIGITS), "--backend", "torch", "--replicas", "1", "--epochs", "1",
                         "--threads", "1", "--quiet", "--run-dir", str(tmp_path / "one")]) == 0
    finally:
        torch.set_num_threads(threads)

    (row2,), (row1,) = _rows(tmp_path / "two"), _rows(tmp_path / "one")
    assert row2["epoch"] == row1["epoch"] == 1
    for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
        assert row2[key] == pytest.approx(row1[key], rel=1e-5), key
    for pid, stats in row1["populations"].items():
        assert row2["populations"][pid]["overflow"] == stats["overflow"]
        assert row2["populations"][pid]["spike_rate"] == pytest.approx(stats["spike_rate"], rel=1e-5)
    w2, w1 = _weights(tmp_path / "two"), _weights(tmp_path / "one")
    assert set(w2) == set(w1)
    for name in w1:  # the DDP step test's tolerance
        torch.testing.assert_close(w2[name], w1[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("args, message", [
    (["--replicas", "3"], "--replicas 3 does not divide training.batch_size 64"),
    (["--replicas", "0"], "--replicas must be at least 1, not 0"),
    (["--backend", "host", "--replicas", "3"], "--replicas 3 does not divide training.batch_size 64"),
])
def test_bad_replicas_is_one_line(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    for name in ("WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    argv = ["train", str(DIGITS), *args]
    if "--backend" not in args:
        argv += ["--backend", "torch"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("snncc train: error: ") and message in err, err
    assert not (tmp_path / "runs").exists()


def test_replicas_under_torchrun_must_be_its_world_size(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert cli.main(["train", str(DIGITS), "--backend", "torch", "--replicas", "4"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--replicas 4" in err and "WORLD_SIZE is 2" in err, err


def _replica(run_dir: Path, rank: int) -> int | None:
    """The pid of the worker of rank `rank` that trains into run_dir (by its command line and environment)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"torch.distributed.run" in argv or str(run_dir).encode() not in argv:
                continue  # not a worker of this run (torchrun and the launcher have no RANK)
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in env and any(v.startswith(b"SNNCC_REPLICA_CONSOLE=") for v in env):
            return int(entry.name)
    return None


@pytest.mark.slow
def test_killed_replica_is_one_line_and_resume_continues(tmp_path):
    run = tmp_path / "killed"
    proc = subprocess.Popen(_cli("--replicas", "2", "--epochs", "5", "--run-dir", str(run)), env=_env(),
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    info = run / "checkpoint.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if info.exists() and json.loads(info.read_text() or "{}").get("epoch", 0) >= 1:
            break
        time.sleep(0.02)
    pid = _replica(run, 0)  # rank 0: the one that writes the run directory
    assert proc.poll() is None and pid is not None, "the run finished before a replica could be killed"
    os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("snncc train: error: replica process 0") and "SIGKILL" in lines[0], lines[0]
    assert str(run / "work" / "torchrun.log") in lines[0] and "--resume continues" in lines[0]
    assert "SIGKILL" in (run / "work" / "torchrun.log").read_text()  # torchrun's own report
    done = json.loads(info.read_text())["epoch"]
    assert 1 <= done < 5 and f"(epoch {done})" in lines[0]
    before = _rows(run)[:done]

    resumed = subprocess.run(_cli("--replicas", "2", "--epochs", "5", "--run-dir", str(run), "--resume"),
                             env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith(f"resuming digits after epoch {done}")
    rows = _rows(run)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4, 5] and rows[:done] == before
    assert json.loads(info.read_text()) == {"epoch": 5}
