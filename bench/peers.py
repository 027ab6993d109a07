"""Training-step time of snncc against snnTorch, SpikingJelly and Norse, side by side in one process.

The published SHD-size setting (docs/reference/snn.md): [700, 1470, 1470, 20], 100
timesteps, batch 48, 48 random input spikes per timestep, LIF neurons, cross-entropy on
output spike counts, Adam. Every framework gets the same input batch; the rounds are
interleaved (one step of each framework per round) so that load from other processes
hits them alike, and the median over rounds is reported with ratios against snncc.

    python bench/peers.py                      # the SHD-size setting, 3 rounds
    python bench/peers.py --hidden 256 256 --steps 25 --rounds 5   # a quick look

Backends of snncc measured here: `snncc.torch` (the reference, dense PyTorch) and the
generated program on snncc's host runtime, planned for this machine's CPU-shaped target
as `snncc train` runs it: `snncc.host` with the same dense model (spike lists as long as
the layers: the same arithmetic as the peers), and `snncc.host-sparse` with the published
sparse scheme (hidden layers at most 1 % active, gradient threshold 0.9: an approximation
of BPTT, as in docs/reference/snn.md (the sparse training scheme); examples/shd_mlp.json). A host step is
timed inside the program's run: each round runs the program for 1 and for 3 steps on the
batch and takes half the difference, so that process start, graph construction and
loading are not counted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

BETA = 0.95
SLOPE = 25.0


def make_batch(inputs: int, steps: int, batch: int, spikes_per_step: int, classes: int, seed: int = 0):
    """Exactly spikes_per_step random input spikes per sample and timestep."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(steps, batch, inputs)
    idx = torch.rand(steps, batch, inputs, generator=g).argsort(dim=2)[..., :spikes_per_step]
    x.scatter_(2, idx, 1.0)
    y = torch.randint(0, classes, (batch,), generator=g)
    return x, y


def _stepwise(fcs: nn.ModuleList, cells, initial_states: Callable) -> Callable:
    """A training step of a stack of Linear layers and single-step neuron cells
    (cell(current, state) -> (spikes, state)), run timestep by timestep, as snnTorch and
    Norse users write it: cross-entropy on output spike counts, Adam."""
    opt = torch.optim.Adam(fcs.parameters(), lr=1e-3)

    def step(x, y):
        states = initial_states()
        count = 0
        for t in range(x.shape[0]):
            s = x[t]
            for i, (fc, cell) in enumerate(zip(fcs, cells)):
                s, states[i] = cell(fc(s), states[i])
            count = count + s
        loss = nn.functional.cross_entropy(count, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def snntorch_step(sizes) -> Callable:
    import snntorch as snn
    from snntorch import surrogate

    fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
    lifs = nn.ModuleList(snn.Leaky(beta=BETA, spike_grad=surrogate.fast_sigmoid(slope=SLOPE)) for _ in sizes[1:])
    return _stepwise(fcs, lifs, lambda: [lif.init_leaky() for lif in lifs])


def spikingjelly_step(sizes) -> Callable:
    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    mods = []
    for a, b in zip(sizes, sizes[1:]):
        mods += [layer.Linear(a, b, step_mode="m"),
                 neuron.LIFNode(tau=1.0 / (1.0 - BETA), decay_input=False, v_reset=None,
                                surrogate_function=surrogate.Sigmoid(alpha=4.0), step_mode="m")]
    return multi_step_training(nn.Sequential(*mods), functional.reset_net)


def multi_step_training(net: nn.Module, reset: Callable) -> Callable:
    """A training step of a multi-step network (whole sequences [T, B, ...] per layer, as
    SpikingJelly's step_mode="m"): cross-entropy on output spike counts, Adam."""
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step(x, y):
        reset(net)
        loss = nn.functional.cross_entropy(net(x).sum(0), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def norse_step(sizes) -> Callable:
    import norse.torch as norse

    fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
    p = norse.LIFBoxParameters(tau_mem_inv=torch.tensor((1.0 - BETA) / 1e-3), alpha=torch.tensor(SLOPE))
    cells = [norse.LIFBoxCell(p) for _ in sizes[1:]]
    return _stepwise(fcs, cells, lambda: [None] * len(cells))


class Measured(float):
    """Seconds a step function measured itself (instead of its call's wall time)."""


def snncc_doc(sizes, steps, batch, spikes_per_step, sparse: bool = False) -> dict:
    pops = [{"kind": "input", "id": "l0", "size": sizes[0], "sparsity": {"max_spikes": spikes_per_step}}]
    pops += [{"kind": "neuron", "id": f"l{i}", "size": n, "neuron": {"model": "lif", "beta": BETA}}
             for i, n in enumerate(sizes[1:], 1)]
    if sparse:  # hidden layers: examples/shd_mlp.json's sparsity
        for pop in pops[1:-1]:
            pop["sparsity"] = {"max_activity": 0.01, "gradient_threshold": 0.9, "overflow": "drop"}
    return {
        "name": "bench", "timesteps": steps, "populations": pops,
        "projections": [{"id": f"p{i}", "source": f"l{i - 1}", "target": f"l{i}"} for i in range(1, len(sizes))],
        "readout": {"population": f"l{len(sizes) - 1}"},
        "training": {"batch_size": batch, "surrogate": {"kind": "fast_sigmoid", "slope": SLOPE}},
        "data": {"kind": "synthetic", "num_classes": sizes[-1]},
    }


def snncc_torch_step(sizes, steps, batch, spikes_per_step) -> Callable:
    from snncc.ir import spec_to_ir
    from snncc.spec import parse_spec
    from snncc.torch import build_model, make_optimizer, train_step

    ir = spec_to_ir(parse_spec(json.dumps(snncc_doc(sizes, steps, batch, spikes_per_step))))
    model = build_model(ir)
    opt = make_optimizer(ir.settings.optimizer, model.parameters())

    def step(x, y):
        _, loss = train_step(model, opt, x, y)
        return loss.item()

    return step


def snncc_host_step(sizes, steps, batch, spikes_per_step, sparse: bool, work: Path) -> Callable:
    """The generated program (CPU-shaped target, built against the host runtime)."""
    import numpy as np

    from snncc import tensorfile
    from snncc.driver import build, compile_spec
    from snncc.codegen.render import write_build_dir
    from snncc.driver import init_tensors
    from snncc.runtime.build import default_cache_root

    name = "bench_sparse" if sparse else "bench_dense"
    spec = work / f"{name}.json"
    spec.write_text(json.dumps({**snncc_doc(sizes, steps, batch, spikes_per_step, sparse), "name": name}))
    ir, files = compile_spec(spec, layout="cpu")
    binary = build(write_build_dir(files, work / name), "host", cache_root=default_cache_root())
    tensorfile.write(work / f"{name}.init.bin", init_tensors(ir)[1])
    batch_file = work / f"{name}.batch.bin"

    def run(n: int) -> float:
        start = time.perf_counter()
        subprocess.run([str(binary), str(work / f"{name}.init.bin"), str(batch_file), str(work / f"{name}.out.bin"),
                        str(n)], check=True, capture_output=True)
        return time.perf_counter() - start

    def step(x, y):
        tensorfile.write(batch_file, {"inputs": x.numpy().astype(np.uint8), "labels": y.numpy().astype(np.uint32)})
        return Measured((run(3) - run(1)) / 2)

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=700)
    ap.add_argument("--hidden", type=int, nargs="+", default=[1470, 1470])
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--spikes-per-step", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="+", help="frameworks to run (default: all that import)")
    args = ap.parse_args()
    sizes = [args.inputs, *args.hidden, args.classes]
    work = Path(tempfile.mkdtemp(prefix="snncc-peers-"))
    x, y = make_batch(args.inputs, args.steps, args.batch, args.spikes_per_step, args.classes)
    torch.manual_seed(0)
    makers = {
        "snncc.torch": lambda: snncc_torch_step(sizes, args.steps, args.batch, args.spikes_per_step),
        "snntorch": lambda: snntorch_step(sizes),
        "spikingjelly": lambda: spikingjelly_step(sizes),
        "norse": lambda: norse_step(sizes),
        "snncc.host": lambda: snncc_host_step(sizes, args.steps, args.batch, args.spikes_per_step, False, work),
        "snncc.host-sparse": lambda: snncc_host_step(sizes, args.steps, args.batch, args.spikes_per_step, True, work),
    }
    steps = {}
    for name, make in makers.items():
        if args.only and name not in args.only:
            continue
        try:
            steps[name] = make()
        except ImportError as exc:
            if name.startswith("snncc"):
                raise
            print(f"{name}: not installed ({exc})")
    for fn in steps.values():  # warm-up: allocator, lazy initialisation
        fn(x, y)
    times = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, fn in steps.items():
            start = time.perf_counter()
            took = fn(x, y)
            times[name].append(took if isinstance(took, Measured) else time.perf_counter() - start)
    print(f"setting: sizes {sizes}, {args.steps} timesteps, batch {args.batch}, "
          f"{args.spikes_per_step} input spikes/step, {args.rounds} rounds, torch threads {torch.get_num_threads()}")
    ref = statistics.median(times["snncc.torch"]) if "snncc.torch" in times else None
    print(f"{'framework':<18} {'median ms':>10} {'samples/s':>10} {'time / snncc.torch':>20}")
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = f"{med / ref:.2f}x" if ref else "-"
        print(f"{name:<18} {med * 1e3:>10.1f} {args.batch / med:>10.1f} {ratio:>20}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
