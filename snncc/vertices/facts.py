"""What the vertex and tensor declarations read of a population and of a projection: one
typed record each, derived once from the IR, and the rules derived from the settings
(optimizer state copies, the optimizer vertex family).

Partition (the memory and cost models) and lower (the Program) both build their
declarations from these records, so the facts below are computed here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..ir import ModelGraph, Population, Projection


@dataclass(frozen=True)
class PopulationFacts:
    """One population as the declarations see it."""

    id: str
    kind: Literal["input", "neuron"]
    model: str | None  # None for input populations
    size: int
    spikes: bool
    capacity: int  # list entries per sample and timestep (0: no list)
    sparse_backward: bool  # a gradient threshold: the backward touches only listed neurons
    ring_slots: int  # timesteps of lists (and of dL/dS) kept: 1 + the largest outgoing delay
    is_readout: bool
    half: bool = False  # precision float16: membranes and synaptic currents stored as half

    @property
    def grad_slots(self) -> int:
        """Entries per sample of an input gradient into this population: its list's capacity
        with a sparse backward, every neuron with a dense one (0 for an input population)."""
        if self.kind != "neuron":
            return 0
        return self.capacity if self.sparse_backward else self.size


@dataclass(frozen=True)
class ProjectionFacts:
    """One projection as the declarations see it."""

    id: str
    source: str
    target: str
    delay: int
    bias: bool
    n_in: int  # source neurons: rows of the weights
    input_gradient: bool  # the source is a neuron population: partials and a reduction
    grad_slots: int  # G: entries per sample of the partial input gradients (the source's grad_slots)
    half: bool = False  # precision float16: the network computes with half copies of w and b


def ring_slots(ir: ModelGraph, pid: str) -> int:
    return 1 + max((p.delay for p in ir.outgoing(pid)), default=0)


def population_facts(ir: ModelGraph, pop: Population) -> PopulationFacts:
    return PopulationFacts(
        id=pop.id, kind=pop.kind, model=pop.model, size=pop.size, spikes=pop.spikes, capacity=pop.capacity,
        sparse_backward=pop.sparse_backward, ring_slots=ring_slots(ir, pop.id),
        is_readout=pop.id == ir.settings.readout.population, half=ir.settings.precision == "float16",
    )


def projection_facts(ir: ModelGraph, proj: Projection, source: PopulationFacts | None = None) -> ProjectionFacts:
    src = source or population_facts(ir, ir.population(proj.source))
    return ProjectionFacts(
        id=proj.id, source=proj.source, target=proj.target, delay=proj.delay, bias=proj.bias, n_in=src.size,
        input_gradient=src.kind == "neuron", grad_slots=src.grad_slots, half=ir.settings.precision == "float16",
    )


def model_facts(ir: ModelGraph) -> tuple[tuple[PopulationFacts, ...], tuple[ProjectionFacts, ...]]:
    """Every population's and projection's record, in spec order."""
    pops = tuple(population_facts(ir, p) for p in ir.populations)
    by_id = {p.id: p for p in pops}
    return pops, tuple(projection_facts(ir, pr, by_id[pr.source]) for pr in ir.projections)


def state_copies(kind: str, momentum: float = 0.0) -> tuple[str, ...]:
    """Optimizer state kept per trainable value, by tensor name: Adam's two moments, SGD's
    momentum buffer (none without momentum)."""
    if kind == "adam":
        return ("m", "v")
    return ("buf",) if momentum > 0 else ()


def optimizer_family(kind: str, momentum: float = 0.0, half: bool = False) -> str:
    """The generic update vertex of an optimizer (half: one that also writes the float16 copy
    of the values it updates)."""
    family = "AdamUpdate" if kind == "adam" else ("SgdUpdate" if momentum > 0 else "SgdPlainUpdate")
    return family + ("Half" if half else "")


def counts_spikes(decoding: str, loss_kind: str) -> bool:
    """The scores or the loss count the readout's spikes (so the readout must spike, the Loss
    vertex reads its spike lists, and dL/dS of the readout gets dScore)."""
    return decoding == "spike_count" or loss_kind == "mse_count"
