"""The cost model: predicted cycles of one training step of the generated program.

The supersteps are the generated program's compute sets, in its order: the sequence comes
from snncc.vertices.steps, the same builders the lowering uses, so the two cannot drift
(see that module for the sequence).

Per superstep: the busiest tile's vertex cycles (per vertex kind a cycle estimate from the
listed input ids, the neurons on the tile and the workers, below), plus the largest
per-tile exchange volume over EXCHANGE_BYTES_PER_CYCLE (plus a setup), plus the IPU-Link
bytes over LINK_BYTES_PER_SECOND, plus one sync. The exchange volume of a tile is counted
as the host runtime counts it (docs/runtime.md): every element connected to a field of one
of its vertices that lives on another tile. The fields come from the vertex declarations
of snncc.vertices (the same the lowering instantiates): a "tile" slice is local by
construction, "whole" connects the whole tensor (minus the tile's own share), "elem0" one
element. So a Forward vertex receives the whole ring of each source's lists
[B][slots][C] every timestep, not only the samples or timesteps it reads. IPU-Link
bytes: each remote tensor crosses once per receiving IPU and superstep (an assumption:
the exchange delivers it to that IPU's tiles from one transfer). Lists are fixed-capacity
and counted full (the worst case). Host streams are left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import vertices as V
from . import constants as k
from .memory import PopulationMemory
from .plan import Cost, Placement, neurons_on_tile

# --------------------------------------------------------------------------- vertex cycles


def _ceil_div(a, b):
    return -(-np.asarray(a, dtype=np.float64) // b)


def forward_cycles(pm: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    """Forward vertex of slices of n neurons (0 for input populations): B n items (sample,
    neuron) round-robin over the workers, each summing the weight of every listed input id
    of every incoming projection, adding biases and updating the membrane."""
    n = np.asarray(n, dtype=np.float64)
    if pm.population.kind == "input":
        return np.zeros(len(n))
    per_item = k.NEURON_UPDATE_INSTRUCTIONS + sum(
        inc.source_capacity * k.FORWARD_ID_INSTRUCTIONS + (1 if inc.bias else 0) for inc in pm.incoming)
    return workers * _ceil_div(pm.batch * n, workers) * per_item + k.VERTEX_LAUNCH_CYCLES


def backward_cycles(pm: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    """Backward vertex: samples over workers; per sample and neuron the carried gradient,
    surrogate and reset; with a gradient threshold also a scan of the sample's list."""
    n = np.asarray(n, dtype=np.float64)
    if pm.population.kind == "input":
        return np.zeros(len(n))
    per_sample = n * k.SURROGATE_INSTRUCTIONS
    if pm.sparse_backward:
        per_sample = per_sample + pm.population.capacity * k.LIST_SCAN_INSTRUCTIONS
    return workers * _ceil_div(pm.batch, workers) * per_sample + k.VERTEX_LAUNCH_CYCLES


def weightgrad_cycles(pm: PopulationMemory, inc, n: np.ndarray, workers: int) -> np.ndarray:
    """WeightGrad vertex of one incoming projection: target neurons over workers, each adding
    dI into the rows of every listed source id of every sample (and the bias); then, for a
    neuron source, B G partial input gradients over workers, each a dot product of length n."""
    n = np.asarray(n, dtype=np.float64)
    per_neuron = pm.batch * (inc.source_capacity * k.WEIGHTGRAD_ID_INSTRUCTIONS + (1 if inc.bias else 0))
    cycles = workers * _ceil_div(n, workers) * per_neuron
    if inc.source_is_neuron:
        cycles = cycles + workers * math.ceil(pm.batch * inc.grad_slots / workers) * n * k.DOT_INSTRUCTIONS
    return cycles + k.VERTEX_LAUNCH_CYCLES


def reduce_cycles(src: PopulationMemory, n: np.ndarray, partial_tiles: int, workers: int) -> np.ndarray:
    """Reduce vertex on a source tile of n neurons: samples over workers; dense, per neuron
    the P target tiles' partials; sparse, a scan of the list and P adds for the ids on the
    tile (expected C n / N of them)."""
    n = np.asarray(n, dtype=np.float64)
    if src.sparse_backward:
        c = src.population.capacity
        per_sample = c * k.LIST_SCAN_INSTRUCTIONS + c * n / src.population.size * partial_tiles * k.REDUCE_INSTRUCTIONS
    else:
        per_sample = n * partial_tiles * k.REDUCE_INSTRUCTIONS
    return workers * _ceil_div(src.batch, workers) * per_sample + k.VERTEX_LAUNCH_CYCLES


def compact_cycles(pm: PopulationMemory, samples: np.ndarray, workers: int = 1) -> np.ndarray:
    """Compact vertex on a list tile of s samples: samples over workers, each scanning the
    population's membranes (twice with a gradient threshold) and writing up to C entries."""
    s = np.asarray(samples, dtype=np.float64)
    scans = 2 if pm.sparse_backward else 1
    per_sample = scans * pm.population.size * k.COMPACT_CODE_INSTRUCTIONS + pm.population.capacity * k.COMPACT_ENTRY_INSTRUCTIONS
    work = workers * _ceil_div(s, workers) * per_sample
    return np.where(s > 0, work + k.VERTEX_LAUNCH_CYCLES, 0.0)


def list_slot_cycles(pm: PopulationMemory, samples: np.ndarray, workers: int = 1) -> np.ndarray:
    """ListSlot vertex on a list tile of s samples: samples over workers, each copying one
    timestep's list (C ids and two counts) into its ring slot."""
    s = np.asarray(samples, dtype=np.float64)
    per_sample = (pm.population.capacity + 2) * k.COMPACT_ENTRY_INSTRUCTIONS
    work = workers * _ceil_div(s, workers) * per_sample
    return np.where(s > 0, work + k.VERTEX_LAUNCH_CYCLES, 0.0)


def optimizer_cycles(pm: PopulationMemory, n: np.ndarray, optimizer_instructions: float) -> np.ndarray:
    """Optimizer vertices (weights and bias) of a slice: values over workers, so about
    values x instructions cycles."""
    n = np.asarray(n, dtype=np.int64)
    if pm.population.kind == "input":
        return np.zeros(len(n))
    values = np.zeros(len(n), dtype=np.float64)
    launches = 0
    for inc in pm.incoming:
        values += inc.stored(n) + (n if inc.bias else 0)
        launches += 2 if inc.bias else 1
    return values * optimizer_instructions + launches * k.VERTEX_LAUNCH_CYCLES


def loss_cycles(pm: PopulationMemory, workers: int) -> float:
    """The Loss vertex (one worker): the readout's T values per sample and class, then the loss."""
    classes = pm.population.size
    instructions = pm.batch * classes * (pm.timesteps * k.LOSS_VALUE_INSTRUCTIONS + k.LOSS_CLASS_INSTRUCTIONS)
    return workers * instructions + k.VERTEX_LAUNCH_CYCLES


def step_cycles_per_timestep(pm: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    """Forward, backward and weight-gradient compute of a slice per timestep: what the
    partitioner balances (the reductions run on the sources' tiles)."""
    out = forward_cycles(pm, n, workers) + backward_cycles(pm, n, workers)
    if pm.population.kind != "input":
        for inc in pm.incoming:
            out = out + weightgrad_cycles(pm, inc, n, workers)
    return out


# --------------------------------------------------------------------------- the program's supersteps


class _Superstep:
    """Per-tile compute cycles and exchanged bytes of one superstep, plus its link bytes."""

    __slots__ = ("compute", "received", "link_bytes", "lo", "hi")

    def __init__(self, num_tiles: int):
        self.compute = np.zeros(num_tiles)
        self.received = np.zeros(num_tiles)
        self.link_bytes = 0.0
        self.lo, self.hi = num_tiles, 0  # the tiles touched: [lo, hi)

    def touch(self, tiles: np.ndarray) -> None:
        """Widen the window to `tiles` (sorted)."""
        if len(tiles):
            self.lo, self.hi = min(self.lo, int(tiles[0])), max(self.hi, int(tiles[-1]) + 1)


class _Tensors:
    """Where the program's tensors live: total bytes and a tile's (or an IPU's) share."""

    def __init__(self, place, memories, projections, readout, tiles_per_ipu):
        self.place, self.memories, self.proj, self.readout = place, memories, projections, readout
        self.readout_tile = place[readout].first_tile if readout else 0
        self.tiles_per_ipu = tiles_per_ipu
        self._decls: dict = {}
        self._pop_decls: dict = {}
        self.remote: dict = {}  # (owner, what, slice, tile set) -> (bytes per tile, {ipu: link bytes})

    def _elem(self, d: V.TensorDecl, pm: PopulationMemory) -> int:
        return pm.element if d.dtype == "float" else V.ELEMENT_BYTES

    def decl(self, owner: tuple[str, str], what: str):
        """(TensorDecl, layout owner population, its PopulationMemory) of a population's, a
        projection's or a global tensor."""
        key = (owner, what)
        hit = self._decls.get(key)
        if hit is None:
            hit = self._decls[key] = self._decl(owner, what)
        return hit

    def _decl(self, owner: tuple[str, str], what: str):
        kind, name = owner
        if kind == "pop":
            pm = self.memories[name]
            if name not in self._pop_decls:
                self._pop_decls[name] = {d.what: d for d in pm.tensors}
            return self._pop_decls[name][what], name, pm
        if kind == "proj":
            inc, target = self.proj[name]
            pm = self.memories[target]
            i = next(i for i, v in enumerate(pm.projections) if v.id == name)
            decls = pm.projection_tensors[i]
            return next(d for d in decls if d.what == what), target, pm
        pm = self.memories[self.readout]
        decoding, _, classes = pm.readout
        return next(d for d in V.global_tensors(classes, pm.batch, decoding) if d.what == what), self.readout, pm

    def total(self, d, owner, pm) -> float:
        p = self.place[owner]
        per = {"neuron": p.size, "list": pm.batch, "partials": p.num_tiles, "single": 1}[d.layout]
        return float(d.rows * per * self._elem(d, pm))

    def share(self, d, owner, pm, tiles: np.ndarray):
        """Bytes of the tensor on each of `tiles` (sorted), or 0.0 when it has none there."""
        p = self.place[owner]
        e = self._elem(d, pm)
        if d.layout == "single":
            if not (tiles[0] <= self.readout_tile <= tiles[-1]):
                return 0.0
            return np.where(tiles == self.readout_tile, float(d.rows * e), 0.0)
        if tiles[-1] < p.first_tile or tiles[0] >= p.first_tile + p.num_tiles:
            return 0.0
        j = tiles - p.first_tile
        inside = (j >= 0) & (j < p.num_tiles)
        if d.layout == "partials":
            return np.where(inside, float(d.rows * e), 0.0)
        if d.layout == "neuron":
            n = neurons_on_tile(j, p.neurons_per_tile, p.remainder)
            return np.where(inside, d.rows * n * e, 0.0).astype(np.float64)
        lj = (j - p.list_offset) % max(p.num_tiles, 1)
        s = p.samples_per_list_tile
        samples = np.clip(pm.batch - lj * s, 0, s)
        return np.where(inside & (lj < p.list_tiles), d.rows * samples * e, 0.0).astype(np.float64)

    def ipu_share(self, d, owner, pm, ipu: int) -> float:
        """Bytes of the tensor on one IPU: all or nothing, since a population's tiles (and so
        its tensors' tiles) lie on one IPU and the globals on the readout's first tile."""
        tile = self.readout_tile if d.layout == "single" else self.place[owner].first_tile
        return self.total(d, owner, pm) if tile // self.tiles_per_ipu == ipu else 0.0


def _owner(role: str, index: int, element: tuple[str, str], tensors: _Tensors) -> tuple[str, str]:
    kind, name = element
    if role == "global":
        return ("global", "")
    if role == "self":
        return element
    if kind == "proj":
        inc, target = tensors.proj[name]
        return ("pop", inc.source if role == "source" else target)
    inc = tensors.memories[name].incoming[index]
    return ("proj", inc.projection) if role == "in" else ("pop", inc.source)


def _exchange(step: _Superstep, decls: Sequence[V.VertexDecl], element: tuple[str, str], tiles: np.ndarray,
              tensors: _Tensors, links: set, tile_set, index: slice | None = None) -> None:
    """Add the bytes the vertices `decls` on `tiles` connect to on other tiles (and on other
    IPUs). `tile_set` names `tiles` for the cache; `index`, if given, is `tiles` as a slice."""
    where = tiles if index is None else index
    for decl in decls:
        for f in decl.remote_fields:
            owner = _owner(f.role, f.index, element, tensors)
            key = (owner, f.what, f.slice, tile_set)
            hit = tensors.remote.get(key)
            if hit is None:
                hit = tensors.remote[key] = _remote(tensors, owner, f, tiles)
            remote, per_ipu = hit
            step.received[where] += remote
            for ipu, nbytes in per_ipu.items():
                if (owner, f.what, ipu) not in links:
                    links.add((owner, f.what, ipu))
                    step.link_bytes += nbytes


def _remote(tensors: _Tensors, owner, f, tiles: np.ndarray):
    """(bytes each of `tiles` connects to elsewhere, {ipu: bytes crossing into it}). Every
    population's tiles, list tiles included, lie on one IPU (the Plan's invariant)."""
    d, lay, pm = tensors.decl(owner, f.what)
    local = tensors.share(d, lay, pm, tiles)
    if f.slice == "elem0":
        full = float(tensors._elem(d, pm))
        remote = np.where(local > 0, 0.0, full) if isinstance(local, np.ndarray) else full
    else:
        full = tensors.total(d, lay, pm)
        remote = full - local
    ipu = int(tiles[0]) // tensors.tiles_per_ipu
    here = tensors.ipu_share(d, lay, pm, ipu)
    nbytes = (0.0 if here else full) if f.slice == "elem0" else full - here
    return remote, ({ipu: nbytes} if nbytes else {})


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
    per_compute_set: dict[str, dict[str, float]] | None = None,
) -> Cost:
    """Predict one training step of a placed model (see the module docstring). If given,
    `per_compute_set` is filled with, per compute set name, one execution's exchanged bytes
    summed over tiles ("exchange_bytes", what the host runtime's report calls exchangeBytes),
    the busiest tile's received bytes and compute cycles, and the executions per step.
    `outgoing` is unused (the projections come from the memories); kept for the caller."""
    place = {p.population: p for p in placements}
    tiles_per_ipu = num_tiles // max(num_ipus, 1)
    readout = next((pid for pid, pm in memories.items() if pm.readout is not None), None)
    projections = {inc.projection: (inc, pid) for pid, pm in memories.items() for inc in pm.incoming}
    tensors = _Tensors(place, memories, projections, readout, tiles_per_ipu)
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

    def superstep(cs) -> _Superstep:
        step = _Superstep(num_tiles)
        links: set = set()
        fam = cs.vertex
        if fam in ("Tick", "Loss"):
            step.touch(single)
        if fam == "Tick":
            step.compute[readout_tile] += k.VERTEX_LAUNCH_CYCLES
            _exchange(step, [V.tick_vertex("+1")], ("global", ""), single, tensors, links, ("single",))
        elif fam == "Loss":
            step.compute[readout_tile] += loss_cycles(readout_pm, workers)
            _exchange(step, [V.loss_vertex(decoding, loss_kind)], ("pop", readout), single, tensors, links, ("single",))
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
                _exchange(step, [decl], ("pop", member), tiles, tensors, links, (fam in ("Compact", "ListSlot"), member),
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
                elif fam == "Reduce":
                    src, sp = memories[inc.source], place[inc.source]
                    tiles, index = tiles_of(sp), range_of(sp)
                    step.compute[index] += reduce_cycles(src, sp.slice_sizes(), p.num_tiles, workers)
                    decls = [V.reduce_vertex(src.sparse_backward)]
                    tile_set = (False, inc.source)
                else:  # Optimizer: handled per population below
                    continue
                step.touch(tiles)
                _exchange(step, decls, ("proj", member), tiles, tensors, links, tile_set, index)
        if fam == "Optimizer":
            for pid, pm in memories.items():
                if pm.population.kind == "input" or not pm.incoming:
                    continue
                p = place[pid]
                tiles, index = tiles_of(p), range_of(p)
                step.touch(tiles)
                step.compute[index] += optimizer_cycles(pm, p.slice_sizes(), optimizer_instructions)
                for pr, decls in zip(pm.projections, pm.optimizer_decls):
                    _exchange(step, decls, ("proj", pr.id), tiles, tensors, links, (False, pid), index)
        return step

    def close(step: _Superstep, repeat: int) -> float:
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
        return repeat * (compute + exchange + link + sync)

    def run(cs, repeat: int) -> float:
        step = superstep(cs)
        if per_compute_set is not None:
            per_compute_set[cs.name] = {
                "exchange_bytes": float(step.received.sum()), "max_tile_bytes": float(step.received.max()),
                "compute_cycles": float(step.compute.max()), "link_bytes": step.link_bytes, "executions": repeat}
        return close(step, repeat)

    forward = sum(run(cs, timesteps) for cs in forward_sets)
    backward = sum(run(cs, timesteps) for cs in backward_sets)
    loss = run(V.loss_step(readout), 1) if readout else 0.0
    optimizer = run(V.update_step(proj_facts), 1)
    n_supersteps = timesteps * (len(forward_sets) + len(backward_sets)) + (1 if readout else 0) + 1

    forward += loss
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


def compute_set_costs(ir, plan) -> dict[str, dict[str, float]]:
    """Per compute set of the generated program, the model's figures for a planned model (see
    `estimate`'s per_compute_set), e.g. to compare with the host runtime's report. The
    arguments are those snncc.partition.make_plan passes (`_cost`)."""
    from .memory import batch_per_replica, population_memory

    s, t = ir.settings, ir.settings.target
    opt = s.optimizer
    if opt.kind == "adam":
        instructions = k.ADAM_INSTRUCTIONS
    else:
        instructions = k.SGD_MOMENTUM_INSTRUCTIONS if opt.momentum > 0 else k.SGD_INSTRUCTIONS
    out: dict[str, dict[str, float]] = {}
    estimate(
        list(plan.placements), {p.id: population_memory(ir, p) for p in ir.populations}, ir.stages,
        num_tiles=t.num_ipus * t.tiles_per_ipu, num_ipus=t.num_ipus, workers=t.workers_per_tile,
        clock_hz=t.clock_hz, timesteps=s.timesteps, batch=batch_per_replica(ir), samples_per_step=s.batch_size,
        optimizer_instructions=instructions,
        outgoing={p.id: [q.target for q in ir.outgoing(p.id)] for p in ir.populations},
        per_compute_set=out,
    )
    return out
