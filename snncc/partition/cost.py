"""The cost model: predicted cycles of one training step of the generated program.

The supersteps are the generated program's compute sets, in its order: the sequence comes
from snncc.vertices.steps, the same builders the lowering uses, so the two cannot drift
(see that module for the sequence).

Per superstep: the busiest tile's vertex cycles (snncc.partition.cycles), plus the largest
per-tile exchange volume (snncc.partition.exchange) over EXCHANGE_BYTES_PER_CYCLE (plus a
setup), plus the IPU-Link bytes over LINK_BYTES_PER_SECOND, plus one sync. Host streams are
left out.

With R = target.replication_factor > 1 replicas, each training its batch / R samples, the step
adds the all-reduce of the weight and bias gradients across replicas (after the backward pass,
before the update): a ring moves 2 (R - 1) / R x GRADIENT_BYTES x the gradient elements per
replica, at ALLREDUCE_IPU_BYTES_PER_SECOND per IPU (every IPU of a replica all-reduces its own
gradients with its counterparts, in parallel: the IPU holding the most sets the time) or, on the
host backend's CPU-shaped layout, ALLREDUCE_MPI_BYTES_PER_SECOND. R = 1: no all-reduce.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import vertices as V
from ..ir import ModelGraph
from . import constants as k
from .cycles import (
    backward_cycles, compact_cycles, forward_cycles, list_slot_cycles, loss_cycles, optimizer_cycles, reduce_cycles,
    reduce_sum_cycles,
    weightgrad_cycles,
)
from .exchange import ReceivePeaks, Superstep, Tensors, add_exchange
from .memory import PopulationMemory, batch_per_replica, population_memory
from .plan import Cost, Placement

#: the layouts a plan is made for (snncc.partition.target): the spec's IPU target, or the host
#: backend's CPU-shaped one, whose replicas are MPI ranks
LAYOUTS = ("ipu", "cpu")


def allreduce_bytes_per_second(layout: str) -> float:
    """The all-reduce bandwidth per replica on a layout (snncc.partition.constants)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    return k.ALLREDUCE_MPI_BYTES_PER_SECOND if layout == "cpu" else k.ALLREDUCE_IPU_BYTES_PER_SECOND


def gradient_elements(placements: Sequence[Placement], memories: dict[str, PopulationMemory],
                      num_ipus: int) -> np.ndarray:
    """Per IPU, the weight and bias gradient elements (dw, db) its tiles hold: what an all-reduce
    across replicas sums (per incoming projection of a neuron population the stored weights of its
    slices, a bound for probability masks as in the memory model, and one bias per neuron)."""
    out = np.zeros(max(num_ipus, 1), dtype=np.int64)
    for p in placements:
        pm = memories[p.population]
        if p.kind != "neuron":
            continue
        n = p.slice_sizes()
        out[p.ipu] += sum(int(inc.stored(n).sum()) + (p.size if inc.facts.bias else 0) for inc in pm.incoming)
    return out


def allreduce_cost(per_ipu: np.ndarray, replicas: int, bytes_per_second: float,
                   clock_hz: float) -> tuple[float, float]:
    """(bytes a replica sends in the ring all-reduce of its gradients, its cycles at clock_hz):
    2 (R - 1) / R x GRADIENT_BYTES x the elements; every IPU of the replica reduces its own share
    with its counterparts at `bytes_per_second`, so the IPU with the most sets the time.
    (0, 0) for one replica."""
    if replicas <= 1:
        return 0.0, 0.0
    ring = 2.0 * (replicas - 1) / replicas * k.GRADIENT_BYTES
    return ring * float(per_ipu.sum()), ring * float(per_ipu.max(initial=0)) / bytes_per_second * clock_hz


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
    per_compute_set: dict[str, dict] | None = None,
    receive: ReceivePeaks | None = None,
    watch: int | None = None,
    replicas: int = 1,
    allreduce_bytes_per_second: float = k.ALLREDUCE_IPU_BYTES_PER_SECOND,
) -> Cost:
    """Predict one training step of a placed model (see the module docstring). If given,
    `per_compute_set` is filled with, per compute set name, one execution's exchanged bytes
    summed over tiles ("exchange_bytes", what the host runtime's report calls exchangeBytes),
    the busiest tile's received bytes ("max_tile_bytes"), the cycles of one execution
    ("compute_cycles", "exchange_cycles", "link_cycles", "sync_cycles"), the executions per
    step and the phase ("forward", "backward", "optimizer"); with a `watch` tile also "parts",
    what each vertex field adds to that tile's receive buffers (element, family, field, bytes).
    `receive`, if given, gets every tile's peak receive buffers over the compute sets.
    `replicas` > 1 adds the gradients' all-reduce at `allreduce_bytes_per_second` (allreduce_cost);
    `batch` is one replica's, `samples_per_step` all replicas' together."""
    place = {p.population: p for p in placements}
    tiles_per_ipu = num_tiles // max(num_ipus, 1)
    readout = next((pid for pid, pm in memories.items() if pm.readout is not None), None)
    projections = {inc.facts.id: (inc, pid) for pid, pm in memories.items() for inc in pm.incoming}
    tensors = Tensors(place, memories, projections, readout, tiles_per_ipu)
    pop_facts = [pm.facts for pm in memories.values()]
    proj_facts = [pr for pm in memories.values() for pr in pm.projections]
    forward_sets = V.forward_steps(stages, pop_facts)
    backward_sets = V.backward_steps(stages, pop_facts, proj_facts)

    sync = k.EXTERNAL_SYNC_CYCLES if num_ipus > 1 else k.INTERNAL_SYNC_CYCLES
    link_per_cycle = k.LINK_BYTES_PER_SECOND / clock_hz
    tile_total = np.zeros(num_tiles)
    totals = dict(compute=0.0, mean=0.0, exchange=0.0, sync=0.0, link=0.0)
    received_bytes = link_bytes = 0.0
    readout_tile = tensors.readout_tile
    readout_pm = memories[readout] if readout else None
    decoding, loss_kind = (readout_pm.readout[0], readout_pm.readout[1]) if readout_pm else ("", "")
    single = np.array([readout_tile])
    list_slot_decls = {lagged: V.list_slot_vertex(lagged) for lagged in (False, True)}

    def tiles_of(p: Placement) -> np.ndarray:
        return np.arange(p.first_tile, p.first_tile + p.num_tiles)

    def range_of(p: Placement) -> slice:
        return slice(p.first_tile, p.first_tile + p.num_tiles)

    def superstep(cs) -> Superstep:
        step = Superstep(num_tiles, watch)
        links: set = set()
        fam = cs.vertex
        if fam in ("Tick", "Loss"):
            step.touch(single)
        if fam == "Tick":
            step.compute[readout_tile] += k.VERTEX_LAUNCH_CYCLES
            add_exchange(step, [V.tick_vertex("+1")], ("global", ""), single, tensors, links, ("single",))
        elif fam == "Loss":
            step.compute[readout_tile] += loss_cycles(readout_pm, workers)
            add_exchange(step, [V.loss_vertex(decoding, loss_kind)], ("pop", readout), single, tensors, links, ("single",))
        for member in () if fam in ("Tick", "Loss", "Optimizer") else cs.members:
            if fam in ("Forward", "Backward", "Compact", "ListSlot"):
                pm, p = memories[member], place[member]
                if pm.population.kind == "input" and fam != "ListSlot":
                    continue
                if fam in ("Compact", "ListSlot"):
                    samples = p.list_samples(batch)
                    tiles = np.array([p.list_tile(j) for j in range(p.list_tiles)], dtype=np.int64)
                    keep = samples > 0
                    order = np.argsort(tiles[keep], kind="stable")
                    tiles, samples = tiles[keep][order], samples[keep][order]
                    # a population's list tiles are distinct, so += adds once per tile
                    if fam == "Compact":
                        step.compute[tiles] += compact_cycles(pm, samples, workers)
                        decl = pm.compact_decl
                    else:
                        step.compute[tiles] += list_slot_cycles(pm, samples, workers)
                        decl = list_slot_decls[cs.name == "lists.backward"]
                    index = None
                else:
                    tiles, index = tiles_of(p), range_of(p)
                    fn = forward_cycles if fam == "Forward" else backward_cycles
                    step.compute[index] += fn(pm, p.slice_sizes(), workers)
                    decl = pm.forward_decl if fam == "Forward" else pm.backward_decl
                step.touch(tiles)
                add_exchange(step, [decl], ("pop", member), tiles, tensors, links, (fam in ("Compact", "ListSlot"), member),
                          index)
            else:  # projection compute sets
                inc, target = projections[member]
                pm, p = memories[target], place[target]
                i = next(i for i, v in enumerate(pm.projections) if v.id == member)
                if fam == "WeightGrad":
                    tiles, index = tiles_of(p), range_of(p)
                    step.compute[index] += weightgrad_cycles(pm, inc, p.slice_sizes(), workers)
                    decls = [pm.weightgrad_decls[i]]
                    tile_set = (False, target)
                elif fam == "ReduceSum":
                    tiles, index = tiles_of(p), range_of(p)
                    step.compute[index] += reduce_sum_cycles(batch * inc.facts.grad_slots, p.num_tiles, workers)
                    decls = [V.reduce_sum_vertex()]
                    tile_set = (False, target)
                elif fam == "Reduce":
                    src, sp = memories[inc.facts.source], place[inc.facts.source]
                    tiles, index = tiles_of(sp), range_of(sp)
                    step.compute[index] += reduce_cycles(src, sp.slice_sizes(), workers)
                    decls = [V.reduce_vertex(src.sparse_backward)]
                    tile_set = (False, inc.facts.source)
                else:  # Optimizer: handled per population below
                    continue
                step.touch(tiles)
                add_exchange(step, decls, ("proj", member), tiles, tensors, links, tile_set, index, tile_set[1])
        if fam == "Optimizer":
            for pid, pm in memories.items():
                if pm.population.kind == "input" or not pm.incoming:
                    continue
                p = place[pid]
                tiles, index = tiles_of(p), range_of(p)
                step.touch(tiles)
                step.compute[index] += optimizer_cycles(pm, p.slice_sizes(), optimizer_instructions)
                for pr, decls in zip(pm.projections, pm.optimizer_decls):
                    add_exchange(step, decls, ("proj", pr.id), tiles, tensors, links, (False, pid), index)
        return step

    def close(step: Superstep, repeat: int) -> tuple[float, float, float, float]:
        """Account `repeat` executions; the cycles of one: (compute, exchange, link, sync)."""
        nonlocal received_bytes, link_bytes
        window = slice(step.lo, max(step.lo, step.hi))
        cycles, received = step.compute[window], step.received[window]
        compute = float(cycles.max(initial=0.0))
        busy = int(np.count_nonzero(cycles))
        mean = float(cycles.sum()) / busy if busy else 0.0
        most = float(received.max(initial=0.0))
        exchange = most / k.EXCHANGE_BYTES_PER_CYCLE + (k.EXCHANGE_SETUP_CYCLES if most > 0 else 0.0)
        link = step.link_bytes / link_per_cycle
        totals["compute"] += repeat * compute
        totals["mean"] += repeat * mean
        totals["exchange"] += repeat * exchange
        totals["link"] += repeat * link
        totals["sync"] += repeat * sync
        if compute:
            tile_total[window] += repeat * cycles
        received_bytes += repeat * float(received.sum())
        link_bytes += repeat * step.link_bytes
        return compute, exchange, link, sync

    def run(cs, repeat: int, phase: str) -> float:
        step = superstep(cs)
        if receive is not None:
            receive.add(cs.name, step)
        compute, exchange, link, cs_sync = close(step, repeat)
        if per_compute_set is not None:
            per_compute_set[cs.name] = {
                "exchange_bytes": float(step.received.sum()), "max_tile_bytes": float(step.received.max()),
                "compute_cycles": compute, "exchange_cycles": exchange, "link_cycles": link, "sync_cycles": cs_sync,
                "link_bytes": step.link_bytes, "executions": repeat, "phase": phase}
            if watch is not None:
                per_compute_set[cs.name]["parts"] = step.parts
        return repeat * (compute + exchange + link + cs_sync)

    forward = sum(run(cs, timesteps, "forward") for cs in forward_sets)
    backward = sum(run(cs, timesteps, "backward") for cs in backward_sets)
    loss = run(V.loss_step(readout), 1, "forward") if readout else 0.0
    optimizer = run(V.update_step(proj_facts), 1, "optimizer")
    n_supersteps = timesteps * (len(forward_sets) + len(backward_sets)) + (1 if readout else 0) + 1

    forward += loss
    per_ipu = gradient_elements(placements, memories, num_ipus)
    allreduce_bytes, allreduce = allreduce_cost(per_ipu, replicas, allreduce_bytes_per_second, clock_hz)
    step = forward + backward + optimizer + allreduce  # R = 1: + 0.0, the step unchanged
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
        gradient_elements=int(per_ipu.sum()),
        allreduce_bytes=int(round(allreduce_bytes)),
        allreduce_cycles=allreduce,
        step_seconds=seconds,
        samples_per_second=samples_per_step / seconds if seconds > 0 else 0.0,
        exchange_bytes_per_timestep=int(round(received_bytes / timesteps)),
        link_bytes_per_timestep=int(round(link_bytes / timesteps)),
        tile_compute_cycles_max=float(tile_total.max(initial=0.0)),
        tile_compute_cycles_mean=float(tile_total[used].mean()) if used.any() else 0.0,
    )


def optimizer_instructions(optimizer) -> float:
    """Instructions per trainable value of the update (snncc.partition.constants)."""
    if optimizer.kind == "adam":
        return k.ADAM_INSTRUCTIONS
    return k.SGD_MOMENTUM_INSTRUCTIONS if optimizer.momentum > 0 else k.SGD_INSTRUCTIONS


def step_cost(ir: ModelGraph, memories: dict[str, PopulationMemory], placements: Sequence[Placement],
              per_compute_set: dict[str, dict] | None = None, receive: ReceivePeaks | None = None,
              watch: int | None = None, layout: str = "ipu") -> Cost:
    """The estimate for a placed model on its target (what make_plan attaches to the Plan); `layout`
    "cpu" (the host backend's CPU-shaped target) prices the replicas' all-reduce as MPI's."""
    s, t = ir.settings, ir.settings.target
    return estimate(
        placements, memories, ir.stages,
        num_tiles=t.num_ipus * t.tiles_per_ipu, num_ipus=t.num_ipus, workers=t.workers_per_tile,
        clock_hz=t.clock_hz, timesteps=s.timesteps, batch=batch_per_replica(ir), samples_per_step=s.batch_size,
        optimizer_instructions=optimizer_instructions(s.optimizer), per_compute_set=per_compute_set,
        receive=receive, watch=watch, replicas=t.replication_factor,
        allreduce_bytes_per_second=allreduce_bytes_per_second(layout),
    )


def compute_set_costs(ir: ModelGraph, plan, watch: int | None = None) -> dict[str, dict]:
    """Per compute set of the generated program, the model's figures for a planned model (see
    `estimate`'s per_compute_set), e.g. to compare with the host runtime's report."""
    out: dict[str, dict] = {}
    step_cost(ir, {p.id: population_memory(ir, p) for p in ir.populations}, list(plan.placements), out, watch=watch)
    return out


def receive_peaks(ir: ModelGraph, memories: dict[str, PopulationMemory], placements: Sequence[Placement],
                  num_tiles: int, layout: str = "ipu") -> tuple[ReceivePeaks, Cost, dict[str, dict]]:
    """Every tile's peak receive buffers of a placed model, with the step's cost and its figures
    per compute set (one walk of the step gives all three)."""
    peaks = ReceivePeaks(num_tiles)
    per: dict[str, dict] = {}
    cost = step_cost(ir, memories, placements, per, peaks, layout=layout)
    return peaks, cost, per
