"""Training speed against hidden-layer activity: whole `snncc train` runs and the peers, from
the same initial weights and the same data, at 1, 5, 10 and 25 % activity.

The SHD-size setting: [700, 1470, 1470, 20] LIF (beta 0.95, threshold 1, subtract reset, no
biases), 100 timesteps, batch 48, exactly 48 input spikes per sample and timestep,
cross-entropy on output spike counts, Adam (lr 1e-3), fast-sigmoid surrogate (one slope for
every framework). The data is written once as an .npz (`spikes` [N, T, 700], `labels`) that
every run reads: each class has its own random channel profile and each timestep's 48
channels are drawn from it without replacement, so the task is learnable.

Per activity, ONE set of initial weights: uniform +-1/sqrt(fan_in) from the seed, each layer
scaled by a gain that a forward-only calibration (snncc's LIF semantics, in torch) finds by
bisection, layer 1 first, then layer 2 on layer 1's spikes, so that both hidden layers fire at
the target rate on the first training samples (the readout at --output-rate). The weights
go into the spec's arrays file for snncc and are copied into the peers' nn.Linear weights
(transposed: snncc stores [source, target], torch [out, in]).

Variants, each trained for --epochs over the same split and batch order:
  sparse  snncc host, hidden max_activity 2x the target, gradient_threshold 0.9, overflow drop
  sparse16  sparse in float16 (mixed precision: half membranes and weight copies)
  exact   snncc host, hidden max_activity 3x the target, no gradient threshold; a run that
          drops a spike is repeated with twice the capacity (the table says so)
  torch   snncc --backend torch, no hidden capacity (the dense reference)
  spikingjelly, snntorch   in their own processes, built like bench/peers.py's steps
Speed is the timed epoch's training samples/s (the second; the first with --epochs 1): for
snncc the metrics.jsonl row of `snncc train` (build and test split excluded), for the peers
the same epoch's batches timed around their training steps. Every run's hidden spike rates
and overflow counts (snncc: its metrics row of the timed epoch; peers: a forward over the
test split after training) and its final test accuracy are printed beside its speed.
snncc flushes float32 subnormals to zero while it trains (both backends); the peers run with
torch's default gradual underflow, as their users run them, unless --peers-flush-subnormals
(at low activity their gradients decay into subnormals, which a CPU computes 10-100x slower).

Passes alternate the order (odd passes forward, even passes reversed) and the best
samples/s of each cell is kept. Output: a Markdown table (ratios against the faster peer at
that activity), results.md and the raw results as JSON in the work directory (or --json).

    python bench/activity_sweep.py                                       # 192 samples, 2 epochs, 2 passes
    python bench/activity_sweep.py --samples 96 --epochs 1 --activities 1 25 --passes 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "bench/activity_sweep.py"
MARKER = ".activity_sweep"

INPUTS, HIDDEN, CLASSES = 700, (1470, 1470), 20
BETA = 0.95
BATCH = 48
POPS = ("channels", "hidden1", "hidden2", "output")
PROJS = ("in_to_h1", "h1_to_h2", "h2_to_out")
VARIANTS = ("sparse", "sparse16", "exact", "torch", "spikingjelly", "snntorch")
PEERS = ("spikingjelly", "snntorch")
HEADERS = {
    "sparse": "snncc host, sparse (capacity 2x, gradient threshold 0.9)",
    "sparse16": "the same in float16",
    "exact": "snncc host, exact BPTT (capacity 3x, no threshold)",
    "torch": "snncc torch backend",
    "spikingjelly": "SpikingJelly multi-step",
    "snntorch": "snnTorch",
}


# --------------------------------------------------------------------------- data and weights


def make_data(n: int, steps: int, spikes_per_step: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """spikes [n, steps, INPUTS] bool with exactly spikes_per_step per sample and timestep, labels [n].

    Class c has channel weights w_c ~ gamma(0.5); each timestep's channels are a draw without
    replacement with probabilities proportional to w_c (Gumbel top-k)."""
    rng = np.random.default_rng([seed, 1])
    log_w = np.log(rng.gamma(0.5, size=(CLASSES, INPUTS)) + 1e-12)
    labels = rng.permutation(np.arange(n) % CLASSES).astype(np.int64)
    spikes = np.zeros((n, steps, INPUTS), dtype=bool)
    for i in range(n):
        keys = log_w[labels[i]] + rng.gumbel(size=(steps, INPUTS))
        top = np.argpartition(-keys, spikes_per_step - 1, axis=1)[:, :spikes_per_step]
        np.put_along_axis(spikes[i], top, True, axis=1)
    return spikes, labels


def base_weights(seed: int) -> list[np.ndarray]:
    """[source, target] float32 per projection, uniform +-1/sqrt(fan_in) (torch.nn.Linear's scale)."""
    rng = np.random.default_rng([seed, 2])
    sizes = (INPUTS, *HIDDEN, CLASSES)
    return [(rng.uniform(-1.0, 1.0, size=(a, b)) / math.sqrt(a)).astype(np.float32) for a, b in zip(sizes, sizes[1:])]


def lif(current, beta: float = BETA):
    """Spikes [T, B, N] of LIF neurons driven by current [T, B, N] (snncc.torch.network's
    semantics: reset from the previous membrane, subtracted; threshold 1)."""
    import torch

    mem = torch.zeros_like(current[0])
    out = torch.empty_like(current)
    for t in range(current.shape[0]):
        mem = beta * mem + current[t] - (mem > 1.0).to(mem.dtype)
        out[t] = (mem > 1.0).to(mem.dtype)
    return out


def bisect_gain(current, target: float, lo: float = 1e-2, hi: float = 1e2, iters: int = 30) -> tuple[float, float]:
    """(gain, rate): the gain g on a layer's current (linear in its weights) whose LIF spike
    rate is closest to target, by bisection in log space (the rate rises with the gain),
    stopping within 0.5 % of the target."""
    rate = lambda g: float(lif(g * current).mean())  # noqa: E731
    best = (lo, rate(lo))
    for _ in range(iters):
        mid = math.sqrt(lo * hi)
        r = rate(mid)
        if abs(r - target) < abs(best[1] - target):
            best = (mid, r)
        if abs(r - target) <= 0.005 * target:
            break
        lo, hi = (mid, hi) if r < target else (lo, mid)
    return best


def calibrate(spikes: np.ndarray, base: list[np.ndarray], activity: float, output_rate: float) -> dict:
    """Gains per projection so that hidden1, then hidden2 (on hidden1's spikes), then the
    readout fire at their target rates on spikes [B, T, INPUTS]; with the rates and each
    layer's largest spike count in one sample and timestep at those gains."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small per-timestep updates: a second thread only waits (5-10x slower)
    try:
        s = torch.from_numpy(spikes).to(torch.float32).transpose(0, 1)  # [T, B, INPUTS]
        gains, rates, peaks = [], {}, {}
        for pop, w, target in zip(POPS[1:], base, (activity, activity, output_rate)):
            current = s @ torch.from_numpy(w)
            g, r = bisect_gain(current, target)
            s = lif(g * current)
            gains.append(g)
            rates[pop] = r
            peaks[pop] = int(s.sum(dim=2).max())
    finally:
        torch.set_num_threads(threads)
    return {"gains": gains, "rates": rates, "peak_spikes": peaks}


# --------------------------------------------------------------------------- snncc runs


def spec_doc(variant: str, activity: float, capacity: float | None, steps: int, test_fraction: float,
             slope: float, seed: int) -> dict:
    """The model file of an snncc variant; capacity: the hidden layers' max_activity (None: dense)."""
    pops = [{"kind": "input", "id": "channels", "size": INPUTS, "sparsity": {"max_spikes": 48, "overflow": "drop"}}]
    for pid, size in zip(POPS[1:3], HIDDEN):
        pop = {"kind": "neuron", "id": pid, "size": size, "neuron": {"model": "lif", "beta": BETA}}
        if capacity is not None:
            pop["sparsity"] = {"max_activity": capacity, "overflow": "drop"}
            if variant in ("sparse", "sparse16"):
                pop["sparsity"]["gradient_threshold"] = 0.9
        pops.append(pop)
    pops.append({"kind": "neuron", "id": "output", "size": CLASSES, "neuron": {"model": "lif", "beta": BETA}})
    if variant == "torch":
        del pops[0]["sparsity"]
    tag = f"a{activity * 100:g}".replace(".", "_")
    return {
        "name": f"sweep_{variant}_{tag}",
        "timesteps": steps,
        "arrays": f"weights_{tag}.npz",
        "populations": pops,
        "projections": [{"id": p, "source": a, "target": b, "bias": False, "initial_weights": {"array": p}}
                        for p, a, b in zip(PROJS, POPS, POPS[1:])],
        "readout": {"population": "output", "decoding": "spike_count"},
        "training": {"loss": {"kind": "cross_entropy"}, "optimizer": {"kind": "adam", "lr": 1e-3},
                     "batch_size": BATCH, "surrogate": {"kind": "fast_sigmoid", "slope": slope}, "seed": seed,
                     "precision": "float16" if variant == "sparse16" else "float32"},
        "data": {"kind": "npz", "path": "data.npz", "test_fraction": test_fraction, "seed": seed},
    }


def run_snncc(spec: Path, run_dir: Path, backend: str, epochs: int, env: dict) -> dict:
    """One `snncc train` as a user runs it; its metrics rows and the figures of the timed epoch."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snncc", "train", str(spec), "--backend", backend,
                           "--epochs", str(epochs), "--run-dir", str(run_dir), "--quiet"],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{spec.name} ({backend}): exit {proc.returncode}: {proc.stderr.strip()[-600:]}")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    timed = rows[min(2, len(rows)) - 1]
    return {
        "samples_per_s": timed["samples_per_s"],
        "timed_epoch": timed["epoch"],
        "test_acc": rows[-1]["test_acc"],
        "train_loss_epoch1": rows[0]["train_loss"],
        "rates": {p: v["spike_rate"] for p, v in timed["populations"].items()},
        "overflow": {p: v["overflow"] for p, v in timed["populations"].items()},
        "overflow_all_epochs": {p: sum(r["populations"][p]["overflow"] for r in rows) for p in timed["populations"]},
        "wall_s": wall,
        "metrics": rows,
    }


# --------------------------------------------------------------------------- peers (own process)


def _peer_model(framework: str, weights: list[np.ndarray], slope: float):
    """(train step, forward) of a peer with the given [source, target] weights.

    snnTorch: bench/peers.py's timestep-by-timestep step (snn.Leaky: snncc's LIF, reset
    detached, fast_sigmoid(slope)). SpikingJelly: peers.py's multi-step Sequential, with
    SoftSign(alpha=slope) (its fused CPU path's fast sigmoid, alpha/2 x snncc's derivative: a
    constant per layer that Adam divides out) and detach_reset as snncc; its soft reset
    subtracts beta x theta at the next step where snncc subtracts theta."""
    import torch
    from torch import nn

    sys.path.insert(0, str(ROOT / "bench"))
    from peers import _stepwise, multi_step_training  # noqa: E402

    def linear(w: np.ndarray, cls=nn.Linear) -> nn.Module:
        fc = cls(w.shape[0], w.shape[1], bias=False)
        with torch.no_grad():
            fc.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
        return fc

    if framework == "snntorch":
        import snntorch as snn
        from snntorch import surrogate

        fcs = nn.ModuleList(linear(w) for w in weights)
        lifs = nn.ModuleList(snn.Leaky(beta=BETA, spike_grad=surrogate.fast_sigmoid(slope=slope)) for _ in weights)
        step = _stepwise(fcs, lifs, lambda: [cell.init_leaky() for cell in lifs])

        def forward(x):
            states = [cell.init_leaky() for cell in lifs]
            out = [[] for _ in weights]
            for t in range(x.shape[0]):
                s = x[t]
                for i, (fc, cell) in enumerate(zip(fcs, lifs)):
                    s, states[i] = cell(fc(s), states[i])
                    out[i].append(s)
            return [torch.stack(o) for o in out]

        return step, forward

    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    mods = []
    for w in weights:
        mods += [linear(w, lambda a, b, bias: layer.Linear(a, b, bias=bias, step_mode="m")),
                 neuron.LIFNode(tau=1.0 / (1.0 - BETA), decay_input=False, v_reset=None, detach_reset=True,
                                surrogate_function=surrogate.SoftSign(alpha=slope), step_mode="m")]
    net = nn.Sequential(*mods)
    step = multi_step_training(net, functional.reset_net)

    def forward(x):
        functional.reset_net(net)
        out = []
        for i in range(0, len(mods), 2):
            x = mods[i + 1](mods[i](x))
            out.append(x)
        return out

    return step, forward


def peer_main(framework: str, work: Path, tag: str, epochs: int, test_fraction: float, slope: float,
              seed: int, out: Path, flush_subnormals: bool = False) -> None:
    """Train a peer on work/data.npz from work/weights_TAG.npz; write its results as JSON to out.
    flush_subnormals: torch.set_flush_denormal(True) first (not torch's default)."""
    import torch

    from snncc.data import batch_order, split_indices

    if flush_subnormals:
        torch.set_flush_denormal(True)
    torch.manual_seed(seed)
    with np.load(work / "data.npz") as d:
        spikes, labels = d["spikes"], d["labels"].astype(np.int64)
    with np.load(work / f"weights_{tag}.npz") as a:
        weights = [a[p].astype(np.float32) for p in PROJS]
    train, test = split_indices(len(labels), test_fraction, seed)  # snncc's split and batch order
    x_train = torch.from_numpy(spikes[train]).to(torch.float32).transpose(0, 1).contiguous()  # [T, N, INPUTS]
    y_train = torch.from_numpy(labels[train])
    step, forward = _peer_model(framework, weights, slope)
    epoch_s, loss1 = [], 0.0
    for epoch in range(1, epochs + 1):
        batches = batch_order(len(train), BATCH, seed, epoch)
        start = time.perf_counter()
        for pos in batches:
            idx = torch.from_numpy(pos)
            loss = step(x_train[:, idx], y_train[idx])
            if epoch == 1:
                loss1 += loss * len(pos)
        epoch_s.append(time.perf_counter() - start)
    with torch.no_grad():
        x_test = torch.from_numpy(spikes[test]).to(torch.float32).transpose(0, 1)
        layers = forward(x_test)
    counts = layers[-1].sum(0)
    timed = min(2, epochs)
    result = {
        "samples_per_s": len(train) / epoch_s[timed - 1],
        "timed_epoch": timed,
        "epoch_s": epoch_s,
        "test_acc": float((counts.argmax(1) == torch.from_numpy(labels[test])).float().mean()),
        "train_loss_epoch1": loss1 / len(train),
        "test_rates": {pid: float(s.mean()) for pid, s in zip(POPS[1:], layers)},
        "torch_threads": torch.get_num_threads(),
    }
    out.write_text(json.dumps(result))


def run_peer(framework: str, work: Path, tag: str, args, out: Path, env: dict) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--peer", framework, "--work", str(work),
                           "--peer-tag", tag, "--peer-out", str(out), "--epochs", str(args.epochs),
                           "--test-fraction", repr(args.test_fraction), "--slope", repr(args.slope),
                           "--seed", str(args.seed),
                           *(["--peers-flush-subnormals"] if args.peers_flush_subnormals else [])],
                          env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{framework} ({tag}): exit {proc.returncode}: {proc.stderr.strip()[-600:]}")
    return {**json.loads(out.read_text()), "wall_s": time.perf_counter() - start}


# --------------------------------------------------------------------------- the sweep


def check_work_dir(path: Path) -> None:
    """A work directory is new, empty or one this script made (its marker file)."""
    if path.exists() and any(path.iterdir()) and not (path / MARKER).exists():
        raise SystemExit(f"--work {path}: holds files this script did not write; choose a new directory")
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text(f"written by {SCRIPT}\n")


def check_output(path: Path) -> None:
    """Refuse to replace a file this script did not write."""
    if not path.exists():
        return
    try:
        ours = path.suffix == ".json" and json.loads(path.read_text()).get("written_by") == SCRIPT
        ours = ours or (path.suffix == ".md" and path.read_text().startswith(f"<!-- {SCRIPT}"))
    except (OSError, ValueError, AttributeError):
        ours = False
    if not ours:
        raise SystemExit(f"{path}: exists and was not written by {SCRIPT}; choose another path")


def fmt_pops(r: dict) -> str:
    rates = r.get("rates") or r.get("test_rates") or {}
    parts = [f"{p} {100 * rates[p]:.2f} %" for p in ("hidden1", "hidden2") if p in rates]
    if "overflow" in r:
        parts.append("overflow " + "/".join(f"{r['overflow'][p]:,}" for p in ("channels", "hidden1", "hidden2")))
    return ", ".join(parts)


def table(activities: list[float], best: dict, setting: dict) -> str:
    """The Markdown table: one row per activity, samples/s with the ratio to the faster peer."""
    lines = ["| hidden activity (calibrated h1 / h2) | " + " | ".join(HEADERS[v] for v in VARIANTS) + " |",
             "|---|" + "---:|" * len(VARIANTS)]
    for a in activities:
        key = f"{a:g}"
        cal = setting["calibration"][key]["rates"]
        peers = [best[key][p]["samples_per_s"] for p in PEERS if p in best[key]]
        fastest = max(peers) if peers else None
        cells = []
        for v in VARIANTS:
            r = best[key].get(v)
            if r is None:
                cells.append("-")
                continue
            cell = f"{r['samples_per_s']:.1f} /s"
            if fastest:
                cell += f" ({r['samples_per_s'] / fastest:.2f}x)"
            if v == "exact" and r["capacity"] != setting["exact_capacity"][key]:
                cell += f" [capacity raised to {100 * r['capacity']:g} %]"
            cells.append(cell)
        lines.append(f"| {a:g} % ({100 * cal['hidden1']:.2f} / {100 * cal['hidden2']:.2f} %) | " + " | ".join(cells)
                     + " |")
    lines.append("")
    lines.append("Accuracy after the last epoch (test split); hidden spike rates (snncc: the timed epoch's "
                 "training batches; peers: the test split after training); overflow (channels/hidden1/hidden2, "
                 "spikes dropped in the timed epoch):")
    lines.append("")
    lines.append("| activity | variant | samples/s | test acc | hidden rates, overflow | epoch-1 train loss | load |")
    lines.append("|---|---|---:|---:|---|---:|---:|")
    for a in activities:
        key = f"{a:g}"
        for v in VARIANTS:
            if (r := best[key].get(v)) is not None:
                lines.append(f"| {a:g} % | {v} | {r['samples_per_s']:.1f} | {r['test_acc']:.4f} | {fmt_pops(r)} "
                             f"| {r['train_loss_epoch1']:.6f} | {r['load']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--activities", type=float, nargs="+", default=[1, 5, 10, 25], metavar="PERCENT",
                    help="target hidden firing rates in percent (default 1 5 10 25)")
    ap.add_argument("--samples", type=int, default=192, help="training samples (default 192: 4 batches)")
    ap.add_argument("--test-samples", type=int, default=48, help="test samples (default 48)")
    ap.add_argument("--epochs", type=int, default=2, help="epochs per run; the second is timed (default 2)")
    ap.add_argument("--passes", type=int, default=2, help="passes, alternating order, best kept (default 2)")
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    ap.add_argument("--timesteps", type=int, default=100)
    ap.add_argument("--slope", type=float, default=10.0,
                    help="fast-sigmoid slope for every framework (default 10, examples/shd_mlp.json's)")
    ap.add_argument("--output-rate", type=float, default=0.05, help="calibrated readout firing rate (default 0.05)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, help="work directory (default: a new temporary directory)")
    ap.add_argument("--cache", type=Path, help="SNNCC_CACHE_DIR for the builds (default WORK/cache)")
    ap.add_argument("--json", type=Path, help="raw results (default WORK/results.json; results.md beside it)")
    ap.add_argument("--peers-flush-subnormals", action="store_true",
                    help="run the peers with torch.set_flush_denormal(True), as snncc's torch backend and host "
                         "runtime train (default: torch's default, as their users run them)")
    ap.add_argument("--peer", choices=PEERS, help=argparse.SUPPRESS)
    ap.add_argument("--peer-tag", help=argparse.SUPPRESS)
    ap.add_argument("--peer-out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--test-fraction", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer:
        peer_main(args.peer, args.work, args.peer_tag, args.epochs, args.test_fraction, args.slope, args.seed,
                  args.peer_out, args.peers_flush_subnormals)
        return
    sys.path.insert(0, str(ROOT))  # this checkout's snncc, as in the runs
    if args.samples < 1 or args.test_samples < 1 or args.epochs < 1 or args.passes < 1:
        raise SystemExit("--samples, --test-samples, --epochs and --passes must be at least 1")
    if any(not 0 < a <= 100 / 3 for a in args.activities):
        raise SystemExit("--activities: percentages in (0, 33.3] (the exact variant's capacity is 3x)")

    work = args.work or Path(tempfile.mkdtemp(prefix="snncc-activity-sweep-"))
    check_work_dir(work)
    out_json = args.json or work / "results.json"
    out_md = out_json.with_suffix(".md")
    check_output(out_json)
    check_output(out_md)
    # every process imports this checkout's snncc, builds into the work directory's cache
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "SNNCC_CACHE_DIR": str(args.cache or work / "cache")}
    n = args.samples + args.test_samples
    args.test_fraction = args.test_samples / n  # split_indices holds out round(n x fraction) = test_samples

    started = datetime.now(timezone.utc)
    load_start = os.getloadavg()
    print(f"work directory {work}; {os.cpu_count()} CPUs, load average {load_start[0]:.2f} {load_start[1]:.2f} "
          f"{load_start[2]:.2f}", flush=True)
    spikes, labels = make_data(n, args.timesteps, 48, args.seed)
    np.savez(work / "data.npz", spikes=spikes, labels=labels)
    from snncc.data import split_indices

    train_idx, _ = split_indices(n, args.test_fraction, args.seed)
    calib_x = spikes[train_idx[:BATCH]]
    base = base_weights(args.seed)
    setting = {"calibration": {}, "exact_capacity": {}, "sparse_capacity": {}}
    specs = {}
    for a in args.activities:
        key, frac = f"{a:g}", a / 100
        cal = calibrate(calib_x, base, frac, args.output_rate)
        setting["calibration"][key] = cal
        tag = f"a{a:g}".replace(".", "_")
        np.savez(work / f"weights_{tag}.npz", **{p: g * w for p, g, w in zip(PROJS, cal["gains"], base)})
        setting["sparse_capacity"][key] = 2 * frac
        setting["exact_capacity"][key] = 3 * frac
        specs[key] = tag
        print(f"activity {a:g} %: gains {', '.join(f'{g:.4g}' for g in cal['gains'])}; calibrated rates "
              + ", ".join(f"{p} {100 * r:.2f} %" for p, r in cal["rates"].items())
              + "; largest spike count per sample and step " + ", ".join(f"{p} {k}" for p, k in cal["peak_spikes"].items()),
              flush=True)

    capacity = {key: dict(sparse=setting["sparse_capacity"][key], sparse16=setting["sparse_capacity"][key],
                          exact=setting["exact_capacity"][key], torch=None)
                for key in specs}
    cells = [(f"{a:g}", v) for a in args.activities for v in VARIANTS if v in args.variants]
    runs = []
    for p in range(1, args.passes + 1):
        order = cells if p % 2 else cells[::-1]
        print(f"pass {p} ({'forward' if p % 2 else 'reversed'} order), load average {os.getloadavg()[0]:.2f}",
              flush=True)
        for key, v in order:
            tag = specs[key]
            load = os.getloadavg()[0]
            if v in PEERS:
                r = run_peer(v, work, tag, args, work / f"peer.{v}.{tag}.{p}.json", env)
            else:
                while True:
                    cap = capacity[key][v]
                    doc = spec_doc(v, float(key) / 100, cap, args.timesteps, args.test_fraction, args.slope,
                                   args.seed)
                    spec = work / f"{doc['name']}_c{'dense' if cap is None else f'{cap:.4g}'}.json"
                    spec.write_text(json.dumps(doc, indent=1))
                    r = run_snncc(spec, work / "runs" / f"{spec.stem}.{p}", "torch" if v == "torch" else "host",
                                  args.epochs, env)
                    r["capacity"] = cap
                    dropped = sum(r["overflow_all_epochs"][pop] for pop in ("hidden1", "hidden2"))
                    if v != "exact" or dropped == 0 or cap >= 1.0:
                        break
                    print(f"  {key} % exact: {dropped:,} spikes dropped at capacity {100 * cap:g} %: "
                          f"raising it to {100 * min(1.0, 2 * cap):g} % and running again", flush=True)
                    runs.append({"pass": p, "activity": key, "variant": v, "load": load, **r, "superseded": True})
                    capacity[key][v] = min(1.0, 2 * cap)
            runs.append({"pass": p, "activity": key, "variant": v, "load": load, **r})
            print(f"  {key:>4} % {v:<13} {r['samples_per_s']:8.1f} samples/s  test acc {r['test_acc']:.4f}  "
                  f"{fmt_pops(r)}  (load {load:.2f}, {r['wall_s']:.0f} s)", flush=True)

    best: dict = {f"{a:g}": {} for a in args.activities}
    for r in runs:
        if r.get("superseded"):
            continue
        cell = best[r["activity"]]
        if r["variant"] not in cell or r["samples_per_s"] > cell[r["variant"]]["samples_per_s"]:
            cell[r["variant"]] = r
    load_end = os.getloadavg()
    command = "python " + " ".join([SCRIPT, *sys.argv[1:]])
    head = (f"{command}\n{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load average {load_start[0]:.2f} at "
            f"the start, {load_end[0]:.2f} at the end; {args.samples} training + {args.test_samples} test samples, "
            f"{args.epochs} epochs (epoch {min(2, args.epochs)} timed), {args.passes} pass{'es' if args.passes > 1 else ''}, "
            f"best kept; "
            f"samples/s with the ratio to the faster peer")
    md = table(args.activities, best, setting)
    print()
    print(head)
    print()
    print(md)
    out_md.write_text(f"<!-- {SCRIPT} -->\n{head}\n\n{md}\n")
    results = {"written_by": SCRIPT, "command": command, "started": started.isoformat(),
               "load_start": load_start, "load_end": load_end, "cpus": os.cpu_count(), "args": {
                   k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if not k.startswith("peer")},
               "setting": setting, "runs": runs,
               "best": {k: {v: r["pass"] for v, r in cell.items()} for k, cell in best.items()}}
    out_json.write_text(json.dumps(results, indent=1))
    print(f"\nraw results {out_json}, table {out_md}")


if __name__ == "__main__":
    main()
