"""Does the sparse scheme cost accuracy? Exact BPTT against the sparse scheme at 1, 5 and 10 %
maximum activity, trained by `snncc train` on the same data from the same seeds.

The published IPU work reports no significant loss of convergence speed or final accuracy
from its sparse scheme (spike-id lists of a fixed capacity, a second threshold at 0.9 theta
for the surrogate gradient). This script measures that claim on snncc's own tasks:

  randman  examples/randman.json (Zenke and Vogels' random-manifold timing task, generated)
  digits   examples/digits.json (scikit-learn's digits, rate coded)

Variants of each task's spec, every hidden population (every neuron population but the
readout) changed alike, everything else (seed, data, initial weights, batch order) the same:

  exact      no capacity (every spike kept), no gradient threshold: dense BPTT
  sparse-X   max_activity X (1, 5 or 10 %), gradient_threshold 0.9, overflow drop

Each run is a whole `snncc train` on the default host backend; its metrics.jsonl gives the
final test accuracy, the first epoch whose test accuracy reaches --target of the exact
variant's final accuracy (convergence speed), the training time (the epochs' epoch_s
summed: build and start-up excluded), and the hidden populations' spike rates and overflow
(spikes dropped by the capacity) over the last epoch. Output: a Markdown table, also written
to the work directory as results.md with the raw rows as results.json.

    python bench/accuracy.py                         # both tasks, their specs' epochs
    python bench/accuracy.py --tasks randman --epochs 10 --activities 1 5
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = {"randman": ROOT / "examples" / "randman.json", "digits": ROOT / "examples" / "digits.json"}
MARKER = ".bench_accuracy"


def variant_doc(doc: dict, activity: float | None) -> dict:
    """The task's spec with every hidden population made exact (activity None) or sparse."""
    out = copy.deepcopy(doc)
    out.pop("$schema", None)
    readout = doc["readout"]["population"]
    for pop in out["populations"]:
        if pop["kind"] != "neuron" or pop["id"] == readout:
            continue
        if activity is None:
            pop.pop("sparsity", None)
        else:
            pop["sparsity"] = {"max_activity": activity, "gradient_threshold": 0.9, "overflow": "drop"}
    return out


def run(task: str, name: str, doc: dict, work: Path, epochs: int | None) -> dict:
    """One `snncc train`; returns its metrics rows and wall time."""
    spec = work / f"{task}-{name}.json"
    if doc.get("arrays"):
        doc["arrays"] = str((TASKS[task].parent / doc["arrays"]).resolve())
    spec.write_text(json.dumps(doc, indent=1))
    run_dir = work / f"{task}-{name}"
    cmd = [sys.executable, "-m", "snncc", "train", str(spec), "--run-dir", str(run_dir), "--quiet"]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=TASKS[task].parent)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{task} {name}: snncc train failed: {proc.stderr.strip().splitlines()[-1:]}")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {"task": task, "variant": name, "rows": rows, "wall_s": wall}


def summarise(result: dict, target_acc: float | None, hidden: list[str]) -> dict:
    rows = result["rows"]
    last = rows[-1]
    reached = next((r["epoch"] for r in rows if target_acc is not None and r["test_acc"] >= target_acc), None)
    pops = last.get("populations", {})
    return {
        "task": result["task"], "variant": result["variant"], "epochs": len(rows),
        "test_acc": last["test_acc"], "best_test_acc": max(r["test_acc"] for r in rows),
        "train_acc": last["train_acc"], "epochs_to_target": reached,
        "train_s": sum(r["epoch_s"] for r in rows), "wall_s": result["wall_s"],
        "rates": {p: pops[p]["spike_rate"] for p in hidden if p in pops},
        "overflow": {p: pops[p]["overflow"] for p in hidden if p in pops},
    }


def table(summaries: list[dict], target: float) -> str:
    lines = [f"| task | variant | final test acc | best | epochs to {target:.0%} of exact's final | train time (s) | "
             "hidden spike rate (last epoch) | dropped spikes (last epoch) |",
             "|---|---|---:|---:|---:|---:|---|---|"]
    for s in summaries:
        rates = ", ".join(f"{p} {100 * r:.2f} %" for p, r in s["rates"].items())
        over = ", ".join(f"{p} {o:,}" for p, o in s["overflow"].items())
        reached = "-" if s["epochs_to_target"] is None else str(s["epochs_to_target"])
        lines.append(f"| {s['task']} | {s['variant']} | {100 * s['test_acc']:.2f} % | {100 * s['best_test_acc']:.2f} % "
                     f"| {reached} | {s['train_s']:.1f} | {rates} | {over} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=["randman", "digits"])
    ap.add_argument("--activities", nargs="+", type=float, default=[1, 5, 10], help="percent")
    ap.add_argument("--epochs", type=int, help="instead of each spec's")
    ap.add_argument("--target", type=float, default=0.95, help="fraction of the exact variant's final accuracy")
    ap.add_argument("--work", type=Path, help="work directory (new, or one this script made)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="snncc-accuracy-"))
    if work.exists() and any(work.iterdir()) and not (work / MARKER).exists():
        raise SystemExit(f"{work}: not empty and not made by bench/accuracy.py: give a new directory")
    work.mkdir(parents=True, exist_ok=True)
    (work / MARKER).write_text("")
    summaries = []
    for task in args.tasks:
        doc = json.loads(TASKS[task].read_text())
        hidden = [p["id"] for p in doc["populations"] if p["kind"] == "neuron" and p["id"] != doc["readout"]["population"]]
        exact = run(task, "exact", variant_doc(doc, None), work, args.epochs)
        target_acc = args.target * exact["rows"][-1]["test_acc"]
        summaries.append(summarise(exact, target_acc, hidden))
        print(table(summaries[-1:], args.target).splitlines()[-1], flush=True)
        for a in args.activities:
            r = run(task, f"sparse-{a:g}%", variant_doc(doc, a / 100), work, args.epochs)
            summaries.append(summarise(r, target_acc, hidden))
            print(table(summaries[-1:], args.target).splitlines()[-1], flush=True)
    text = table(summaries, args.target)
    command = "python bench/accuracy.py " + " ".join(sys.argv[1:])
    (work / "results.md").write_text(f"`{command.strip()}`\n\n{text}\n")
    (work / "results.json").write_text(json.dumps(summaries, indent=1))
    print(f"\n{text}\n\n(work directory: {work})")


if __name__ == "__main__":
    main()
