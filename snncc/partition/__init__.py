"""The partition stage: IR -> Plan (tiles and IPUs per population, memory per tile, cost).

`make_plan(ir)` is the entry point; it raises PlanError, with a message for the user, when
the model does not fit the target. See docs/plan.md for the models and their figures.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..ir import ModelGraph, Schedule
from ..machine import collection_paused
from . import constants
from .check import check_plan
from .cost import LAYOUTS, allreduce_bytes_per_second, receive_peaks, step_cost
from .exchange import ReceivePeaks
from .partitioner import Infeasible, assign_ipus, place_ipu, tile_bytes
from .memory import (
    CAT, CATEGORIES, AllocationCheck, PopulationMemory, batch_per_replica, check_allocation, population_memory,
)
from .plan import SLICE_RULE, ComputeSetCost, Cost, IPUPlan, Placement, Plan, TileMemory


class PlanError(Exception):
    """The model does not fit the target; the message says what and how to fix it."""


def make_plan(ir: ModelGraph, pipelined: bool = True, layout: str = "ipu") -> Plan:
    """Partition a model over its target and predict its step time.

    With `pipelined`, a model with zero-delay projections between neuron populations is
    also planned with those projections made delay-1, and that prediction is attached.
    `layout` says what the target is: "ipu" (the spec's IPU system) or "cpu" (the host
    backend's CPU-shaped target, snncc.partition.target.host_ir); with replication_factor > 1
    it picks the bandwidth of the replicas' gradient all-reduce (IPU-Links or MPI).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    with collection_paused():
        return _make_plan(ir, pipelined, layout)


def _make_plan(ir: ModelGraph, pipelined: bool, layout: str) -> Plan:
    target = ir.settings.target
    memories = {p.id: population_memory(ir, p) for p in ir.populations}
    placements, ipus, table, peaks, cost, per = _place_fitting(ir, memories, layout)
    alternative = None
    if pipelined and _zero_delay_neuron_projections(ir):
        try:
            alternative = _place_fitting(pipelined_ir(ir), memories, layout)[4]
        except PlanError:
            alternative = None
    return Plan(
        model=ir.name,
        num_ipus=target.num_ipus,
        tiles_per_ipu=target.tiles_per_ipu,
        bytes_per_tile=target.bytes_per_tile,
        workers_per_tile=target.workers_per_tile,
        clock_hz=target.clock_hz,
        batch_per_replica=batch_per_replica(ir),
        replication_factor=target.replication_factor,
        timesteps=ir.settings.timesteps,
        placements=tuple(placements),
        ipus=tuple(ipus),
        tile_memory=TileMemory(table, target.bytes_per_tile, peaks.compute_set, tuple(peaks.names)),
        cost=cost,
        pipelined=alternative,
        compute_sets=tuple(
            ComputeSetCost(name, c["phase"], int(c["executions"]), c["compute_cycles"], c["exchange_cycles"],
                           c["link_cycles"], c["sync_cycles"], c["exchange_bytes"], c["max_tile_bytes"])
            for name, c in per.items()),
        layout=layout,
        allreduce_bytes_per_second=allreduce_bytes_per_second(layout),
    )


#: re-placements make_plan tries to make room for receive buffers (each doubles or halves one
#: population's tiles, so this covers every tile count of an IPU)
MAX_REPLACEMENTS = 12


def _place_fitting(ir: ModelGraph, memories: dict[str, PopulationMemory], layout: str = "ipu"):
    """Place the model and count its receive buffers (they depend on the placement: the cost model's
    supersteps give each tile's peak). Where they overflow a tile and the partitioner's own choice
    can help, place again: the population whose vertices fill the tile on more tiles (fewer samples
    per list tile for Compact, smaller slices leaving more room) or, for the loss, which reads the
    readout's whole history, the readout on fewer. Otherwise refuse (PlanError, one line).
    (placements, ipus, table, peaks, cost, per compute set)."""
    budget = ir.settings.target.bytes_per_tile
    limits: dict[str, tuple[int, int | None]] = {}
    refusal = ""
    last = None  # the last change: (population, its tiles before it)
    tried: set = set()
    for _ in range(4 * MAX_REPLACEMENTS):
        try:
            placements, ipus, table = _place(ir, memories, limits)
        except PlanError:
            if not refusal:
                raise
            pid, before = last
            low, high = limits[pid]
            if high is None and low - before > 1:  # more tiles do not fit beside the others: fewer more
                limits[pid] = ((before + low) // 2, None)
                continue
            break  # the re-placement does not fit: the receive buffers are the problem to report
        peaks, cost, per = receive_peaks(ir, memories, placements, len(table), layout)
        table[:, CAT["receive"]] = peaks.bytes
        totals = table.sum(axis=1)
        if totals.max() <= budget:
            return placements, ipus, table, peaks, cost, per
        tile = int(totals.argmax())
        parts = _receive_parts(ir, memories, placements, peaks, tile)
        refusal = _explain_receive(ir, placements, table, peaks, parts, tile)
        change = _relief(ir, placements, parts, table[tile], budget, limits)
        if change is None or change in tried:
            break
        tried.add(change)
        last = (change[0], next(p.num_tiles for p in placements if p.population == change[0]))
        limits[change[0]] = change[1]
    raise PlanError(refusal)


def _receive_parts(ir, memories, placements, peaks: ReceivePeaks, tile: int):
    """What each vertex field adds to `tile`'s receive buffers where they peak, largest first."""
    per: dict[str, dict] = {}
    step_cost(ir, memories, placements, per, watch=tile)
    return sorted(per[peaks.compute_set_of(tile)]["parts"], key=lambda q: -q.bytes)


def _relief(ir: ModelGraph, placements, parts, row: np.ndarray, budget: int, limits):
    """(population, (min tiles, max tiles)) of a placement that shrinks the tile's receive buffers or
    makes room for them; None when the partitioner's choices cannot help."""
    if not parts:
        return None
    top = parts[0]
    pid = _population_of(ir, top)
    p = next(q for q in placements if q.population == pid)
    tiles = ir.settings.target.tiles_per_ipu
    if p.kind != "neuron":
        return None
    receive = int(row[CAT["receive"]])
    fixed = constants.TILE_RESERVE_BYTES + int(row[CAT["code"]])
    more = min(2 * p.num_tiles, p.size, tiles)
    low, high = limits.get(pid, (1, None))
    if more > p.num_tiles and high is None:
        if top.family == "Compact" and p.samples_per_list_tile > 1:
            return pid, (more, None)  # more list tiles, fewer samples each
        if receive + fixed < budget:  # the buffers alone fit: smaller slices make room
            return pid, (more, None)
    if top.family == "Loss" and low == 1 and p.num_tiles > 1:  # it reads the readout's lists and history
        return pid, (1, p.num_tiles // 2)  # whole: on fewer tiles, more of them are local
    return None


def _zero_delay_neuron_projections(ir: ModelGraph) -> list[str]:
    return [p.id for p in ir.projections if p.delay == 0 and ir.population(p.source).kind == "neuron"]


def pipelined_ir(ir: ModelGraph) -> ModelGraph:
    """The IR with every zero-delay projection between neuron populations made delay-1."""
    graph = ir.graph.copy()
    by_id = {p.id: p for p in ir.projections}
    for pid in _zero_delay_neuron_projections(ir):
        proj = by_id[pid]
        graph.edges[proj.source, proj.target, proj.id]["projection"] = dataclasses.replace(proj, delay=1)
    return Schedule().apply(ir.with_graph(graph, "pipelined"))


def _place(ir: ModelGraph, memories: dict[str, PopulationMemory], limits=None):
    target = ir.settings.target
    tiles, budget, workers = target.tiles_per_ipu, target.bytes_per_tile, target.workers_per_tile
    num_tiles = target.num_ipus * tiles
    ipu_of = assign_ipus(ir, memories, target.num_ipus, workers)
    stage = {p.id: (ir.stage(p.id) if p.kind == "neuron" else -1) for p in ir.populations}
    placements: list[Placement] = []
    ipus: list[IPUPlan] = []
    table = np.zeros((num_tiles, len(CATEGORIES)), dtype=np.int64)
    for ipu in range(target.num_ipus):
        pids = [p.id for p in ir.populations if ipu_of[p.id] == ipu]
        if not pids:
            ipus.append(IPUPlan(ipu, (), "staged", 0, ipu * tiles, ipu * tiles + tiles - 1))
            continue
        groups = [[pid for pid in pids if stage[pid] == -1]]
        groups += [[pid for pid in group if ipu_of[pid] == ipu] for group in ir.stages]
        groups = [g for g in groups if g]
        failure: Infeasible | None = None
        chosen = None
        for arrangement in ("staged", "disjoint"):
            try:
                placed = place_ipu(ipu, pids, groups, memories, stage, tiles=tiles, budget=budget,
                                   workers=workers, disjoint=arrangement == "disjoint", limits=limits,
                                   min_neurons=target.min_neurons_per_tile)
            except Infeasible as exc:
                failure = failure or exc
                continue
            part = tile_bytes(placed, memories, num_tiles)
            totals = part.sum(axis=1)
            if totals.max() <= budget:
                chosen = (arrangement, placed, part)
                break
            if failure is None:
                worst = int(totals.argmax())
                on_worst = [p for p in placed if p.first_tile <= worst < p.first_tile + p.num_tiles]
                biggest = max(on_worst, key=lambda p: memories[p.population].slice_bytes(
                    np.array([p.neurons_per_tile + 1]), p.num_tiles).sum()) if on_worst else None
                failure = Infeasible(biggest.population if biggest else None,
                                     f"tile {worst} would need {int(totals[worst])} bytes")
        if chosen is None:
            raise PlanError(_explain(ir, memories, ipu, pids, failure))
        arrangement, placed, part = chosen
        placements += placed
        table += part
        used = int((part.sum(axis=1) > 0).sum())
        ipus.append(IPUPlan(ipu, tuple(pids), arrangement, used, ipu * tiles, ipu * tiles + tiles - 1))
    order = {p.id: p.index for p in ir.populations}
    placements.sort(key=lambda p: order[p.population])
    return placements, ipus, table


# --------------------------------------------------------------------------- explaining a model that does not fit


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def _model_bytes(memories: dict[str, PopulationMemory], **change) -> float:
    total = 0.0
    for pm in memories.values():
        if change:
            pm = dataclasses.replace(pm, **change)
        size = np.array([pm.population.size])
        total += float(pm.slice_bytes(size).sum() + pm.list_tile_bytes(np.array([pm.batch])).sum())
    return total


#: What shrinks a tile's share of each memory category (every one of CATEGORIES).
PER_TILE_ADVICE = {
    "weights": "sparse connectivity or a smaller fan-in",
    "gradients": "sparse connectivity or a smaller fan-in",
    "optimizer": "SGD instead of Adam (no moment copies)",
    "history": "fewer timesteps or a smaller batch_size",
    "spike_lists": "a lower max_activity (or max_spikes) of the populations it reads, or a smaller batch_size",
    "reduction": "a lower max_activity (or max_spikes) of the populations it reads, or a smaller batch_size",
    "state": "a smaller batch_size",
    "vertices": "a larger bytes_per_tile",
    "receive": "a lower max_activity (or max_spikes) of the populations it reads, or a smaller batch_size",
    "code": "fewer projections into and out of it (each adds exchange code)",
}


def _per_tile_fixes(pm: PopulationMemory, budget: int) -> str:
    """What shrinks one tile's share of a population, largest category first."""
    share = dict(zip(CATEGORIES, pm.slice_bytes(np.array([1]))[0].tolist()))
    share["history"] += int(pm.list_tile_bytes(np.array([pm.batch]))[0].sum())  # worst case: one list tile
    order = sorted(share, key=lambda c: -share[c])
    fixes = []
    for c in order[:3]:
        if share[c] and PER_TILE_ADVICE[c] not in fixes:
            fixes.append(PER_TILE_ADVICE[c])
    detail = ", ".join(f"{c} {share[c]}" for c in order[:3])
    return ", or ".join(fixes) + f" (one neuron's share per tile, bytes: {detail}); more IPUs would not help"


def model_bytes(ir: ModelGraph) -> int:
    """Bytes of every population's slices and lists if each sat whole on one tile (no reserves):
    a lower bound of what the model needs in all, for estimates and messages."""
    return int(_model_bytes({p.id: population_memory(ir, p) for p in ir.populations}))


def _with_capacity_one(memories: dict[str, PopulationMemory]) -> dict[str, PopulationMemory]:
    out = {}
    for pid, pm in memories.items():
        capacity = min(pm.population.capacity, 1)
        pop = dataclasses.replace(pm.population, capacity=capacity)
        incoming = tuple(dataclasses.replace(i, source_capacity=min(i.source_capacity, 1)) for i in pm.incoming)
        out[pid] = dataclasses.replace(pm, population=pop, incoming=incoming,
                                       facts=dataclasses.replace(pm.facts, capacity=capacity))
    return out


def _fix_for(ir: ModelGraph, part, placements) -> str:
    """What shrinks one field's receive buffer (the vertex reads it from other tiles)."""
    place = {p.population: p for p in placements}
    if part.family == "Compact":  # the spike codes of its samples, from every neuron tile
        p = place[part.element]
        return (f"fewer samples per list tile ({p.samples_per_list_tile} now: '{part.element}' on more tiles gets "
                "more list tiles), a smaller batch_size or more tiles per IPU")
    if part.field in ("ids", "counts") or part.field.startswith(("ids", "counts")):
        source = part.owner
        return (f"a lower max_activity (or max_spikes) of '{source}', smaller delays of its projections (fewer "
                "ring slots) or a smaller batch_size")
    if part.family in ("ReduceSum", "Reduce"):
        source = _projection(ir, part.element).source if part.kind == "proj" else part.element
        return (f"a smaller batch_size, or a gradient_threshold on '{source}' (its input gradients then hold one "
                "entry per listed spike, not per neuron)")
    if part.family == "Loss":
        return "fewer timesteps or a smaller batch_size (the loss reads the readout's whole history)"
    return "a smaller batch_size"


def _projection(ir: ModelGraph, pid: str):
    return next(p for p in ir.projections if p.id == pid)


def _population_of(ir: ModelGraph, part) -> str:
    if part.kind == "pop":
        return part.element
    if part.kind == "proj":
        proj = _projection(ir, part.element)
        return proj.source if part.family == "Reduce" else proj.target
    return ir.settings.readout.population


def _explain_receive(ir: ModelGraph, placements, table: np.ndarray, peaks: ReceivePeaks, parts, tile: int) -> str:
    """One line: the tile whose receive buffers overflow it, the compute set, the fields that fill
    them and what would make them fit."""
    budget = ir.settings.target.bytes_per_tile
    totals = table.sum(axis=1)
    name = peaks.compute_set_of(tile)
    receive = int(table[tile, CAT["receive"]])
    rest = int(totals[tile]) - receive
    top = parts[0]
    pop = _population_of(ir, top)
    listed = ", ".join(f"{q.family} field '{q.field}' of '{q.element}' {q.bytes}" for q in parts[:3])
    fixes = [_fix_for(ir, top, placements)]
    p = next(q for q in placements if q.population == pop)
    if rest > budget // 2:
        where = ("on more tiles" if p.num_tiles < min(p.size, ir.settings.target.tiles_per_ipu)
                 else "on more tiles (more tiles per IPU)")
        fixes.append(f"'{pop}' {where}: the tile's variables, vertex state and code take {rest} bytes")
    fixes.append("a larger bytes_per_tile")
    return (f"the model does not fit: population '{pop}' would need {int(totals[tile])} bytes on tile {tile} "
            f"({receive} of them receive buffers in compute set '{name}': {listed}; available: {budget} bytes per "
            f"tile); to fit: " + ", or ".join(fixes))


def _explain(ir: ModelGraph, memories: dict[str, PopulationMemory], ipu: int, pids: list[str],
             failure: Infeasible | None) -> str:
    target = ir.settings.target
    usable = target.bytes_per_tile - constants.TILE_RESERVE_BYTES
    per_ipu = target.tiles_per_ipu * usable
    whole = {pid: _model_bytes({pid: memories[pid]}) for pid in pids}
    name = failure.population if failure and failure.population else max(whole, key=whole.get)
    here = sum(whole.values())
    head = (
        f"the model does not fit: population '{name}' needs {_mib(whole[name])} "
        f"({failure}; available: {target.bytes_per_tile} bytes per tile); "
        if failure else f"the model does not fit: population '{name}' needs {_mib(whole[name])}; "
    )
    head += (
        f"IPU {ipu} holds {len(pids)} populations needing {_mib(here)}, its {target.tiles_per_ipu} tiles of "
        f"{target.bytes_per_tile} bytes hold {_mib(per_ipu)} after reserves"
    )
    if failure is not None and failure.per_tile:
        return head + "; to fit: " + _per_tile_fixes(memories[name], target.bytes_per_tile)
    total = _model_bytes(memories)
    fixes = []
    ipus_needed = math.ceil(total / per_ipu)
    if ipus_needed > target.num_ipus:
        fixes.append(f"num_ipus >= {ipus_needed}")
    else:
        fixes.append(f"num_ipus > {target.num_ipus}")
    capacity = target.num_ipus * per_ipu
    s = ir.settings
    # total bytes are affine in timesteps and (nearly) in batch: a + b x
    for field_name, current, label in (("timesteps", s.timesteps, "timesteps"), ("batch", batch_per_replica(ir), "batch_size")):
        a_plus_b = _model_bytes(memories, **{field_name: 1})
        slope = (total - a_plus_b) / (current - 1) if current > 1 else 0.0
        if slope > 0:
            best = math.floor((capacity - (a_plus_b - slope)) / slope)
            if 1 <= best < current:
                fixes.append(f"{label} <= {best}")
    if _model_bytes(_with_capacity_one(memories)) <= capacity and total > capacity:
        fixes.append("a lower max_activity (smaller spike lists)")
    return head + "; to fit: " + ", or ".join(fixes)


__all__ = [
    "AllocationCheck", "CATEGORIES", "Cost", "IPUPlan", "Placement", "Plan", "PlanError", "SLICE_RULE",
    "TileMemory", "check_allocation", "check_plan", "make_plan", "model_bytes", "pipelined_ir",
]
