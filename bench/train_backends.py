"""Whole `snncc train` runs, one after the other in one bench run: the host backend (the
default: the generated program on snncc's host runtime, CPU-shaped target), the host
backend on the spec's IPU tiles (--emulate-target) and the torch backend.

    python bench/train_backends.py                       # examples/digits.json, warm build cache
    python bench/train_backends.py --cold                # host builds start from an empty build cache

Each run is the user's command, timed from start to exit (compile and build included for
the host backend; with --cold the first host run also builds the runtime library); the
table gives wall time, final test accuracy, training samples/s and each run's wall time
over the torch backend's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


RUNS = {"host": ["--backend", "host"], "host-ipu": ["--backend", "host", "--emulate-target"],
        "torch": ["--backend", "torch"]}


def run(name: str, spec: Path, run_dir: Path, env: dict) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snncc", "train", str(spec), *RUNS[name],
                           "--run-dir", str(run_dir), "--quiet"], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{name}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {"wall_s": wall, "test_acc": rows[-1]["test_acc"], "samples_per_s": rows[-1]["samples_per_s"],
            "loss1": rows[0]["train_loss"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec", nargs="?", default=str(ROOT / "examples" / "digits.json"))
    ap.add_argument("--cold", action="store_true", help="host build from an empty cache")
    args = ap.parse_args()
    env = dict(os.environ)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.cold:
            env["SNNCC_CACHE_DIR"] = str(tmp / "cache")
        results = {name: run(name, Path(args.spec), tmp / name, env) for name in RUNS}
    print(f"spec {args.spec}, {os.cpu_count()} cores, {'cold' if args.cold else 'warm'} build cache, "
          f"load average before: {load:.2f}")
    torch_run = results["torch"]
    print(f"{'run':<9} {'wall s':>8} {'test acc':>9} {'train samples/s':>16} {'wall / torch':>13} "
          f"{'epoch-1 loss':>13} {'rel. to torch':>14}")
    for name, r in results.items():
        rel = abs(r["loss1"] - torch_run["loss1"]) / abs(torch_run["loss1"])
        print(f"{name:<9} {r['wall_s']:>8.1f} {r['test_acc']:>9.4f} {r['samples_per_s']:>16.0f} "
              f"{r['wall_s'] / torch_run['wall_s']:>12.2f}x {r['loss1']:>13.8f} {rel:>14.1e}")


if __name__ == "__main__":
    main()
