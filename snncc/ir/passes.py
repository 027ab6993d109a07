"""Passes over the graph IR: shape inference and the schedule.

Each pass is a frozen dataclass with a `name` and an `apply(ModelGraph) -> ModelGraph`
that returns a new graph (the input is not modified). `run_passes` applies a list and
can verify the IR between passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import networkx as nx

from .graph import ModelGraph, Shapes

class Pass(Protocol):
    name: ClassVar[str]

    def apply(self, ir: ModelGraph) -> ModelGraph: ...


class IRError(ValueError):
    """An IR that breaks an invariant: a bug in a pass, not a user error."""


def verify(ir: ModelGraph) -> None:
    """Check the IR's invariants; raises IRError."""
    for pid, data in ir.graph.nodes(data=True):
        pop = data.get("population")
        if pop is None or pop.id != pid:
            raise IRError(f"node {pid!r} lacks its Population")
        if pop.kind == "input" and ir.graph.in_degree(pid):
            raise IRError(f"input population {pid!r} has incoming projections")
    for source, target, key, data in ir.graph.edges(keys=True, data=True):
        proj = data.get("projection")
        if proj is None or (proj.source, proj.target, proj.id) != (source, target, key):
            raise IRError(f"edge {key!r} lacks its Projection")
        if not ir.population(source).spikes:
            raise IRError(f"projection {key!r} reads {source!r}, which emits no spikes")
    zero_delay = nx.DiGraph((p.source, p.target) for p in ir.projections if p.delay == 0)
    if not nx.is_directed_acyclic_graph(zero_delay):
        raise IRError("zero-delay projections form a cycle")
    if "schedule" in ir.passes_applied:
        for p in ir.projections:
            src, dst = ir.population(p.source), ir.population(p.target)
            if p.delay == 0 and src.kind == "neuron" and ir.stage(src.id) >= ir.stage(dst.id):
                raise IRError(f"projection {p.id!r} has delay 0 but its source is not in an earlier stage")


@dataclass(frozen=True)
class InferShapes:
    """Weight, stored non-zero and bias counts per projection (edge attribute "shapes")."""

    name: ClassVar[str] = "shapes"

    def apply(self, ir: ModelGraph) -> ModelGraph:
        graph = ir.graph.copy()
        for p in ir.projections:
            n_in, n_out = ir.population(p.source).size, ir.population(p.target).size
            if p.connectivity == "dense":
                stored = n_in * n_out
            else:
                # fan_in is exact for fan_in masks, the expectation for probability masks
                stored = math.ceil(round(p.fan_in * n_out, 6))
            graph.edges[p.source, p.target, p.id]["shapes"] = Shapes(
                weight=(n_in, n_out), stored_weights=stored, bias=n_out if p.bias else 0
            )
        return ir.with_graph(graph, self.name)


@dataclass(frozen=True)
class Schedule:
    """Group neuron populations into stages within a timestep (node attribute "stage").

    A population waits only for its zero-delay inputs from other neuron populations, so
    it goes one stage after the latest of them (longest-path layering of the zero-delay
    DAG). Input populations are streamed in before a timestep starts and get stage -1.
    Populations joined only by delayed projections share a stage: a stack whose
    projections all have delay >= 1 is a single stage, its layers pipelined in time.
    """

    name: ClassVar[str] = "schedule"

    def apply(self, ir: ModelGraph) -> ModelGraph:
        graph = ir.graph.copy()
        neurons = [p.id for p in ir.populations if p.kind == "neuron"]
        zero_delay = nx.DiGraph()
        zero_delay.add_nodes_from(neurons)
        zero_delay.add_edges_from(
            (p.source, p.target) for p in ir.projections if p.delay == 0 and p.source in zero_delay
        )
        for stage, generation in enumerate(nx.topological_generations(zero_delay)):
            for pid in generation:
                graph.nodes[pid]["stage"] = stage
        for p in ir.populations:
            if p.kind == "input":
                graph.nodes[p.id]["stage"] = -1
        return ir.with_graph(graph, self.name)


DEFAULT_PASSES: tuple[Pass, ...] = (InferShapes(), Schedule())


def run_passes(
    ir: ModelGraph,
    passes: Sequence[Pass] = DEFAULT_PASSES,
    callback: Callable[[Pass, ModelGraph], None] | None = None,
    check: bool = False,
) -> ModelGraph:
    """Apply passes in order; with check, verify the IR before and after each one."""
    if check:
        verify(ir)
    for p in passes:
        ir = p.apply(ir)
        if check:
            verify(ir)
        if callback is not None:
            callback(p, ir)
    return ir
