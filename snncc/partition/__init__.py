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
from .cost import step_cost
from .partitioner import Infeasible, assign_ipus, place_ipu, tile_bytes
from .memory import CATEGORIES, AllocationCheck, PopulationMemory, batch_per_replica, check_allocation, population_memory
from .plan import SLICE_RULE, Cost, IPUPlan, Placement, Plan, TileMemory


class PlanError(Exception):
    """The model does not fit the target; the message says what and how to fix it."""


def make_plan(ir: ModelGraph, pipelined: bool = True) -> Plan:
    """Partition a model over its target and predict its step time.

    With `pipelined`, a model with zero-delay projections between neuron populations is
    also planned with those projections made delay-1, and that prediction is attached.
    """
    with collection_paused():
        return _make_plan(ir, pipelined)


def _make_plan(ir: ModelGraph, pipelined: bool) -> Plan:
    target = ir.settings.target
    memories = {p.id: population_memory(ir, p) for p in ir.populations}
    placements, ipus, table = _place(ir, memories)
    cost = step_cost(ir, memories, placements)
    alternative = None
    if pipelined and _zero_delay_neuron_projections(ir):
        pir = pipelined_ir(ir)
        try:
            alt_placements, _, _ = _place(pir, memories)
        except PlanError:
            alternative = None
        else:
            alternative = step_cost(pir, memories, alt_placements)
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
        tile_memory=TileMemory(table, target.bytes_per_tile),
        cost=cost,
        pipelined=alternative,
    )


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


def _place(ir: ModelGraph, memories: dict[str, PopulationMemory]):
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
                                   workers=workers, disjoint=arrangement == "disjoint")
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
