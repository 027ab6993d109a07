"""The per-tile memory model: bytes a training step keeps on a tile, by category.

It sums the tensor and vertex declarations of snncc.vertices, the same the lowering
allocates, per population slice of n neurons and per list tile of s samples (B the batch
per replica, T the timesteps, e the element size (snncc.vertices.DTYPE_BYTES); docs/plan.md
tabulates every term):

- weights: the incoming weights [in][n] of every projection into the slice (sparse: CSR
  values, a column index each and one row offset per source neuron) and biases.
- gradients: dw and db like the weights; the dL/dS ring, the carried gradients and dI.
- optimizer: the optimizer's state copies of weights and biases (snncc.vertices.state_copies).
- state: the per-neuron parameters; on the readout's first tile the global tensors and the
  control program's constants.
- history (BPTT): the membrane (and synaptic current) of every timestep, (T + 1) B n e; on
  the list tiles the spike-id lists of every timestep with their counts and overflow flags.
- spike_lists: what consumers connect to: the ring of the last timesteps' lists on the list
  tiles, and the current membranes that Compact reads on a spiking population's tiles.
- reduction: per incoming projection from a neuron population, the partial input gradients
  B G e on each target tile, and their sums over the target tiles in chunks of
  ceil(B G / P) e per target tile (P the target's tiles).
- vertices: the state of every vertex instance (4 bytes per field, 8 per SPAN vector).
- receive: the receive buffers, the peak over compute sets of the bytes the tile's vertices
  connect to on other tiles (one buffer per edge). They depend on where everything else lives,
  so the plan fills them in after placement from the cost model's supersteps
  (snncc.partition.cost.receive_peaks); slice_bytes and list_tile_bytes leave them 0.
- code (not measured by the runtime): vertex code per type present on a tile, exchange code
  per transfer, TILE_RESERVE_BYTES per used tile (estimates).

List tiles: each spiking population has list tiles inside its own tile range; list tile j
holds samples [j s, (j + 1) s). Compact writes those samples' lists into the list history
(an input population's lists are streamed from the host into it) and ListSlot copies one
timestep of it into the ring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..ir import ModelGraph, Population
from .. import vertices as V
from . import constants as k

CATEGORIES: tuple[str, ...] = (
    "weights", "gradients", "optimizer", "state", "history", "spike_lists", "reduction", "vertices", "receive", "code",
)
CAT = {name: i for i, name in enumerate(CATEGORIES)}
NCAT = len(CATEGORIES)
#: what the host runtime's memory report measures: every category but code (docs/runtime.md)
MEASURED_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if c != "code")


@dataclass(frozen=True)
class Incoming:
    """What the memory and cost models need of one incoming projection beyond its record:
    the source's list capacity and the connectivity."""

    facts: V.ProjectionFacts
    source_capacity: int
    sparse: bool
    fan_in: int | None  # exact fan-in of a fan_in mask
    probability: float | None  # of a probability mask

    def stored(self, n: np.ndarray) -> np.ndarray:
        """Weights stored for a slice of n target neurons (a bound for probability masks)."""
        rows = self.facts.n_in
        if not self.sparse:
            return rows * n
        if self.fan_in is not None:
            return self.fan_in * n
        p = self.probability
        mean = p * rows * n
        bound = np.ceil(mean + k.SPARSE_SIGMAS * np.sqrt(mean * (1.0 - p)))
        return np.minimum(bound.astype(np.int64), rows * n)


@dataclass(frozen=True)
class PopulationMemory:
    """The memory model of one population: bytes per tile as a function of the slice.

    Sums the declarations of snncc.vertices (the same the lowering allocates)."""

    population: Population
    incoming: tuple[Incoming, ...]
    outgoing: int  # projections out of this population (each sends dL/dS back to it)
    batch: int  # per replica
    timesteps: int
    facts: V.PopulationFacts  # what the declarations read of the population
    state_copies: tuple[str, ...] = ()
    optimizer_family: str = "AdamUpdate"
    reduces: int = 0  # outgoing projections whose input gradient this population's tiles reduce
    readout: tuple[str, str, int] | None = None  # (decoding, loss kind, classes) of the readout population

    @property
    def list_bytes(self) -> int:
        """One sample's spike-id list with its two counts."""
        return self.population.capacity * k.ID_BYTES + k.COUNTS_BYTES

    @property
    def sparse_backward(self) -> bool:
        return self.facts.sparse_backward

    @property
    def projections(self) -> tuple[V.ProjectionFacts, ...]:
        """The records of the incoming projections, in order."""
        return self._projections

    @cached_property
    def _projections(self) -> tuple[V.ProjectionFacts, ...]:
        return tuple(inc.facts for inc in self.incoming)

    # The declarations of the population and its incoming projections, built once: the memory
    # model and the cost model read them for every slice size and superstep.

    @cached_property
    def tensors(self) -> tuple[V.TensorDecl, ...]:
        return V.population_tensors(self.facts, self.timesteps, self.batch)

    @cached_property
    def forward_decl(self) -> V.VertexDecl:
        return V.forward_vertex(self.facts, self.projections)

    @cached_property
    def backward_decl(self) -> V.VertexDecl:
        return V.backward_vertex(self.facts, self.readout[0] if self.readout else "")

    @cached_property
    def compact_decl(self) -> V.VertexDecl:
        return V.compact_vertex(self.facts)

    @cached_property
    def projection_tensors(self) -> tuple[tuple[V.TensorDecl, ...], ...]:
        """Per incoming projection, in order."""
        return tuple(V.projection_tensors(pr, self.batch, self.state_copies) for pr in self.projections)

    @cached_property
    def weightgrad_decls(self) -> tuple[V.VertexDecl, ...]:
        return tuple(V.weightgrad_vertex(pr) for pr in self.projections)

    @cached_property
    def optimizer_decls(self) -> tuple[tuple[V.VertexDecl, ...], ...]:
        return tuple(V.optimizer_vertices(pr.bias, self.optimizer_family, self.state_copies)
                     for pr in self.projections)

    def _bytes(self, d: V.TensorDecl) -> int:
        return V.DTYPE_BYTES[d.dtype]

    @cached_property
    def _slice_terms(self) -> tuple[np.ndarray, np.ndarray, tuple[tuple[int, Incoming, int], ...],
                                    tuple[tuple[int, int, int], ...]]:
        """slice_bytes(n) = constant + n x per_neuron + the sparse rows' stored(n) x multiplier, per
        category: the declarations summed once per population, not once per call."""
        constant = np.zeros(NCAT, dtype=np.int64)
        per_neuron = np.zeros(NCAT, dtype=np.int64)
        sparse: list[tuple[int, Incoming, int]] = []
        chunked: list[tuple[int, int, int]] = []  # (category, entries, bytes per entry): chunks tensors
        decls = [d for d in self.tensors if d.layout == "neuron"]
        vertex_state = self.forward_decl.state_bytes + self.backward_decl.state_bytes
        transfers = 0
        for inc, pr, tensors, weightgrad, optimizer in zip(self.incoming, self.projections,
                                                          self.projection_tensors, self.weightgrad_decls,
                                                          self.optimizer_decls):
            for d in tensors:
                if d.layout == "partials":
                    constant[CAT[d.category]] += d.rows * self._bytes(d)
                elif d.layout == "chunks":
                    chunked.append((CAT[d.category], d.rows, self._bytes(d)))
                elif inc.sparse and d.rows == pr.n_in:  # sparse rows: CSR values, indices and offsets
                    if d.what == "w":
                        sparse.append((CAT[d.category], inc, self._bytes(d) + k.INDEX_BYTES))
                        constant[CAT[d.category]] += (pr.n_in + 1) * k.INDEX_BYTES
                    else:
                        sparse.append((CAT[d.category], inc, self._bytes(d)))
                else:
                    decls.append(d)
            vertex_state += weightgrad.state_bytes
            vertex_state += sum(v.state_bytes for v in optimizer)
            transfers += 1 + (k.INPUT_GRADIENT_TRANSFERS if pr.input_gradient else 0)
            if pr.input_gradient:  # the first level of its input-gradient reduction, on this target tile
                vertex_state += V.reduce_sum_vertex().state_bytes
        for d in decls:
            per_neuron[CAT[d.category]] += d.rows * self._bytes(d)
        if self.reduces:
            reduce = V.reduce_vertex(self.sparse_backward)
            vertex_state += self.reduces * reduce.state_bytes
        transfers += self.outgoing
        constant[CAT["vertices"]] += vertex_state
        constant[CAT["code"]] += transfers * k.EXCHANGE_CODE_BYTES
        return constant, per_neuron, tuple(sparse), tuple(chunked)

    def slice_bytes(self, n: np.ndarray, tiles: int | np.ndarray | None = None) -> np.ndarray:
        """[len(n), NCAT] bytes of neuron slices of n neurons (vertex code excluded), of a population
        on `tiles` tiles (a chunks tensor's share depends on it; default: the tiles whose slices
        hold n neurons, ceil(size / n))."""
        n = np.asarray(n, dtype=np.int64)
        if self.population.kind == "input":
            return np.zeros((len(n), NCAT), dtype=np.int64)
        constant, per_neuron, sparse, chunked = self._slice_terms
        out = constant[None, :] + n[:, None] * per_neuron[None, :]
        for category, inc, multiplier in sparse:
            out[:, category] += inc.stored(n) * multiplier
        if chunked:
            P = -(-self.population.size // np.maximum(n, 1)) if tiles is None else np.asarray(tiles, dtype=np.int64)
            for category, entries, nbytes in chunked:
                out[:, category] += -(-entries // np.maximum(P, 1)) * nbytes
        return out

    @cached_property
    def _list_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """list_tile_bytes(s) = s x per_sample + (s > 0) x per_list_tile, per category."""
        per_sample = np.zeros(NCAT, dtype=np.int64)
        per_tile = np.zeros(NCAT, dtype=np.int64)
        for d in self.tensors:
            if d.layout == "list":
                per_sample[CAT[d.category]] += d.rows * self._bytes(d)
        # ListSlot: the backward restore of every spiking population, the forward copy of an input's lists
        per_tile[CAT["vertices"]] += V.list_slot_vertex(True).state_bytes
        if self.population.kind == "neuron":
            per_tile[CAT["vertices"]] += self.compact_decl.state_bytes
            per_tile[CAT["code"]] += k.EXCHANGE_CODE_BYTES
        else:
            per_tile[CAT["vertices"]] += V.list_slot_vertex(False).state_bytes
        return per_sample, per_tile

    def list_tile_bytes(self, samples: np.ndarray) -> np.ndarray:
        """[len(samples), NCAT] bytes a list tile holding `samples` samples needs."""
        s = np.asarray(samples, dtype=np.int64)
        if not self.population.spikes:
            return np.zeros((len(s), NCAT), dtype=np.int64)
        per_sample, per_tile = self._list_terms
        return s[:, None] * per_sample[None, :] + (s > 0).astype(np.int64)[:, None] * per_tile[None, :]

    def readout_tile_bytes(self) -> np.ndarray:
        """[NCAT] bytes on the readout's first tile: timestep counter, loss tensors, the loss and tick
        vertices and the control program's constants. Zero for other populations."""
        out = np.zeros(NCAT, dtype=np.int64)
        if self.readout is None:
            return out
        decoding, loss_kind, classes = self.readout
        for d in V.global_tensors(classes, self.batch, decoding):
            out[CAT[d.category]] += d.rows * self._bytes(d)
        out[CAT["state"]] += V.CONSTANT_BYTES
        out[CAT["vertices"]] += V.loss_vertex(decoding, loss_kind).state_bytes + 2 * V.tick_vertex("+1").state_bytes
        return out

    def slice_vertex_types(self) -> tuple[str, ...]:
        """Vertex types (with template arguments) every neuron slice of this population uses."""
        if self.population.kind == "input":
            return ()
        model = self.population.model
        types = {f"Forward<{model}>", f"Backward<{model}>", "Optimizer"}
        for inc in self.incoming:
            kind = "sparse" if inc.sparse else "dense"
            types |= {f"ForwardRows<{kind}>", f"WeightGrad<{kind}>"}
            if inc.facts.input_gradient:
                types |= {"ReduceSum", "Reduce"}
        return tuple(sorted(types))

    def list_vertex_types(self) -> tuple[str, ...]:
        return ("Compact",) if self.population.kind == "neuron" and self.population.spikes else ()


def vertex_code(vertex_type: str) -> int:
    """Code bytes of a vertex type ("Name<args>" counts as Name's figure)."""
    return k.VERTEX_CODE_BYTES[vertex_type.split("<", 1)[0]]


def batch_per_replica(ir: ModelGraph) -> int:
    s = ir.settings
    return math.ceil(s.batch_size / s.target.replication_factor)


def population_memory(ir: ModelGraph, pop: Population) -> PopulationMemory:
    facts = V.population_facts(ir, pop)
    incoming = []
    for proj in ir.incoming(pop.id):
        sparse = proj.connectivity == "sparse"
        incoming.append(Incoming(
            facts=V.projection_facts(ir, proj),
            source_capacity=ir.population(proj.source).capacity,
            sparse=sparse,
            fan_in=int(proj.fan_in) if sparse and proj.probability is None else None,
            probability=proj.probability if sparse else None,
        ))
    s = ir.settings
    out = ir.outgoing(pop.id)
    readout = None
    if facts.is_readout:
        readout = (s.readout.decoding, s.loss.kind, pop.size)
    momentum = getattr(s.optimizer, "momentum", 0.0)
    return PopulationMemory(
        population=pop,
        incoming=tuple(incoming),
        outgoing=len(out) if pop.kind == "neuron" else 0,
        batch=batch_per_replica(ir),
        timesteps=s.timesteps,
        facts=facts,
        state_copies=V.state_copies(s.optimizer.kind, momentum),
        optimizer_family=V.optimizer_family(s.optimizer.kind, momentum, facts.half),
        reduces=len(out) if pop.kind == "neuron" else 0,
        readout=readout,
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

    `categories` restricts the prediction to the categories the measurement covers; the default
    is MEASURED_CATEGORIES, what the host runtime's memory report counts (tensors and vertex
    state; not code, exchange code or the tile reserve). A tile
    the plan uses but the measurement lacks counts as 0 measured bytes; so does the reverse.
    """
    cats = categories or MEASURED_CATEGORIES
    unknown = sorted(set(cats) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"unknown memory categories {unknown}; known: {list(CATEGORIES)}")
    idx = [CAT[c] for c in cats]
    table = plan.tile_memory.bytes
    tiles = sorted(set(plan.tile_memory.used_tiles()) | {int(t) for t in measured})
    predicted = tuple(int(table[t, idx].sum()) if t < len(table) else 0 for t in tiles)
    got = tuple(int(measured.get(t, 0)) for t in tiles)
    return AllocationCheck(tuple(tiles), predicted, got, tolerance)
