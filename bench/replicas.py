"""Samples/s of `snncc train` with 1 and with R data-parallel replicas on this machine, each
replica one MPI rank with `--threads / R` runtime threads (default backend: the generated
program under mpirun), whole runs as users start them.

For each spec: `snncc train SPEC --replicas R --threads R*T --epochs E` with R = 1 and each of
--replicas, in alternating order over --passes passes; the last epoch's training samples/s
(metrics.jsonl, build and start-up excluded) and the test accuracy are kept, best of the passes.

    python bench/replicas.py                                   # digits and shd_mlp, 1 vs 2 ranks, 1 thread each
    python bench/replicas.py --specs examples/shd_mlp.json --replicas 2 4 8 16 --threads-per-replica 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(spec: Path, replicas: int, threads: int, epochs: int, run_dir: Path) -> dict:
    cmd = [sys.executable, "-m", "snncc", "train", str(spec), "--replicas", str(replicas), "--threads",
           str(replicas * threads), "--epochs", str(epochs), "--run-dir", str(run_dir), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{spec.name} --replicas {replicas}: {proc.stderr.strip().splitlines()[-1:]}")
    last = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()][-1]
    return {"samples_per_s": last["samples_per_s"], "test_acc": last["test_acc"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--specs", nargs="+", type=Path,
                    default=[ROOT / "examples" / "digits.json", ROOT / "examples" / "shd_mlp.json"])
    ap.add_argument("--replicas", nargs="+", type=int, default=[2])
    ap.add_argument("--threads-per-replica", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--passes", type=int, default=2)
    args = ap.parse_args()
    counts = [1] + [r for r in args.replicas if r != 1]
    best: dict[tuple[str, int], dict] = {}
    with tempfile.TemporaryDirectory(prefix="snncc-replicas-") as tmp:
        for p in range(args.passes):
            for spec in args.specs:
                for r in (counts if p % 2 == 0 else counts[::-1]):
                    res = run(spec, r, args.threads_per_replica, args.epochs, Path(tmp) / f"{spec.stem}-{r}-{p}")
                    key = (spec.stem, r)
                    if key not in best or res["samples_per_s"] > best[key]["samples_per_s"]:
                        best[key] = res
                    print(f"pass {p + 1}: {spec.stem} R={r}: {res['samples_per_s']:.1f} samples/s", flush=True)
    print(f"\n`python bench/replicas.py {' '.join(sys.argv[1:])}`".rstrip() + "\n")
    print("| spec | replicas (x %d thread) | samples/s (best of %d) | vs 1 replica | test accuracy |"
          % (args.threads_per_replica, args.passes))
    print("|---|---:|---:|---:|---:|")
    for spec in args.specs:
        base = best[(spec.stem, 1)]["samples_per_s"]
        for r in counts:
            b = best[(spec.stem, r)]
            print(f"| {spec.stem} | {r} | {b['samples_per_s']:.1f} | {b['samples_per_s'] / base:.2f}x | "
                  f"{100 * b['test_acc']:.2f} % |")


if __name__ == "__main__":
    main()
