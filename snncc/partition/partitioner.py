"""The partitioner: populations to IPUs, then contiguous neuron slices to tiles.

IPUs (num_ipus > 1): neuron populations in topological order are cut into contiguous
blocks, one per IPU, balancing a load that is the larger of a population's share of the
model's bytes and of its compute; then networkx's Kernighan-Lin bisection refines each
pair of neighbouring blocks on the population graph weighted by spike-list traffic, and a
move is kept only if it lowers the traffic between IPUs without unbalancing the load. A
chain has one edge between neighbouring blocks, already minimal, so it stays contiguous.
Input populations go to the IPU of their first consumer.

Tiles, per IPU (the "staged" arrangement first): the populations of one schedule stage run
concurrently, so within a stage each gets its own contiguous range, sized greedily to
minimise the stage's busiest tile (starting from the fewest tiles its memory allows);
different stages run in different supersteps, so they reuse the same tiles. A chain of
zero-delay layers thus spreads every layer over the whole IPU; a pipelined (delay-1)
stack, a single stage, gets one range per layer. Stage groups start at rotating offsets so
that small populations do not pile up on the first tiles. If some tile then exceeds its
bytes, the "disjoint" arrangement is tried: every population of the IPU in its own range, sized
by memory first. A stage with more populations than tiles packs several onto one tile.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from ..ir import ModelGraph
from . import constants as k
from .cycles import step_cycles_per_timestep
from .memory import CAT, NCAT, PopulationMemory, vertex_code
from .plan import Placement, split_neurons


class Infeasible(Exception):
    """An arrangement that cannot hold its populations (caught by the planner, which explains)."""

    def __init__(self, population: str | None, reason: str, per_tile: bool = False):
        super().__init__(reason)
        self.population = population
        self.per_tile = per_tile  # a single tile's share is too large: more IPUs would not help


# --------------------------------------------------------------------------- IPU assignment


def topological_order(ir: ModelGraph) -> list[str]:
    """Neuron populations in an order that respects every non-recurrent projection."""
    dag = nx.DiGraph()
    neurons = [p for p in ir.populations if p.kind == "neuron"]
    dag.add_nodes_from(p.id for p in neurons)
    dag.add_edges_from(
        (p.source, p.target) for p in ir.projections
        if not p.recurrent and p.source in dag and p.source != p.target
    )
    index = {p.id: p.index for p in neurons}
    return list(nx.lexicographical_topological_sort(dag, key=lambda pid: index[pid]))


def population_load(pm: PopulationMemory, workers: int) -> tuple[float, float]:
    """(bytes, compute cycles per timestep) of a whole population, for balancing IPUs."""
    size = np.array([pm.population.size])
    nbytes = float(pm.slice_bytes(size).sum() + pm.list_tile_bytes(np.array([pm.batch])).sum())
    return nbytes, float(step_cycles_per_timestep(pm, size, workers)[0])


def _linear_partition(weights: Sequence[float], parts: int) -> list[int]:
    """Block index per item: contiguous blocks, at most `parts`, minimising the largest sum."""
    w = np.asarray(weights, dtype=np.float64)

    def blocks(limit: float) -> list[int] | None:
        out, block, acc = [], 0, 0.0
        for x in w:
            if acc + x > limit and acc > 0:
                block, acc = block + 1, 0.0
            out.append(block)
            acc += x
        return out if block < parts else None

    lo, hi = float(w.max(initial=0.0)), float(w.sum())
    for _ in range(60):
        mid = (lo + hi) / 2
        if blocks(mid) is None:
            lo = mid
        else:
            hi = mid
    return blocks(hi) or [0] * len(w)


def traffic_graph(ir: ModelGraph, memories: dict[str, PopulationMemory]) -> nx.Graph:
    """Undirected population graph; edge weight = bytes of spike lists per timestep."""
    g = nx.Graph()
    g.add_nodes_from(p.id for p in ir.populations)
    for proj in ir.projections:
        if proj.source == proj.target:
            continue
        src = memories[proj.source]
        w = src.batch * src.list_bytes
        if g.has_edge(proj.source, proj.target):
            g[proj.source][proj.target]["traffic"] += w
        else:
            g.add_edge(proj.source, proj.target, traffic=w)
    return g


def assign_ipus(ir: ModelGraph, memories: dict[str, PopulationMemory], num_ipus: int, workers: int) -> dict[str, int]:
    order = topological_order(ir)
    ipu: dict[str, int] = {}
    if num_ipus > 1 and order:
        loads = [population_load(memories[pid], workers) for pid in order]
        total_bytes = sum(b for b, _ in loads) or 1.0
        total_work = sum(c for _, c in loads) or 1.0
        weight = {pid: max(b / total_bytes, c / total_work) for pid, (b, c) in zip(order, loads)}
        blocks = _linear_partition([weight[pid] for pid in order], num_ipus)
        ipu = dict(zip(order, blocks))
        _refine(ir, memories, ipu, weight)
    else:
        ipu = {pid: 0 for pid in order}
    for p in ir.populations:
        if p.kind == "input":
            consumers = sorted(ipu[proj.target] for proj in ir.outgoing(p.id))
            ipu[p.id] = consumers[0] if consumers else 0
    return ipu


def _refine(ir: ModelGraph, memories: dict[str, PopulationMemory], ipu: dict[str, int], weight: dict[str, float]) -> None:
    """Kernighan-Lin on each pair of neighbouring IPUs; keep a swap only if it cuts traffic."""
    g = traffic_graph(ir, memories).subgraph(list(ipu))
    used = sorted(set(ipu.values()))

    def cut(nodes) -> float:
        """Traffic between IPUs on the edges that touch `nodes` (only those can change)."""
        return sum(d["traffic"] for a, b, d in g.edges(nodes, data=True) if ipu[a] != ipu[b])

    def load(block: int) -> float:
        return sum(w for pid, w in weight.items() if ipu[pid] == block)

    for a, b in zip(used, used[1:]):
        left = {pid for pid, i in ipu.items() if i == a}
        right = {pid for pid, i in ipu.items() if i == b}
        if not left or not right:
            continue
        nodes = sorted(left | right)
        before, worst = cut(nodes), max(load(a), load(b))
        sub = g.subgraph(nodes)
        new_left, new_right = nx.algorithms.community.kernighan_lin_bisection(
            sub, partition=(left, right), weight="traffic", seed=0
        )
        if new_left == left:
            continue
        saved = dict(ipu)
        ipu.update({pid: a for pid in new_left})
        ipu.update({pid: b for pid in new_right})
        if not (cut(nodes) < before and max(load(a), load(b)) <= worst * 1.05):
            ipu.clear()
            ipu.update(saved)


# --------------------------------------------------------------------------- tiles within an IPU


@dataclass(frozen=True)
class _Item:
    pid: str
    units: int  # neurons (or samples, for an input population's list tiles)
    min_tiles: int
    time: Callable[[int], float]  # predicted busiest-tile time with t tiles
    max_tiles: int | None = None  # at most (None: no limit but the units)


def _allocate(items: Sequence[_Item], tiles: int) -> list[int] | None:
    """Tiles per item, contiguous and disjoint, minimising the largest time; None if impossible."""
    count = [it.min_tiles for it in items]
    if sum(count) > tiles:
        return None
    free = tiles - sum(count)
    heap = [(-it.time(count[i]), i) for i, it in enumerate(items)]
    heapq.heapify(heap)
    while heap and free > 0:
        _, i = heapq.heappop(heap)
        it, t = items[i], count[i]
        q = math.ceil(it.units / t)
        if q == 1:
            break  # the busiest item cannot get faster: neither can the group
        need = math.ceil(it.units / (q - 1)) - t
        if need > free or (it.max_tiles is not None and t + need > it.max_tiles):
            break
        count[i] += need
        free -= need
        heapq.heappush(heap, (-it.time(count[i]), i))
    return count


def _pack(items: Sequence[_Item], tiles: int) -> list[int]:
    """Bin per item: contiguous items share a tile (more items than tiles), by time."""
    return _linear_partition([it.time(1) for it in items], tiles)


def _items(pids: Sequence[str], memories: dict[str, PopulationMemory], tiles: int, budget: int,
           workers: int, limits: dict[str, tuple[int, int | None]] | None = None,
           min_neurons: int = 1) -> list[_Item]:
    """The items of a group; `limits` bounds a population's tiles (min, max), e.g. to make room for
    its receive buffers (snncc.partition.make_plan); min_neurons (the target's fewest neurons per
    tile) bounds them by the population's size, unless its memory needs more."""
    items = []
    limits = limits or {}
    for pid in pids:
        pm = memories[pid]
        pop = pm.population
        if pop.kind == "input":
            per_sample = int(pm.list_tile_bytes(np.array([1])).sum())
            room = budget - k.TILE_RESERVE_BYTES
            fits = room // per_sample if per_sample else pm.batch
            if fits < 1:
                raise Infeasible(pid, f"one sample's spike lists over all timesteps take {per_sample} bytes",
                                 per_tile=True)
            items.append(_Item(pid, pm.batch, math.ceil(pm.batch / fits), lambda t, b=pm.batch: math.ceil(b / t)))
            continue
        # every tile count the IPU allows, at once: t tiles give slices of at most ceil(size / t)
        counts = np.arange(1, min(pop.size, tiles) + 1)
        slices = -(-pop.size // counts)
        samples = -(-pm.batch // np.minimum(pm.batch, counts)) if pop.spikes else np.zeros_like(counts)
        fixed = k.TILE_RESERVE_BYTES + sum(vertex_code(t) for t in pm.slice_vertex_types() + pm.list_vertex_types())
        need = pm.slice_bytes(slices, counts).sum(axis=1) + pm.list_tile_bytes(samples).sum(axis=1) + fixed
        fitting = np.flatnonzero(need <= budget)
        if not len(fitting):
            one = int(pm.slice_bytes(np.array([1])).sum()) + fixed
            if one > budget:
                raise Infeasible(pid, f"a single neuron needs {one} bytes on a tile, {fixed} of them code and "
                                      f"reserves", per_tile=True)
            raise Infeasible(pid, f"it needs {int(need[-1])} bytes per tile even spread over {len(counts)} tiles",
                             per_tile=True)
        cycles = step_cycles_per_timestep(pm, slices, workers)
        low, high = limits.get(pid, (1, None))
        least = min(max(int(counts[fitting[0]]), low), len(counts))
        if high is not None and high < least:
            raise Infeasible(pid, f"it needs {least} tiles by its memory, its receive buffers fit on at most {high}")
        by_size = max(least, math.ceil(pop.size / min_neurons))
        high = by_size if high is None else min(high, by_size)
        items.append(_Item(pid, pop.size, least, lambda t, c=cycles: float(c[t - 1]), high))
    return items


def _arrange(items: Sequence[_Item], tiles: int) -> tuple[list[int], list[int]]:
    """(tiles per item, first tile of each item within the group)."""
    count = _allocate(items, tiles)
    if count is not None:
        return count, [int(x) for x in np.cumsum([0] + count[:-1])]
    if any(it.min_tiles > 1 for it in items) or len(items) <= tiles:
        worst = max(items, key=lambda it: it.min_tiles)
        raise Infeasible(worst.pid, f"the populations placed together need {sum(it.min_tiles for it in items)} "
                                    f"tiles by their memory, the IPU has {tiles}")
    return [1] * len(items), _pack(items, tiles)


def _placements(items: Sequence[_Item], count: Sequence[int], firsts: Sequence[int], ipu: int,
                memories: dict[str, PopulationMemory], stage: dict[str, int], list_rot: list[int]) -> list[Placement]:
    out = []
    for it, first, t in zip(items, firsts, count):
        pm = memories[it.pid]
        pop, batch = pm.population, pm.batch
        if pop.kind == "input":
            s = math.ceil(batch / t)
            t = math.ceil(batch / s)
            out.append(Placement(pop.id, "input", -1, ipu, first, t, pop.size, 0, 0, t, 0, s))
            continue
        q, r = split_neurons(pop.size, t)
        lists = min(batch, t) if pop.spikes else 0
        s = math.ceil(batch / lists) if lists else 0
        lists = math.ceil(batch / s) if s else 0
        offset = list_rot[0] % t
        list_rot[0] += lists
        out.append(Placement(pop.id, "neuron", stage[pop.id], ipu, first, t, pop.size, q, r, lists, offset, s))
    return out


def place_ipu(ipu: int, pids: Sequence[str], groups: Sequence[Sequence[str]], memories: dict[str, PopulationMemory],
              stage: dict[str, int], *, tiles: int, budget: int, workers: int, disjoint: bool,
              limits: dict[str, tuple[int, int | None]] | None = None, min_neurons: int = 1) -> list[Placement]:
    """Placements of one IPU's populations; `groups` are its input group and its stages, in order."""
    base = ipu * tiles
    list_rot = [0]
    out: list[Placement] = []
    rot = 0
    for group in ([list(pids)] if disjoint else groups):
        items = _items(group, memories, tiles, budget, workers, limits, min_neurons)
        count, offsets = _arrange(items, tiles)
        used = max(o + c for o, c in zip(offsets, count))
        start = 0 if disjoint else rot % (tiles - used + 1)
        rot += used
        firsts = [base + start + o for o in offsets]
        out += _placements(items, count, firsts, ipu, memories, stage, list_rot)
    return out


# --------------------------------------------------------------------------- bytes per tile


def tile_bytes(placements: Sequence[Placement], memories: dict[str, PopulationMemory], num_tiles: int) -> np.ndarray:
    """[num_tiles, NCAT] bytes per tile and category, vertex code and tile reserve included."""
    table = np.zeros((num_tiles, NCAT), dtype=np.int64)
    for p in placements:
        pm = memories[p.population]
        if p.kind == "neuron":
            table[p.first_tile : p.first_tile + p.num_tiles] += pm.slice_bytes(p.slice_sizes(), p.num_tiles)
            table[p.first_tile] += pm.readout_tile_bytes()
        if p.list_tiles:
            np.add.at(table, _list_tiles(p), pm.list_tile_bytes(p.list_samples(pm.batch)))
    table[:, CAT["code"]] += tile_code(placements, memories, table.sum(axis=1) > 0)
    return table


def population_bytes(p: Placement, pm: PopulationMemory) -> np.ndarray:
    """[NCAT] bytes of one population summed over its tiles: what tile_bytes adds for it, less
    the code and reserves of the tiles (tile_code), which populations on one tile share."""
    out = np.zeros(NCAT, dtype=np.int64)
    if p.kind == "neuron":
        out += pm.slice_bytes(p.slice_sizes(), p.num_tiles).sum(axis=0) + pm.readout_tile_bytes()
    if p.list_tiles:
        out += pm.list_tile_bytes(p.list_samples(pm.batch)).sum(axis=0)
    return out


def tile_code(placements: Sequence[Placement], memories: dict[str, PopulationMemory], used: np.ndarray) -> np.ndarray:
    """[num_tiles] bytes of vertex code (each vertex type once per tile it runs on) and of the
    tile reserve (per used tile)."""
    num_tiles = len(used)
    present: dict[str, np.ndarray] = {}

    def mark(vtype: str, tiles) -> None:
        present.setdefault(vtype, np.zeros(num_tiles, dtype=bool))[tiles] = True

    for p in placements:
        pm = memories[p.population]
        if p.kind == "neuron":
            for vtype in pm.slice_vertex_types():
                mark(vtype, slice(p.first_tile, p.first_tile + p.num_tiles))
        if p.list_tiles:
            for vtype in pm.list_vertex_types():
                mark(vtype, _list_tiles(p))
    code = np.zeros(num_tiles, dtype=np.int64)
    for vtype in sorted(present):
        code += present[vtype] * vertex_code(vtype)
    return code + used * k.TILE_RESERVE_BYTES


def _list_tiles(p: Placement) -> list[int]:
    return [p.list_tile(j) for j in range(p.list_tiles)]


__all__ = ["Infeasible", "assign_ipus", "place_ipu", "population_bytes", "tile_bytes", "tile_code", "topological_order",
           "traffic_graph"]
