"""Whole `snncc train` runs on the host backend (the generated program on snncc's host
runtime) against the torch backend, one after the other in one bench run.

    python bench/train_backends.py                       # examples/digits.json, warm build cache
    python bench/train_backends.py --cold                # the host run starts from an empty build cache

Each run is the user's command, timed from start to exit (compile and build included for
the host backend); the table gives wall time, final test accuracy, training samples/s
and the ratio host / torch.
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


def run(backend: str, spec: Path, run_dir: Path, env: dict) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snncc", "train", str(spec), "--backend", backend,
                           "--run-dir", str(run_dir), "--quiet"], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{backend}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    return {"wall_s": wall, "test_acc": last["test_acc"], "samples_per_s": last["samples_per_s"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec", nargs="?", default=str(ROOT / "examples" / "digits.json"))
    ap.add_argument("--cold", action="store_true", help="host build from an empty cache")
    args = ap.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.cold:
            env["SNNCC_CACHE_DIR"] = str(tmp / "cache")
        results = {b: run(b, Path(args.spec), tmp / b, env) for b in ("host", "torch")}
    print(f"spec {args.spec}, {os.cpu_count()} cores, {'cold' if args.cold else 'warm'} build cache")
    print(f"{'backend':<8} {'wall s':>8} {'test acc':>9} {'train samples/s':>16}")
    for name, r in results.items():
        print(f"{name:<8} {r['wall_s']:>8.1f} {r['test_acc']:>9.4f} {r['samples_per_s']:>16.0f}")
    print(f"host / torch wall time: {results['host']['wall_s'] / results['torch']['wall_s']:.2f}x")


if __name__ == "__main__":
    main()
