"""The typed Program: what the generated Poplar program allocates, where, and in which order it runs.

Everything here is a decision (tensor layouts, vertex kinds, compute sets, the control
program); snncc.codegen only renders it. Frozen dataclasses, tuples in a deterministic
order (spec order of populations and projections, schedule order of stages).

Layouts (all tensors are flat, 1-D, so that a tile's share is one contiguous slice):

- "neuron" block layout of a population tensor with `rows` values per neuron: tile j of the
  population's range holds neurons [lo_j, hi_j) (the plan's slicing rule) and the slice
  [rows lo_j, rows hi_j), laid out [row][neuron of the tile]. Membrane history (rows =
  (T + 1) B, [timestep][sample][neuron], index 0 is the zero initial state), carried
  gradients (rows = B), the ring of dL/dS (rows = slots B), incoming weights
  (rows = source size: [source neuron][target neuron], so one input id selects a
  contiguous row) and their gradients and optimizer state.
- "list" layout of a spike-id list tensor with `per_sample` values per sample: list tile
  j holds samples [j s, min(B, (j + 1) s)) and the slice [per_sample j s, ...), laid out
  [sample][timestep][entry].
- "partials" layout: target tile j of a projection holds [B][G] partial input gradients.
- "single": one tile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..partition.plan import neuron_range
from ..vertices import ComputeSetSpec, DType, Field, Layout, VertexDecl, state_copies

__all__ = ["ComputeSetSpec", "DType", "Element", "Field", "Group", "Layout", "Loss", "Neuron", "Optimizer", "Pattern",
           "PopulationProgram", "Program", "ProjectionProgram", "Readout", "Surrogate", "TensorSpec", "TileRange",
           "VertexDecl", "VertexType"]


@dataclass(frozen=True)
class TileRange:
    """A population's neuron tiles and list tiles (see snncc.partition.plan.SLICE_RULE)."""

    first_tile: int
    num_tiles: int
    neurons_per_tile: int
    remainder: int
    list_tiles: int
    list_offset: int
    samples_per_list_tile: int

    def neuron_range(self, j: int) -> tuple[int, int]:
        return neuron_range(j, self.neurons_per_tile, self.remainder)

    def list_tile(self, j: int) -> int:
        return self.first_tile + (self.list_offset + j) % self.num_tiles


@dataclass(frozen=True)
class Neuron:
    """What of a population's neuron model changes the code. Its parameters (beta, alpha,
    threshold, gradient level; one value per neuron) are tensors written from the INIT file
    (snncc.lower.neuron_parameters)."""

    model: Literal["lif", "cuba_lif", "if", "li"]
    reset: Literal["subtract", "zero", "zero_updated", "none"]
    sparse_backward: bool  # a gradient threshold: the backward touches only listed neurons


@dataclass(frozen=True)
class PopulationProgram:
    id: str
    kind: Literal["input", "neuron"]
    size: int
    stage: int  # -1 for inputs
    spikes: bool
    capacity: int  # list entries per sample and timestep (0: no list)
    overflow: Literal["drop", "error"]
    neuron: Neuron | None
    tiles: TileRange
    ring_slots: int  # dL/dS ring: 1 + the largest delay of the outgoing projections
    incoming: tuple[str, ...]  # projection ids, spec order
    outgoing: tuple[str, ...]
    is_readout: bool

    @property
    def model(self) -> str | None:
        return self.neuron.model if self.neuron is not None else None

    @property
    def sparse_backward(self) -> bool:
        return self.neuron is not None and self.neuron.sparse_backward


@dataclass(frozen=True)
class ProjectionProgram:
    id: str
    source: str
    target: str
    delay: int
    bias: bool
    n_in: int
    n_out: int
    input_gradient: bool  # the source is a neuron population: partials and a reduction
    grad_slots: int  # G: entries per sample of the partial input gradients


@dataclass(frozen=True)
class TensorSpec:
    """One variable of the graph: flat, mapped by layout (rows per neuron or per sample)."""

    name: str  # debug name, "<element>.<what>"
    dtype: DType
    owner: str  # population (or projection for partials) whose tiles hold it
    layout: Layout
    rows: int  # values per neuron ("neuron"), per sample ("list"), per tile ("partials"), all ("single")
    init: bool = False  # written from the INIT file as "<what>.<owner>" (per-neuron parameters)


@dataclass(frozen=True)
class Readout:
    population: str
    decoding: Literal["spike_count", "membrane_sum", "membrane_max"]
    classes: int
    tile: int  # where the loss vertex runs


@dataclass(frozen=True)
class Loss:
    kind: Literal["cross_entropy", "mse_count"]
    on_count: int  # mse_count targets (snnTorch truncation), 0 for cross_entropy
    off_count: int


@dataclass(frozen=True)
class Surrogate:
    kind: str
    parameter: float  # slope, alpha or width


@dataclass(frozen=True)
class Optimizer:
    kind: Literal["adam", "sgd"]
    lr: float
    betas: tuple[float, float]
    eps: float
    momentum: float

    @property
    def state_copies(self) -> tuple[str, ...]:
        return state_copies(self.kind, self.momentum)


@dataclass(frozen=True)
class VertexType:
    """A vertex class with its fields (written once: codelets, registration and program.cpp use it)."""

    name: str  # Poplar's name, e.g. "snncc_model::Forward_lif_subtract_ib<float>"
    cls: str  # the class in codelets/model.cpp ("" for generic vertices)
    codelet: str  # "model.cpp" or "snncc_generic.cpp"
    member: str  # the first population or projection that uses it ("" for generic vertices)
    decl: VertexDecl
    state: str = ""  # the class's template argument, what its "T" fields hold ("" for a plain class)

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.decl.fields


@dataclass(frozen=True)
class Pattern:
    """How a vertex kind is instantiated: over which tiles, each field bound to what (deduplicated
    across elements: bindings name tensors relative to the element)."""

    over: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Group:
    """One row of program.cpp's vertex table: a vertex type of an element in a compute set."""

    compute_set: int  # index into Program.compute_sets
    vertex: str  # VertexType.name
    pattern: int  # index into Program.patterns


@dataclass(frozen=True)
class Element:
    """One row of program.cpp's element table: a population, a projection or the globals."""

    id: str  # "" for the globals
    kind: Literal["population", "projection", "global"]
    tiles: TileRange  # a projection's are its target's; the globals' are the readout's
    source: int  # element index of a projection's source (-1 otherwise)
    target: int
    incoming: tuple[int, ...]  # element indices of a population's incoming projections
    tensors: tuple[TensorSpec, ...]
    groups: tuple[Group, ...]
    values: tuple[tuple[str, int], ...] = ()  # constants its vertices' value fields name (C, delay0, ...)


@dataclass(frozen=True)
class Program:
    name: str
    timesteps: int
    batch: int  # per replica: training.batch_size / replicas
    replicas: int  # data-parallel replicas (replication_factor); their gradients are summed before the update
    state: str  # the C++ type of the network's state and weight copies: "float", or "half" in mixed precision
    num_ipus: int
    tiles_per_ipu: int
    bytes_per_tile: int
    populations: tuple[PopulationProgram, ...]
    projections: tuple[ProjectionProgram, ...]
    stages: tuple[tuple[str, ...], ...]
    readout: Readout
    loss: Loss
    surrogate: Surrogate
    optimizer: Optimizer
    tensors: tuple[TensorSpec, ...]
    forward: tuple[ComputeSetSpec, ...]  # one timestep, in order (repeated T times)
    backward: tuple[ComputeSetSpec, ...]  # one reverse timestep, in order (repeated T times)
    loss_step: ComputeSetSpec
    update: ComputeSetSpec
    compute_sets: tuple[str, ...]  # every compute set, in the order forward, backward, loss, update
    vertex_types: tuple[VertexType, ...]
    patterns: tuple[Pattern, ...]
    elements: tuple[Element, ...]  # populations, projections (spec order), then the globals

    def compute_set_index(self, name: str) -> int:
        return self.compute_sets.index(name)

    def population(self, pid: str) -> PopulationProgram:
        return next(p for p in self.populations if p.id == pid)

    def projection(self, pid: str) -> ProjectionProgram:
        return next(p for p in self.projections if p.id == pid)

    @property
    def input(self) -> PopulationProgram:
        return next(p for p in self.populations if p.kind == "input")

    @property
    def neuron_populations(self) -> tuple[PopulationProgram, ...]:
        return tuple(p for p in self.populations if p.kind == "neuron")
