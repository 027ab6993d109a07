"""`snncc train --backend host`: compile (snncc.driver), build (cached) and run the generated
program over the spec's data, with the torch backend's run directory and run loop
(snncc.runs.loop).

The compiler writes the data split and every epoch's batch order (snncc.data: the same
seeded split and order as the torch backend) into one tensor file (docs/codegen.md,
"Training from files"); the program streams each batch in, trains, evaluates the test
split after each epoch, prints one line per batch and writes the weights and optimizer
state after each epoch, which this module checkpoints.
"""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import machine, tensorfile
from . import launch
from ..codegen import write_build_dir
from ..data import Dataset, batch_order, load_data
from ..driver import COMPILE_ERRORS, build, compile_model
from ..errors import UserError
from ..fsutil import write_errors
from ..ir import ModelGraph
from ..runs import TrainSummary
from ..runs.loop import RunLoop, Tally, epoch_row
from ..runs.plots import plot_raster
from ..runs.rundir import PROGRAM, WORK, check_run_dir
from ..runtime.build import default_cache_root

#: Checkpoint of the host backend: a tensor file with "weight.*"/"bias.*", "state.<projection>.<tensor>"
#: (every projection tensor the program keeps across steps: weights, biases, optimizer state,
#: [rows, target neurons] in host order, so that a checkpoint does not depend on the tile layout
#: and resumes on either layout and any thread count), "steps", and "meta.epoch", "meta.wall_s",
#: "meta.model", "meta.format".
CHECKPOINT_FORMAT = 2


class HostTrainingError(RuntimeError):
    """A run that cannot go on: a one-line message."""


def load_split(ir: ModelGraph, epochs: int, base_dir: Path):
    """The model's data split, refused (HostTrainingError) when the batch order of `epochs`
    epochs over it would not fit this machine's memory: everything a run checks of its data."""
    s = ir.settings
    inp = next(p for p in ir.populations if p.kind == "input")
    split = load_data(s.data, s.timesteps, inp.size, ir.population(s.readout.population).size, base_dir, s.dt)
    n = len(split.train)
    # int64 positions while they are built, then the uint32 copy the file holds
    needed = epochs * n * (8 + 4)
    if needed > machine.machine_memory() // 2:
        raise HostTrainingError(f"the batch order of {epochs:,} epochs x {n:,} training samples needs "
                                f"{needed / 2**30:,.1f} GiB, more than half of this machine's "
                                f"{machine.machine_memory() / 2**30:,.1f} GiB: train fewer epochs (--epochs)")
    return split


def data_tensors(ir: ModelGraph, epochs: int, split) -> dict[str, np.ndarray]:
    """The DATA file's tensors: both splits as events ("<split>.offsets" [N T + 1] and
    "<split>.channels", snncc.data.Dataset's form) and uint32 labels, and "order" [epochs,
    N_train], each epoch's positions in the training split (batch_order)."""
    s = ir.settings
    n = len(split.train)
    order = np.stack([np.concatenate(batch_order(n, s.batch_size, s.seed, e)) for e in range(1, epochs + 1)])
    out = {"order": order.astype(np.uint32)}
    for name, part in (("train", split.train), ("test", split.test)):
        if part.num_events >= 2**32:
            raise HostTrainingError(f"the {name} split holds {part.num_events:,} input spikes, more than a data "
                                    "file's uint32 offsets count (2^32): use fewer samples, timesteps or channels")
        out[f"{name}.offsets"] = part.offsets.astype(np.uint32)
        out[f"{name}.channels"] = part.channels.astype(np.uint32, copy=False)
        out[f"{name}.labels"] = part.labels.astype(np.uint32)
    return out


def _neuron_tensors(program) -> dict[str, tuple[Any, int, int]]:
    """The projection tensors that the program writes after each epoch (program_driver.hpp: all
    but the per-step gradients "dw", "db" and the "partials"), all in the neuron layout:
    name -> (tile range, rows, target size)."""
    out = {}
    for e in program.elements:
        if e.kind == "projection":
            size = program.projection(e.id).n_out
            for t in e.tensors:
                if t.layout == "neuron" and t.name.rsplit(".", 1)[-1] not in ("dw", "db"):
                    out[t.name] = (e.tiles, t.rows, size)
    return out


def from_tiles(flat: np.ndarray, tiles, rows: int, size: int) -> np.ndarray:
    """A neuron-layout tensor ([tile][row][neuron of the tile]) as [rows, size] in host order."""
    out = np.empty((rows, size), dtype=flat.dtype)
    for j in range(tiles.num_tiles):
        lo, hi = tiles.neuron_range(j)
        out[:, lo:hi] = flat[rows * lo:rows * hi].reshape(rows, hi - lo)
    return out


def to_tiles(host: np.ndarray, tiles, rows: int, size: int) -> np.ndarray:
    """The inverse of from_tiles."""
    out = np.empty(rows * size, dtype=host.dtype)
    for j in range(tiles.num_tiles):
        lo, hi = tiles.neuron_range(j)
        out[rows * lo:rows * hi] = host[:, lo:hi].reshape(-1)
    return out


def _checkpoint(epoch_file: Path, name: str, epoch: int, wall_s: float) -> Path:
    """The program's epoch file (program_driver.hpp: "state.*" in host order, "weight.*",
    "bias.*", "steps") completed in place into the checkpoint: its meta entries appended.
    Nothing of its size is read or copied here, since this runs beside the next epoch."""
    tensorfile.append(epoch_file, {
        "meta.epoch": np.array([epoch], dtype=np.uint32),
        "meta.wall_s": np.array([wall_s], dtype=np.float32),
        "meta.model": np.frombuffer(name.encode(), dtype=np.uint8),
        "meta.format": np.array([CHECKPOINT_FORMAT], dtype=np.uint32),
    })
    return epoch_file


def _restore(payload: bytes, program, name: str, where: Path) -> tuple[dict[str, np.ndarray], int, int, float]:
    """The checkpoint's state as the program's "dev.<tensor>" INIT entries, its epoch, steps and wall time."""
    try:
        t = tensorfile.loads(payload)
    except (tensorfile.TensorFileError, ValueError, KeyError) as exc:
        raise HostTrainingError(f"{where}: not a host-backend checkpoint of model '{name}' ({exc}; "
                                "a torch-backend checkpoint?)") from None
    model = bytes(t.get("meta.model", np.zeros(0, np.uint8))).decode(errors="replace")
    if "meta.format" not in t or int(t["meta.format"][0]) != CHECKPOINT_FORMAT or model != name:
        raise HostTrainingError(f"{where}: not a host-backend checkpoint of model '{name}' "
                                "(a torch-backend checkpoint, an older snncc's or another model's?)")
    layouts = _neuron_tensors(program)
    state = {k[len("state."):]: v for k, v in t.items() if k.startswith("state.")}
    if set(state) != set(layouts):
        raise HostTrainingError(f"{where}: the checkpoint's tensors do not match model '{name}' (the model or "
                                "its optimizer changed?); start a fresh run")
    dev = {}
    for tensor, (tiles, rows, size) in layouts.items():
        if state[tensor].shape != (rows, size):
            raise HostTrainingError(f"{where}: '{tensor}' is {list(state[tensor].shape)} in the checkpoint but "
                                    f"[{rows}, {size}] in model '{name}' (the model changed?); start a fresh run")
        dev[f"dev.{tensor}"] = to_tiles(state[tensor], tiles, rows, size)
    return dev, int(t["meta.epoch"][0]), int(t["steps"][0]), float(t["meta.wall_s"][0])


def train_host(ir: ModelGraph, spec_path: Path, options, log: Callable[[str], None] = print,
               emulate_target: bool = False, threads: int | None = None, runtime: str = "host",
               replicas: int | None = None, hosts: str | None = None) -> TrainSummary:
    """Train with the generated program on the host runtime; options: snncc.runs.TrainOptions.
    The program is planned for this machine's CPU-shaped target (snncc.partition.target) with
    `threads` runtime threads (default: the CPUs this process may use, shared by the replicas),
    or with emulate_target for the spec's exact IPU tile layout. replicas (default: the spec's
    replication_factor) data-parallel replicas run as the processes of one MPI job (launch.py),
    on this machine or on `hosts` (mpirun's --host list).
    runtime "poplar" builds the program with the Poplar SDK (snncc.driver.build refuses it
    without one)."""
    started = time.perf_counter()
    s = ir.settings
    epochs = options.epochs or s.epochs
    replicas = replicas or s.target.replication_factor
    loop = RunLoop(ir.name, options, epochs, log)
    run = loop.run
    check_run_dir(run.path, "run directory")
    if replicas > 1:
        # refused now, not after the build, when there is no MPI
        mpirun = launch.launcher(runtime, s.target.num_ipus)
    run.path.mkdir(parents=True, exist_ok=True)
    threads = max(1, (threads or machine.host_threads()) // replicas)
    try:
        compiled = compile_model(spec_path, "ipu" if emulate_target else "cpu", threads, replicas)
    except COMPILE_ERRORS as exc:
        where = "the spec's target" if emulate_target else f"this machine's CPU-shaped target ({threads} threads)"
        raise UserError(f"{spec_path}: on {where}: {exc}") from None
    program = compiled.program
    with write_errors(run.path / PROGRAM, ""):
        src = write_build_dir(compiled.files, run.path / PROGRAM, "")
    # The data is read and checked before the build starts, which cannot be interrupted: a
    # refusal comes at once. The build (a subprocess) then runs while this process writes the
    # data and imports torch for the initial weights: seconds each on a cold start.
    split = load_split(ir, epochs, options.base_dir)
    with ThreadPoolExecutor(1) as pool:
        building = pool.submit(build, src, runtime, cache_root=default_cache_root())
        work = run.path / WORK
        work.mkdir(exist_ok=True)
        tensorfile.write(work / "data.bin", data_tensors(ir, epochs, split))
        # the program holds the data set from here on: this process keeps the first test sample
        # (the raster plot) and the split sizes, not a second copy of the events
        n_train, n_test, first_test = len(split.train), len(split.test), split.test.subset(np.arange(1))
        del split
        from ..driver import init_tensors  # imports torch

        _, init = init_tensors(ir)
        binary = building.result()
    steps_done, wall_before = 0, 0.0
    if (payload := loop.checkpoint()) is not None:
        dev, done, steps_done, wall_before = _restore(payload, program, ir.name, run.checkpoint_path)
        init.update(dev)
        start_epoch = loop.resumed(done)
    else:
        start_epoch = loop.fresh()
    tensorfile.write(work / "init.bin", init)

    if start_epoch <= epochs:
        command = [str(binary)] if replicas == 1 else mpirun.command(replicas, binary, hosts)
        _run_epochs(loop, ir, program, command, work, threads, start_epoch, steps_done, wall_before,
                    -(-n_train // s.batch_size), -(-n_test // s.batch_size), replicas)

    def plot_sample(path: Path) -> None:
        if (payload := run.load_checkpoint()) is not None:
            _plot_sample(ir, tensorfile.loads(payload), first_test, path)

    return loop.finish(wall_before + time.perf_counter() - started, plot_sample)


def _run_epochs(loop: RunLoop, ir: ModelGraph, program, command: list[str], work: Path, threads: int, first: int,
                steps_done: int, wall: float, n_batches: int, n_test_batches: int, replicas: int = 1) -> None:
    """Run the program (command: the binary, or mpirun starting it once per replica) from epoch
    `first` to the last, tallying its output lines (program_driver.hpp): "populations ID..." once
    the graph is loaded, then per batch and replica "batch|test EPOCH INDEX SAMPLES LOSS_SUM CORRECT
    SPIKES... OVERFLOW..." (one count per population each; the replicas' lines of a batch are
    summed) and, from the first replica, "epoch EPOCH STEPS" after the epoch's test split, once
    its epoch file is written. An epoch ends when that line and every replica's test lines came."""
    s = ir.settings
    last = loop.last
    sizes = {p.id: p.size for p in ir.populations}
    stderr_path = work / "stderr.txt"
    with open(stderr_path, "w") as err:
        proc = subprocess.Popen([*command, "--train", str(work / "init.bin"), str(work / "data.bin"), str(work),
                                 str(first), str(last), str(steps_done)],
                                stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1, preexec_fn=_die_with_parent,
                                env={**os.environ, "SNNCC_NUM_THREADS": str(threads)})
    pops: list[str] = []
    epochs: dict[int, dict] = {}  # per epoch: its tallies, lines per training batch, test lines, end
    bar = None
    t0 = time.perf_counter()

    def state(epoch: int) -> dict:
        if epoch not in epochs:
            epochs[epoch] = {"train": Tally(pops), "test": Tally(pops), "lines": {}, "tests": 0,
                             "end": None, "train_s": 0.0}
        return epochs[epoch]

    def fresh(epoch: int, started: float | None = None) -> None:
        nonlocal bar, t0
        t0 = time.perf_counter() if started is None else started
        bar = loop.bar(epoch, range(n_batches), total=n_batches)

    def finish(epoch: int) -> None:
        """Close the epoch once the first replica's "epoch" line and all test lines are in."""
        nonlocal wall
        st = epochs.get(epoch)
        if st is None or st["end"] is None or st["tests"] < replicas * n_test_batches:
            return
        ended = st["end"]
        bar.close()
        epoch_s = ended - t0
        wall += epoch_s
        row = epoch_row(epoch, st["train"], st["test"], st["train_s"], epoch_s, wall, s.timesteps, sizes)
        # one file per epoch: the program may already be past this epoch (stdout is buffered)
        loop.end_epoch(row, partial(_checkpoint, work / f"epoch.{epoch}.bin", ir.name, epoch, wall))
        (work / f"epoch.{epoch - 1}.bin").unlink(missing_ok=True)
        del epochs[epoch]
        if epoch < last:
            fresh(epoch + 1, ended)

    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            f = line.split()
            if not f:
                continue
            if f[0] == "populations":  # the graph is built and loaded (every replica says so once)
                if not pops:
                    pops[:] = f[1:]
                    fresh(first)
                continue
            if f[0] in ("batch", "test"):
                epoch, index, n = int(f[1]), int(f[2]), int(f[3])
                loss_sum, correct = float(f[4]), int(f[5])
                k = len(pops)
                spikes = dict(zip(pops, (int(v) for v in f[6:6 + k])))
                overflow = dict(zip(pops, (int(v) for v in f[6 + k:6 + 2 * k])))
                st = state(epoch)
                st["train" if f[0] == "batch" else "test"].add(loss_sum, correct, n, spikes, overflow)
                if f[0] == "test":
                    st["tests"] += 1
                    finish(epoch)
                    continue
                if (stop := loop.stop_message(loss_sum, epoch, index)) is not None:
                    proc.kill()
                    raise HostTrainingError(stop)
                st["lines"][index] = st["lines"].get(index, 0) + 1
                if st["lines"][index] == replicas:  # every replica's share of the batch is in
                    bar.update(1)
                    if index % 5 == 1:
                        t = st["train"]
                        bar.set_postfix(loss=f"{t.loss / max(t.samples, 1):.4f}", refresh=False)
                    if index == n_batches:
                        st["train_s"] = time.perf_counter() - t0
                continue
            if f[0] == "epoch":
                # the program starts the next epoch once it printed this line, while this
                # process still checkpoints (seconds for large models): its clock starts now
                epoch = int(f[1])
                state(epoch)["end"] = time.perf_counter()
                finish(epoch)
        rc = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if bar is not None:
            bar.close()
    if rc != 0:
        raise HostTrainingError(launch.failure(stderr_path.read_text(errors="replace"), rc, replicas))


def _die_with_parent() -> None:
    """In the child: SIGKILL it when snncc dies (even by SIGKILL), so that a resumed run
    never shares the work directory with an orphaned program (Linux; elsewhere a no-op)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _plot_sample(ir: ModelGraph, weights: dict[str, np.ndarray], data: Dataset, path: Path) -> None:
    """Spike raster of the first test sample, with the trained weights, through snncc.torch (the same semantics)."""
    import torch

    from ..torch.network import build_model

    net = build_model(ir)
    net.set_weights({k: torch.from_numpy(np.array(v)) for k, v in weights.items() if k in net.weights()})
    x = torch.from_numpy(np.ascontiguousarray(data.dense(np.arange(1)).transpose(1, 0, 2))).to(torch.float32)
    with torch.no_grad():
        result = net(x)
    spikes = {pid: sp[:, 0].cpu().numpy() for pid, sp in result.spikes.items()}
    predicted = int(result.scores.argmax(dim=1)[0])
    plot_raster(spikes, path, f"test sample {int(data.sample_ids[0])}: label {int(data.labels[0])}, predicted {predicted}")


__all__ = ["HostTrainingError", "data_tensors", "train_host"]
