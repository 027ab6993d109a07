"""The cost model: predicted cycles of one training step on the target.

Follows the IR's schedule. Per timestep, forward, for each stage in order:
  1. update superstep: every tile of the stage's populations receives the id lists of
     its incoming projections (exchange), sums the weight rows of the listed ids and
     updates its neurons, writing one spike code per neuron and sample;
  2. compaction superstep: each list tile receives its samples' spike codes and writes
     their id lists (spikes, then gradient ids) into the list history.
Backward, per timestep in reverse, for each stage in reverse:
  3. neuron backward superstep: the tiles receive the reduced dL/dS of their listed ids
     and the input lists again, compute the surrogate and carried gradients, the weight
     gradients of the active rows, and partial input-spike gradients;
  4. ceil(log_F(tiles)) reduction supersteps (F = REDUCTION_FANIN) sum the partials of
     the population's tiles.
Then one optimizer superstep. A superstep lasts: the busiest tile's vertex cycles, plus
the largest per-tile receive volume over EXCHANGE_BYTES_PER_CYCLE, plus the IPU-Link
bytes of the projections crossing IPUs over LINK_BYTES_PER_SECOND, plus a sync. Lists are
fixed-capacity and exchange is static, so the prediction is for full lists (the worst
case, and exactly what the exchange moves). Host streams of the input spikes and the loss
are left out (small, and overlapped with the previous step on the IPU).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import constants as k
from .memory import PopulationMemory
from .plan import Cost, Placement


def _accumulate(pm: PopulationMemory, sparse: bool) -> float:
    per_weight = k.ACCUMULATE_INSTRUCTIONS * (0.5 if pm.element == 2 else 1.0)
    return per_weight + (k.SPARSE_INDEX_INSTRUCTIONS if sparse else 0.0)


def _rows(pm: PopulationMemory, n: np.ndarray, backward: bool) -> np.ndarray:
    """Instructions per sample for the rows of the listed input ids over a slice of n."""
    total = np.zeros(len(n), dtype=np.float64)
    for inc in pm.incoming:
        row_len = inc.stored(n) / inc.source_size if inc.sparse else n
        passes = (2 if inc.source_is_neuron else 1) if backward else 1  # weight grad (+ input grad)
        total += inc.source_capacity * passes * (k.ROW_INSTRUCTIONS + row_len * _accumulate(pm, inc.sparse))
    return total


def _split(pm: PopulationMemory, per_sample, n: np.ndarray, workers: int) -> np.ndarray:
    """Cycles of work split over workers by samples or by neurons, whichever is faster."""
    b = pm.batch
    by_sample = math.ceil(b / workers) * per_sample(n)
    by_neuron = b * per_sample(np.ceil(n / workers))
    return workers * np.minimum(by_sample, by_neuron)


def forward_cycles(pm: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    """Update superstep cycles of slices of n neurons (0 for input populations)."""
    n = np.asarray(n, dtype=np.float64)
    if pm.population.kind == "input":
        return np.zeros(len(n))
    biases = sum(1 for inc in pm.incoming if inc.bias)
    per_sample = lambda x: _rows(pm, x, False) + x * (k.NEURON_UPDATE_INSTRUCTIONS + biases)  # noqa: E731
    launches = 1 + len(pm.incoming)
    return _split(pm, per_sample, n, workers) + launches * k.VERTEX_LAUNCH_CYCLES


def backward_cycles(pm: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    n = np.asarray(n, dtype=np.float64)
    if pm.population.kind == "input":
        return np.zeros(len(n))
    per_sample = lambda x: _rows(pm, x, True) + x * k.SURROGATE_INSTRUCTIONS  # noqa: E731
    launches = 1 + len(pm.incoming) + sum(inc.source_is_neuron for inc in pm.incoming)
    return _split(pm, per_sample, n, workers) + launches * k.VERTEX_LAUNCH_CYCLES


def optimizer_cycles(pm: PopulationMemory, n: np.ndarray, optimizer_instructions: float) -> np.ndarray:
    n = np.asarray(n, dtype=np.int64)
    if pm.population.kind == "input":
        return np.zeros(len(n))
    values = np.zeros(len(n), dtype=np.float64)
    for inc in pm.incoming:
        values += inc.stored(n) + (n if inc.bias else 0)
    return values * optimizer_instructions + k.VERTEX_LAUNCH_CYCLES


def compact_cycles(pm: PopulationMemory, samples: np.ndarray) -> np.ndarray:
    s = np.asarray(samples, dtype=np.float64)
    work = s * (pm.population.size * k.COMPACT_CODE_INSTRUCTIONS + pm.population.capacity * k.COMPACT_ENTRY_INSTRUCTIONS)
    return np.where(s > 0, work + k.VERTEX_LAUNCH_CYCLES, 0.0)


def step_cycles_per_timestep(pm: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    """Forward plus backward compute of a slice per timestep: what the partitioner balances."""
    return forward_cycles(pm, n, workers) + backward_cycles(pm, n, workers)


def reduction_rounds(num_tiles: int) -> int:
    return math.ceil(math.log(num_tiles, k.REDUCTION_FANIN) - 1e-9) if num_tiles > 1 else 0


class _Superstep:
    """Per-tile compute cycles and received bytes of one superstep, plus its link bytes."""

    __slots__ = ("compute", "received", "link_bytes")

    def __init__(self, num_tiles: int):
        self.compute = np.zeros(num_tiles)
        self.received = np.zeros(num_tiles)
        self.link_bytes = 0.0


def estimate(
    placements: Sequence[Placement],
    memories: dict[str, PopulationMemory],
    stages: Sequence[Sequence[str]],
    *,
    num_tiles: int,
    num_ipus: int,
    workers: int,
    clock_hz: float,
    timesteps: int,
    batch: int,
    samples_per_step: int,
    optimizer_instructions: float,
    outgoing: dict[str, list[str]],
) -> Cost:
    """Predict one training step of a placed model; `outgoing[p]` lists p's target populations."""
    place = {p.population: p for p in placements}
    sync = k.EXTERNAL_SYNC_CYCLES if num_ipus > 1 else k.INTERNAL_SYNC_CYCLES
    link_per_cycle = k.LINK_BYTES_PER_SECOND / clock_hz
    tile_total = np.zeros(num_tiles)
    totals = dict(compute=0.0, mean=0.0, exchange=0.0, sync=0.0, link=0.0)
    received_bytes = 0.0
    link_bytes = 0.0

    def close(step: _Superstep, repeat: int) -> float:
        nonlocal received_bytes, link_bytes
        busy = step.compute > 0
        compute = float(step.compute.max(initial=0.0))
        mean = float(step.compute[busy].mean()) if busy.any() else 0.0
        exchange = float(step.received.max(initial=0.0)) / k.EXCHANGE_BYTES_PER_CYCLE
        exchange += k.EXCHANGE_SETUP_CYCLES if step.received.any() else 0.0
        link = step.link_bytes / link_per_cycle
        totals["compute"] += repeat * compute
        totals["mean"] += repeat * mean
        totals["exchange"] += repeat * exchange
        totals["link"] += repeat * link
        totals["sync"] += repeat * sync
        tile_total[:] += repeat * step.compute
        received_bytes += repeat * float(step.received.sum())
        link_bytes += repeat * step.link_bytes
        return repeat * (compute + exchange + link + sync)

    def add(arr: np.ndarray, p: Placement, values: np.ndarray) -> None:
        arr[p.first_tile : p.first_tile + p.num_tiles] += values

    def add_lists(arr: np.ndarray, p: Placement, samples_values: np.ndarray) -> None:
        for j, v in enumerate(samples_values):
            arr[p.list_tile(j)] += v

    def list_bytes(pid: str) -> int:
        return batch * memories[pid].list_bytes

    forward = backward = 0.0
    n_supersteps = 0
    for stage in stages:
        update, compact = _Superstep(num_tiles), _Superstep(num_tiles)
        for pid in stage:
            p, pm = place[pid], memories[pid]
            n = p.slice_sizes()
            add(update.compute, p, forward_cycles(pm, n, workers))
            incoming = sum(batch * (inc.source_capacity * k.ID_BYTES + k.COUNTS_BYTES) for inc in pm.incoming)
            add(update.received, p, np.full(p.num_tiles, float(incoming)))
            for inc in pm.incoming:
                if place[inc.source].ipu != p.ipu:
                    update.link_bytes += batch * (inc.source_capacity * k.ID_BYTES + k.COUNTS_BYTES)
            if pm.population.spikes:
                samples = p.list_samples(batch)
                add_lists(compact.compute, p, compact_cycles(pm, samples))
                add_lists(compact.received, p, samples * float((pm.population.size + 3) // 4 * 4))
        forward += close(update, timesteps) + close(compact, timesteps)
        n_supersteps += 2 * timesteps

    for stage in reversed(stages):
        neuron = _Superstep(num_tiles)
        rounds = 0
        reduce_compute = np.zeros(num_tiles)
        reduce_received = np.zeros(num_tiles)
        for pid in stage:
            p, pm = place[pid], memories[pid]
            n = p.slice_sizes()
            add(neuron.compute, p, backward_cycles(pm, n, workers))
            elem = pm.element
            lists_in = sum(batch * (inc.source_capacity * k.ID_BYTES + k.COUNTS_BYTES) for inc in pm.incoming)
            grads_in = len(outgoing[pid]) * batch * (pm.population.capacity * (elem + k.ID_BYTES) + k.COUNTS_BYTES)
            add(neuron.received, p, np.full(p.num_tiles, float(lists_in + grads_in)))
            for target in outgoing[pid]:
                if place[target].ipu != p.ipu:
                    neuron.link_bytes += batch * (pm.population.capacity * (elem + k.ID_BYTES) + k.COUNTS_BYTES)
            partial = sum(batch * inc.source_capacity for inc in pm.incoming if inc.source_is_neuron)  # values
            if partial:
                rounds = max(rounds, reduction_rounds(p.num_tiles))
                work = k.REDUCTION_FANIN * partial * k.REDUCE_INSTRUCTIONS + k.VERTEX_LAUNCH_CYCLES
                add(reduce_compute, p, np.full(p.num_tiles, float(work)))
                add(reduce_received, p, np.full(p.num_tiles, float((k.REDUCTION_FANIN - 1) * partial * elem)))
        backward += close(neuron, timesteps)
        n_supersteps += timesteps
        if rounds:
            step = _Superstep(num_tiles)
            step.compute, step.received = reduce_compute, reduce_received
            backward += close(step, timesteps * rounds)
            n_supersteps += timesteps * rounds

    opt = _Superstep(num_tiles)
    for p in placements:
        if p.kind == "neuron":
            add(opt.compute, p, optimizer_cycles(memories[p.population], p.slice_sizes(), optimizer_instructions))
    optimizer = close(opt, 1)
    n_supersteps += 1

    step = forward + backward + optimizer
    seconds = step / clock_hz
    used = tile_total > 0
    return Cost(
        supersteps=n_supersteps,
        compute_cycles=totals["compute"],
        compute_mean_cycles=totals["mean"],
        exchange_cycles=totals["exchange"],
        sync_cycles=totals["sync"],
        link_cycles=totals["link"],
        forward_cycles=forward,
        backward_cycles=backward,
        optimizer_cycles=optimizer,
        step_cycles=step,
        step_seconds=seconds,
        samples_per_second=samples_per_step / seconds if seconds > 0 else 0.0,
        exchange_bytes_per_timestep=int(round(received_bytes / timesteps)),
        link_bytes_per_timestep=int(round(link_bytes / timesteps)),
        tile_compute_cycles_max=float(tile_total.max(initial=0.0)),
        tile_compute_cycles_mean=float(tile_total[used].mean()) if used.any() else 0.0,
    )
