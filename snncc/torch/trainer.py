"""The portable trainer: the spec's data, loss and optimizer, epochs with metrics,
checkpoints, resume and plots, on CPU or CUDA, data-parallel under torchrun.

Data-parallel (DDP): launched by torchrun (WORLD_SIZE > 1), every process builds the
same model from the same seed, takes the same global batches (batch_size samples over
all replicas) and trains on its contiguous share of each (numpy.array_split order);
DDP averages gradients, and the loss scaling in train_step makes that exactly the
gradient of the mean over the combined batch. Rank 0 writes the run directory.
"""

from __future__ import annotations

import io
import os
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
import torch.distributed as dist

from ..data import Dataset, batch_order, load_data
from ..ir import ModelGraph
from ..runs import TrainOptions, TrainSummary
from ..runs.loop import RunLoop, Tally, epoch_row
from ..runs.plots import plot_raster
from .loss import correct, per_sample_loss
from .memory import training_problem
from .network import SNN, SpikeOverflowError, build_model
from .optim import make_optimizer
from .step import train_step

CHECKPOINT_FORMAT = 1
#: Samples per forward pass when evaluating (no gradients, so larger than a training batch).
EVAL_BATCH = 512


class TrainingError(RuntimeError):
    """A run that cannot go on (overflow error, NaN loss, unusable checkpoint): a one-line message."""


def _add(tally: Tally, result, labels, loss_sum: float) -> None:
    """One batch's forward result into the tally."""
    tally.add(loss_sum, float(correct(result.scores.detach(), labels)), labels.shape[0],
              {pid: float(result.spikes[pid].detach().sum()) for pid in tally.pops},
              {pid: float(result.overflow[pid].sum()) for pid in tally.pops})


def _reduce(tally: Tally, device: torch.device) -> None:
    """The tally summed over the data-parallel replicas (unchanged without them)."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    t = torch.tensor(tally.values(), dtype=torch.float64, device=device)
    dist.all_reduce(t)
    tally.set_values(t.tolist())


def _replicas(device: str) -> tuple[int, int]:
    """(rank, world size): torchrun's, after joining its process group (gloo on CPU, nccl
    on CUDA); (0, 1) without torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def wrap_ddp(net: SNN) -> torch.nn.Module:
    """DDP around the network. Its only buffers are connectivity masks, equal on every
    replica, so they are not synced per step (the option's name changed in torch 2.13)."""
    DDP = torch.nn.parallel.DistributedDataParallel
    try:
        return DDP(net, forward_sync_buffers=False)
    except TypeError:
        return DDP(net, broadcast_buffers=False)


def batch_tensors(data: Dataset, positions: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs [T, B, channels] (float 0/1, time-major) and labels [B] of the given samples."""
    x = torch.from_numpy(np.ascontiguousarray(data.dense(positions).transpose(1, 0, 2))).to(device, torch.float32)
    return x, torch.from_numpy(data.labels[positions]).to(device)


def _overflow_error(exc: SpikeOverflowError, data: Dataset, positions: np.ndarray, split: str) -> TrainingError:
    sample = int(data.sample_ids[positions[exc.sample]])
    return TrainingError(
        f"population '{exc.population}': {exc.count} spikes at timestep {exc.timestep} of {split} sample {sample} "
        f"exceed its capacity of {exc.capacity} (raise sparsity.max_spikes or max_activity, or set overflow to 'drop')"
    )


def _checkpoint_bytes(name: str, epoch: int, wall_s: float, model: SNN, optimizer) -> bytes:
    buf = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "model": name, "epoch": epoch, "wall_s": wall_s,
                "weights": model.state_dict(), "optimizer": optimizer.state_dict()}, buf)
    return buf.getvalue()


def _restore(payload: bytes, name: str, model: SNN, optimizer, where: Path) -> tuple[int, float]:
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as exc:  # a foreign or damaged file
        raise TrainingError(f"{where}: cannot read the checkpoint ({type(exc).__name__}: {exc})") from None
    if state.get("format") != CHECKPOINT_FORMAT or state.get("model") != name:
        raise TrainingError(f"{where}: the checkpoint belongs to model '{state.get('model')}', not '{name}'")
    own = model.state_dict()
    theirs = state["weights"]
    if set(own) != set(theirs) or any(own[k].shape != theirs[k].shape for k in own):
        raise TrainingError(f"{where}: the checkpoint's weights do not match model '{name}' (the model changed?)")
    model.load_state_dict(theirs)
    optimizer.load_state_dict(state["optimizer"])
    return int(state["epoch"]), float(state["wall_s"])


def _evaluate(model, net: SNN, data: Dataset, rank: int, world: int, device, pops) -> Tally:
    tally = Tally(pops)
    mine = np.array_split(np.arange(len(data)), world)[rank]
    with torch.no_grad():
        for i in range(0, len(mine), EVAL_BATCH):
            pos = mine[i : i + EVAL_BATCH]
            x, y = batch_tensors(data, pos, device)
            try:
                result = net(x)
            except SpikeOverflowError as exc:
                raise _overflow_error(exc, data, pos, "test") from None
            losses = per_sample_loss(net.ir.settings.loss, result, y, net.readout.population)
            _add(tally, result, y, float(losses.sum()))
    _reduce(tally, device)
    return tally


def compute_loss(value: torch.Tensor) -> float:
    """The step's loss as a float (a separate function so that tests can make it diverge)."""
    return float(value)


def train(ir: ModelGraph, options: TrainOptions, log: Callable[[str], None] = print) -> TrainSummary:
    """Train the model of ir; returns the summary of the whole run (resumed epochs included)."""
    started = time.perf_counter()
    rank, world = _replicas(options.device)
    if options.device == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: CUDA is not available in this torch build")
    local_rank = int(os.environ.get("LOCAL_RANK", rank))  # torchrun: one GPU per process on each node
    device = torch.device(options.device if options.device != "cuda" or world == 1 else f"cuda:{local_rank}")
    s = ir.settings
    epochs = options.epochs or s.epochs
    input_pop = next(p for p in ir.populations if p.kind == "input")
    readout = ir.population(s.readout.population)
    if (message := training_problem(ir, str(device))) is not None:  # before the data and the model are allocated
        raise TrainingError(message)
    data = load_data(s.data, s.timesteps, input_pop.size, readout.size, options.base_dir, s.dt)

    net = build_model(ir).to(device)
    model = net
    if world > 1:
        model = wrap_ddp(net)
    optimizer = make_optimizer(s.optimizer, net.parameters())
    loop = RunLoop(ir.name, options, epochs, log, writes=rank == 0)
    wall_before = 0.0
    if (payload := loop.checkpoint()) is not None:
        done, wall_before = _restore(payload, ir.name, net, optimizer, loop.run.checkpoint_path)
        start_epoch = loop.resumed(done)
    else:
        start_epoch = loop.fresh()

    pops = [p.id for p in ir.populations if p.spikes]
    sizes = {p.id: p.size for p in ir.populations}
    wall = wall_before
    with subnormals_flushed(device):
        for epoch in range(start_epoch, epochs + 1):
            t0 = time.perf_counter()
            net.train()
            tally = Tally(pops)
            batches = batch_order(len(data.train), s.batch_size, s.seed, epoch)
            bar = loop.bar(epoch, batches)
            for i, positions in enumerate(bar):
                local = np.array_split(positions, world)[rank]
                x, y = batch_tensors(data.train, local, device)
                try:
                    result, loss = train_step(model, optimizer, x, y, batch_total=len(positions), replicas=world)
                except SpikeOverflowError as exc:
                    raise _overflow_error(exc, data.train, local, "training") from None
                if world > 1:
                    dist.all_reduce(loss)
                    loss = loss / world
                value = compute_loss(loss)
                if (stop := loop.stop_message(value, epoch, i + 1)) is not None:
                    bar.close()
                    raise TrainingError(stop)
                _add(tally, result, y, value * len(positions) / world)
                if rank == 0 and i % 5 == 0:
                    bar.set_postfix(loss=f"{value:.4f}", refresh=False)
            train_s = time.perf_counter() - t0
            _reduce(tally, device)
            bar.close()
            test = _evaluate(model, net, data.test, rank, world, device, pops)
            epoch_s = time.perf_counter() - t0
            wall += epoch_s
            row = epoch_row(epoch, tally, test, train_s, epoch_s, wall, s.timesteps, sizes)
            loop.end_epoch(row, partial(_checkpoint_bytes, ir.name, epoch, wall, net, optimizer))
            if world > 1:
                dist.barrier()

    return loop.finish(wall_before + time.perf_counter() - started,
                       lambda path: _plot_sample(net, data.test, device, path), rank)


@contextmanager
def subnormals_flushed(device: torch.device) -> Iterator[None]:
    """float32 subnormals flushed to zero on the CPU for the block, as the host runtime runs
    its codelets: gradients of rarely spiking neurons decay below 2^-126, and every CPU
    operation on a subnormal is 10-100x slower (the SHD-size network at 10 % activity: epoch 2
    at 62 instead of 108 samples/s, the same losses). torch's default mode is restored."""
    flushing = device.type == "cpu" and torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if flushing:
            torch.set_flush_denormal(False)


def _plot_sample(net: SNN, data: Dataset, device, path: Path) -> None:
    """Spike raster of the first test sample, every spiking population."""
    x, y = batch_tensors(data, np.arange(1), device)
    with torch.no_grad():
        result = net(x)
    spikes = {pid: s[:, 0].cpu().numpy() for pid, s in result.spikes.items()}
    predicted = int(result.scores.argmax(dim=1)[0])
    plot_raster(spikes, path, f"test sample {int(data.sample_ids[0])}: label {int(y[0])}, predicted {predicted}")
