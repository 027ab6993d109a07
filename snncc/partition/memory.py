"""The per-tile memory model: bytes a training step keeps on a tile, by category.

What the generated program stores, per population slice of n neurons on a tile (B is the
batch per replica, T the timesteps, e the element size of the precision):

- weights: the incoming weights of every projection into the slice, stored [in, out]
  (one input id selects one contiguous row of n values); sparse projections store CSR
  rows (values, a column index each, one row offset per source neuron); biases (n per
  biased projection). Scalar neuron parameters (beta, alpha, theta, gradient threshold)
  live in vertex state.
- gradients: one accumulator per weight value and bias; no per-worker copies, because the
  workers split a row's columns, so no two workers write one accumulator. Plus the
  backward state: dL/dS arriving for the slice and the carried dL/d(state) (B n (k+1) e,
  k = state variables).
- optimizer: Adam two copies of every trainable value, SGD with momentum one, plain SGD none.
- state: the carried state variables (B n k e) and this step's spike codes, one byte per
  neuron and sample (0 nothing, 1 surrogate-gradient mark, 2 spike), rows padded to 4 B.
- history (BPTT): the membrane of every neuron of the slice for every timestep and sample
  (T B n e) and the spike codes (T B pad4(n)). Stored, not recomputed: the membrane cannot
  be recomputed backwards (beta may be 0), and the reset R[t] and the gradient marks
  follow from it and the codes. Input currents are not stored: the backward pass re-reads
  the input lists. The spike-id lists of every timestep are stored once, on the
  population's list tiles (below), not on every target tile.
- spike_lists: one timestep's incoming id list per incoming projection (B (C 4 + 8)), the
  same buffer reused in the backward pass.
- reduction: the partial input-spike gradients of every incoming projection from a neuron
  population, and the receive buffers of the reduction tree (REDUCTION_FANIN B C e), plus,
  per outgoing projection, the reduced dL/dS of this population's listed ids with the ids
  (B (C (e + 4) + 8)).
- vertices: the code of each vertex type present on the tile (once per tile), vertex state
  per instance, exchange code per transfer, and TILE_RESERVE_BYTES per used tile.

List tiles. Each spiking population has list tiles inside its own tile range; list tile j
holds samples [j s, (j + 1) s). After the update superstep it receives those samples'
spike codes (s pad4(N) bytes, category spike_lists) and writes their id lists, spikes
first then gradient ids, with two counts, into the list history (T s (C 4 + 8), category
history). An input population's lists are streamed from the host straight into that
history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..ir import ModelGraph, Population
from ..spec import models as m
from . import constants as k

CATEGORIES: tuple[str, ...] = (
    "weights", "gradients", "optimizer", "state", "history", "spike_lists", "reduction", "vertices",
)
CAT = {name: i for i, name in enumerate(CATEGORIES)}
NCAT = len(CATEGORIES)


def pad4(n: np.ndarray | int) -> np.ndarray | int:
    """Bytes of a row of n one-byte spike codes, padded to whole 32-bit words."""
    return (n + 3) // 4 * 4


@dataclass(frozen=True)
class Incoming:
    """What a slice needs to know of one incoming projection."""

    projection: str
    source: str
    source_size: int
    source_capacity: int
    source_is_neuron: bool  # partial input gradients go back only to neuron populations
    sparse: bool
    fan_in: int | None  # exact fan-in of a fan_in mask
    probability: float | None  # of a probability mask
    bias: bool

    def stored(self, n: np.ndarray) -> np.ndarray:
        """Weights stored for a slice of n target neurons (a bound for probability masks)."""
        if not self.sparse:
            return self.source_size * n
        if self.fan_in is not None:
            return self.fan_in * n
        p = self.probability
        mean = p * self.source_size * n
        bound = np.ceil(mean + k.SPARSE_SIGMAS * np.sqrt(mean * (1.0 - p)))
        return np.minimum(bound.astype(np.int64), self.source_size * n)


@dataclass(frozen=True)
class PopulationMemory:
    """The memory model of one population: bytes per tile as a function of the slice."""

    population: Population
    incoming: tuple[Incoming, ...]
    outgoing: int  # projections out of this population (each sends dL/dS back to it)
    batch: int  # per replica
    timesteps: int
    element: int  # bytes per value
    optimizer_copies: int

    @property
    def state_vars(self) -> int:
        return len(self.population.state_vars)

    @property
    def list_bytes(self) -> int:
        """One sample's spike-id list with its two counts."""
        return self.population.capacity * k.ID_BYTES + k.COUNTS_BYTES

    def slice_bytes(self, n: np.ndarray) -> np.ndarray:
        """[len(n), NCAT] bytes of neuron slices of n neurons (vertex code excluded)."""
        n = np.asarray(n, dtype=np.int64)
        out = np.zeros((len(n), NCAT), dtype=np.int64)
        if self.population.kind == "input":
            return out
        e, b, t, sv = self.element, self.batch, self.timesteps, self.state_vars
        values = np.zeros_like(n)
        weights = np.zeros_like(n)
        lists = reduction = transfers = 0
        for inc in self.incoming:
            stored = inc.stored(n)
            bias = n if inc.bias else 0
            values = values + stored + bias
            weights = weights + (stored + bias) * e
            if inc.sparse:
                weights = weights + stored * k.INDEX_BYTES + (inc.source_size + 1) * k.INDEX_BYTES
            lists += b * (inc.source_capacity * k.ID_BYTES + k.COUNTS_BYTES)
            transfers += 1
            if inc.source_is_neuron:
                reduction += k.REDUCTION_FANIN * b * inc.source_capacity * e
                transfers += k.REDUCTION_FANIN
        reduction += self.outgoing * b * (self.population.capacity * (e + k.ID_BYTES) + k.COUNTS_BYTES)
        transfers += self.outgoing
        out[:, CAT["weights"]] = weights
        out[:, CAT["gradients"]] = values * e + b * n * (sv + 1) * e
        out[:, CAT["optimizer"]] = values * e * self.optimizer_copies
        out[:, CAT["state"]] = b * n * sv * e + b * pad4(n)
        out[:, CAT["history"]] = t * b * n * e + t * b * pad4(n)
        out[:, CAT["spike_lists"]] = lists
        out[:, CAT["reduction"]] = reduction
        out[:, CAT["vertices"]] = self._instance_state() + transfers * k.EXCHANGE_CODE_BYTES
        return out

    def _instance_state(self) -> int:
        r = k.VERTEX_RESERVES
        total = r["NeuronForward"].state + r["NeuronBackward"].state + r["Optimizer"].state
        for inc in self.incoming:
            total += r["RowAccumulate"].state + r["WeightGradient"].state
            if inc.source_is_neuron:
                total += r["InputGradientReduce"].state
        return total

    def list_tile_bytes(self, samples: np.ndarray) -> np.ndarray:
        """[len(samples), NCAT] bytes a list tile holding `samples` samples needs."""
        s = np.asarray(samples, dtype=np.int64)
        out = np.zeros((len(s), NCAT), dtype=np.int64)
        if not self.population.spikes:
            return out
        out[:, CAT["history"]] = self.timesteps * s * self.list_bytes
        if self.population.kind == "neuron":
            out[:, CAT["spike_lists"]] = s * pad4(self.population.size)
            out[:, CAT["vertices"]] = k.VERTEX_RESERVES["SpikeListCompact"].state + k.EXCHANGE_CODE_BYTES
        return out

    def slice_vertex_types(self) -> tuple[str, ...]:
        """Vertex types (with template arguments) every neuron slice of this population uses."""
        if self.population.kind == "input":
            return ()
        model = self.population.model
        types = {f"NeuronForward<{model}>", f"NeuronBackward<{model}>", "Optimizer"}
        for inc in self.incoming:
            kind = "sparse" if inc.sparse else "dense"
            types |= {f"RowAccumulate<{kind}>", f"WeightGradient<{kind}>"}
            if inc.source_is_neuron:
                types.add("InputGradientReduce")
        return tuple(sorted(types))

    def list_vertex_types(self) -> tuple[str, ...]:
        return ("SpikeListCompact",) if self.population.kind == "neuron" and self.population.spikes else ()


def vertex_code(vertex_type: str) -> int:
    """Code bytes of a vertex type ("Name<args>" counts as Name's figure)."""
    return k.VERTEX_RESERVES[vertex_type.split("<", 1)[0]].code


def optimizer_copies(optimizer: m.Optimizer) -> int:
    if isinstance(optimizer, m.Adam):
        return 2
    return 1 if optimizer.momentum > 0 else 0


def batch_per_replica(ir: ModelGraph) -> int:
    s = ir.settings
    return math.ceil(s.batch_size / s.target.replication_factor)


def population_memory(ir: ModelGraph, pop: Population) -> PopulationMemory:
    incoming = []
    for proj in ir.incoming(pop.id):
        src = ir.population(proj.source)
        sparse = proj.connectivity == "sparse"
        fan_in = int(proj.fan_in) if sparse and proj.probability is None else None
        incoming.append(Incoming(
            projection=proj.id,
            source=src.id,
            source_size=src.size,
            source_capacity=src.capacity,
            source_is_neuron=src.kind == "neuron",
            sparse=sparse,
            fan_in=fan_in,
            probability=proj.probability if sparse else None,
            bias=proj.bias,
        ))
    s = ir.settings
    return PopulationMemory(
        population=pop,
        incoming=tuple(incoming),
        outgoing=len(ir.outgoing(pop.id)) if pop.kind == "neuron" else 0,
        batch=batch_per_replica(ir),
        timesteps=s.timesteps,
        element=s.element_bytes,
        optimizer_copies=optimizer_copies(s.optimizer),
    )


# --------------------------------------------------------------------------- the hook for code generation


@dataclass(frozen=True)
class AllocationCheck:
    """The memory model against the bytes a generated program really allocates, per tile."""

    tiles: tuple[int, ...]
    predicted: tuple[int, ...]
    measured: tuple[int, ...]
    tolerance: float

    @property
    def relative_errors(self) -> tuple[float, ...]:
        return tuple(abs(p - q) / max(q, 1) for p, q in zip(self.predicted, self.measured))

    @property
    def max_relative_error(self) -> float:
        return max(self.relative_errors, default=0.0)

    @property
    def worst_tile(self) -> int | None:
        errs = self.relative_errors
        return self.tiles[errs.index(max(errs))] if errs else None

    @property
    def ok(self) -> bool:
        return self.max_relative_error <= self.tolerance

    def describe(self) -> str:
        if not self.tiles:
            return "no tiles to compare"
        t = self.worst_tile
        i = self.tiles.index(t)
        return (
            f"{len(self.tiles)} tiles compared; largest relative error {self.max_relative_error:.2%} on tile {t} "
            f"(model {self.predicted[i]} B, measured {self.measured[i]} B); tolerance {self.tolerance:.0%}"
        )


def check_allocation(plan, measured: Mapping[int, int], tolerance: float = 0.05,
                     categories: tuple[str, ...] | None = None) -> AllocationCheck:
    """Compare measured bytes per tile (tile id -> bytes) with the plan's memory model.

    `categories` restricts the prediction to the categories the measurement covers (for
    example everything but "vertices" when only tensor allocations are counted). A tile
    the plan uses but the measurement lacks counts as 0 measured bytes; so does the reverse.
    """
    cats = categories or CATEGORIES
    unknown = sorted(set(cats) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"unknown memory categories {unknown}; known: {list(CATEGORIES)}")
    idx = [CAT[c] for c in cats]
    table = plan.tile_memory.bytes
    tiles = sorted(set(plan.tile_memory.used_tiles()) | {int(t) for t in measured})
    predicted = tuple(int(table[t, idx].sum()) if t < len(table) else 0 for t in tiles)
    got = tuple(int(measured.get(t, 0)) for t in tiles)
    return AllocationCheck(tuple(tiles), predicted, got, tolerance)
