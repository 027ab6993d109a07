"""The graph IR: populations as nodes, projections as edges, typed attributes on both.

Built only from a validated ModelSpec (`build_graph`); the passes in snncc.ir.passes
fill in shapes and the schedule; what a training step allocates is the plan's memory
model (snncc.partition.memory). Downstream stages read this, never the
spec's JSON.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

import networkx as nx
import numpy as np

from ..spec import arrays as spec_arrays
from ..spec import models as m
from ..spec import resolve

Reset = Literal["subtract", "zero", "zero_updated", "none"]

#: A neuron parameter: one float for the population, or one float per neuron.
PerNeuron = float | tuple[float, ...]


def _per_neuron(value) -> PerNeuron | None:
    """A float stays a float; an array from the arrays file becomes a tuple of floats."""
    if value is None or isinstance(value, float):
        return value
    return tuple(float(v) for v in np.asarray(value).reshape(-1))


@dataclass(frozen=True, eq=False)
class GivenArray:
    """A given array (initial weights or bias from the arrays file), read-only float32.

    Compared and hashed by its name, shape and a SHA-256 of its bytes, so that
    Projection stays a small comparable value.
    """

    name: str
    array: np.ndarray = field(repr=False)
    digest: str = ""

    @staticmethod
    def of(name: str, value: np.ndarray) -> "GivenArray":
        a = np.ascontiguousarray(value, dtype=np.float32)
        a.setflags(write=False)
        return GivenArray(name, a, hashlib.sha256(a.tobytes()).hexdigest())

    def __eq__(self, other) -> bool:
        return isinstance(other, GivenArray) and (self.name, self.array.shape, self.digest) == (
            other.name, other.array.shape, other.digest)

    def __hash__(self) -> int:
        return hash((self.name, self.array.shape, self.digest))


@dataclass(frozen=True)
class Population:
    """A node: one population with its resolved neuron parameters."""

    id: str
    index: int  # position in the spec, for deterministic order
    kind: Literal["input", "neuron"]
    size: int
    model: Literal["lif", "cuba_lif", "if", "li"] | None  # None for input populations
    # beta, alpha, threshold: a float, or a tuple of one float per neuron (from the arrays file)
    beta: PerNeuron | None  # membrane decay per timestep (1 for if)
    alpha: PerNeuron | None  # synaptic decay per timestep (cuba_lif only)
    threshold: PerNeuron | None  # None when the population never spikes
    reset: Reset | None
    spikes: bool  # whether it emits spikes (inputs and every model but li)
    capacity: int  # spike-id list entries per sample and timestep (0 if it never spikes)
    gradient_threshold: float | None  # fraction of threshold; None: dense surrogate
    overflow: Literal["drop", "error"]

    @property
    def per_neuron(self) -> bool:
        """Whether any of beta, alpha, threshold has one value per neuron (a tuple)."""
        return any(isinstance(v, tuple) for v in (self.beta, self.alpha, self.threshold))

    @property
    def sparse_backward(self) -> bool:
        """Whether the backward touches only the neurons of its spike-id lists (a gradient
        threshold on a spiking neuron population) instead of every neuron."""
        return self.kind == "neuron" and self.spikes and self.gradient_threshold is not None

    @property
    def state_vars(self) -> tuple[str, ...]:
        """The per-neuron state carried from one timestep to the next."""
        if self.kind == "input":
            return ()
        if self.model == "cuba_lif":
            return ("isyn", "mem")
        return ("mem",)


@dataclass(frozen=True)
class Projection:
    """An edge: weights from source to target, stored [source neuron, target neuron]."""

    id: str
    index: int
    source: str
    target: str
    delay: int  # timesteps; resolved (recurrent projections default to 1)
    recurrent: bool  # closes a cycle (a back edge in spec order)
    connectivity: Literal["dense", "sparse"]
    fan_in: float  # inputs per target neuron (expected value for probabilistic sparse)
    probability: float | None
    mask_seed: int | None
    weight_distribution: Literal["uniform", "normal"]
    weight_scale: float
    bias: bool
    initial_weights: GivenArray | None = None  # [source size, target size]; replaces the random draw
    initial_bias: GivenArray | None = None  # [target size]; replaces the random bias


@dataclass(frozen=True)
class Shapes:
    """Tensor shapes of one projection (from the shape-inference pass)."""

    weight: tuple[int, int]  # [source size, target size]
    stored_weights: int  # non-zeros kept (all for dense)
    bias: int


@dataclass(frozen=True)
class TrainingSettings:
    """What the IR carries of the spec beyond the network: the stages downstream need it."""

    timesteps: int
    dt: float | None
    batch_size: int
    epochs: int
    seed: int
    precision: Literal["float32", "float16"]
    readout: m.Readout
    loss: m.Loss
    optimizer: m.Optimizer
    surrogate: m.Surrogate
    data: m.Data
    target: m.IPUTarget


@dataclass(frozen=True)
class ModelGraph:
    """The IR: a networkx MultiDiGraph plus the training settings.

    Node attribute "population" holds a Population, edge attribute "projection" a
    Projection (edge key = projection id). Passes add node attribute "stage" and edge
    attribute "shapes". Treat instances as immutable: passes copy.
    """

    name: str
    settings: TrainingSettings
    graph: nx.MultiDiGraph = field(compare=False)
    passes_applied: tuple[str, ...] = ()

    @property
    def populations(self) -> list[Population]:
        """Every population, in spec order."""
        return sorted((d["population"] for _, d in self.graph.nodes(data=True)), key=lambda p: p.index)

    @property
    def projections(self) -> list[Projection]:
        """Every projection, in spec order."""
        return sorted((d["projection"] for _, _, d in self.graph.edges(data=True)), key=lambda p: p.index)

    def population(self, pid: str) -> Population:
        return self.graph.nodes[pid]["population"]

    def incoming(self, pid: str) -> list[Projection]:
        """Projections into a population, in spec order."""
        return sorted((d["projection"] for _, _, d in self.graph.in_edges(pid, data=True)), key=lambda p: p.index)

    def outgoing(self, pid: str) -> list[Projection]:
        return sorted((d["projection"] for _, _, d in self.graph.out_edges(pid, data=True)), key=lambda p: p.index)

    def node_attr(self, pid: str, name: str):
        """An attribute a pass added to a population node (KeyError names the missing pass)."""
        data = self.graph.nodes[pid]
        if name not in data:
            raise KeyError(f"population attribute '{name}' is missing: run the pass that computes it")
        return data[name]

    def edge_attr(self, proj: Projection, name: str):
        data = self.graph.edges[proj.source, proj.target, proj.id]
        if name not in data:
            raise KeyError(f"projection attribute '{name}' is missing: run the pass that computes it")
        return data[name]

    def stage(self, pid: str) -> int:
        return self.node_attr(pid, "stage")

    def shapes(self, proj: Projection) -> Shapes:
        return self.edge_attr(proj, "shapes")

    @property
    def stages(self) -> list[list[str]]:
        """Neuron populations grouped by schedule stage, in stage then spec order."""
        groups: dict[int, list[str]] = {}
        for p in self.populations:
            if p.kind == "neuron":
                groups.setdefault(self.stage(p.id), []).append(p.id)
        return [groups[s] for s in sorted(groups)]

    def with_graph(self, graph: nx.MultiDiGraph, pass_name: str) -> "ModelGraph":
        return ModelGraph(self.name, self.settings, graph, self.passes_applied + (pass_name,))


def _population(index: int, pop: m.InputPopulation | m.NeuronPopulation, spec: m.ModelSpec) -> Population:
    spikes = resolve.spikes(pop)
    common = dict(
        id=pop.id,
        index=index,
        size=pop.size,
        spikes=spikes,
        capacity=resolve.capacity(pop.size, pop.sparsity) if spikes else 0,
        gradient_threshold=pop.sparsity.gradient_threshold,
        overflow=pop.sparsity.overflow,
    )
    if isinstance(pop, m.InputPopulation):
        return Population(kind="input", model=None, beta=None, alpha=None, threshold=None, reset=None, **common)
    neuron = pop.neuron
    return Population(
        kind="neuron",
        model=neuron.model,
        beta=_per_neuron(resolve.beta(pop, spec)),
        alpha=_per_neuron(resolve.alpha(pop, spec)),
        threshold=_per_neuron(resolve.threshold(pop, spec)),
        reset=getattr(neuron, "reset", None),
        **common,
    )


def _given(ref: m.ArrayRef | None, spec: m.ModelSpec) -> GivenArray | None:
    return None if ref is None else GivenArray.of(ref.array, spec_arrays.value(ref, spec))


def _projection(index: int, proj: m.Projection, delay: int, recurrent: bool, source_size: int,
                spec: m.ModelSpec) -> Projection:
    conn = proj.connectivity
    if isinstance(conn, m.Sparse):
        fan_in = float(conn.fan_in) if conn.fan_in is not None else conn.probability * source_size
        sparse = dict(connectivity="sparse", probability=conn.probability, mask_seed=conn.seed)
    else:
        fan_in = float(source_size)
        sparse = dict(connectivity="dense", probability=None, mask_seed=None)
    return Projection(
        id=proj.id,
        index=index,
        source=proj.source,
        target=proj.target,
        delay=delay,
        recurrent=recurrent,
        fan_in=fan_in,
        weight_distribution=proj.weight_init.distribution,
        weight_scale=proj.weight_init.scale,
        bias=proj.bias,
        initial_weights=_given(proj.initial_weights, spec),
        initial_bias=_given(proj.initial_bias, spec),
        **sparse,
    )


def build_graph(spec: m.ModelSpec) -> ModelGraph:
    """The IR of a validated spec (run snncc.spec.load_spec first; this does not re-check)."""
    graph = nx.MultiDiGraph(name=spec.name)
    sizes = {}
    for i, pop in enumerate(spec.populations):
        graph.add_node(pop.id, population=_population(i, pop, spec))
        sizes[pop.id] = pop.size
    delays = resolve.delays(spec)
    recurrent = resolve.recurrent_projections(spec)
    for i, proj in enumerate(spec.projections):
        edge = _projection(i, proj, delays[proj.id], proj.id in recurrent, sizes[proj.source], spec)
        graph.add_edge(proj.source, proj.target, key=proj.id, projection=edge)
    t = spec.training
    settings = TrainingSettings(
        timesteps=spec.timesteps,
        dt=spec.dt,
        batch_size=t.batch_size,
        epochs=t.epochs,
        seed=t.seed,
        precision=t.precision,
        readout=spec.readout,
        loss=t.loss,
        optimizer=t.optimizer,
        surrogate=t.surrogate,
        data=spec.data,
        target=spec.target,
    )
    return ModelGraph(spec.name, settings, graph)
