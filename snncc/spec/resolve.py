"""Values a spec implies but does not state: decay factors, list capacities, delays.

Pure functions of a schema-valid ModelSpec, shared by the semantic checks and the IR
so that both agree on what a spec means.
"""

from __future__ import annotations

import math

import networkx as nx

from . import arrays
from .models import CubaLIF, InputPopulation, LI, LIF, ModelSpec, NeuronPopulation, Sparsity


def decay(factor, tau: float | None, spec: ModelSpec):
    """A decay factor per timestep, given directly (a float, or an ArrayRef: the per-neuron
    array from the arrays file) or as a time constant with the spec's dt."""
    if factor is not None:
        return arrays.value(factor, spec)
    if tau is None or spec.dt is None:
        return None
    if spec.discretisation == "exact":
        return math.exp(-spec.dt / tau)
    return 1.0 - spec.dt / tau


def beta(population: NeuronPopulation, spec: ModelSpec):
    """Membrane decay per timestep (1 for integrate-and-fire): a float, or a per-neuron array."""
    neuron = population.neuron
    if isinstance(neuron, (LIF, CubaLIF, LI)):
        return decay(neuron.beta, neuron.tau_mem, spec)
    return 1.0


def alpha(population: NeuronPopulation, spec: ModelSpec):
    """Synaptic current decay per timestep (current-based neurons only): a float, or a per-neuron array."""
    neuron = population.neuron
    if isinstance(neuron, CubaLIF):
        return decay(neuron.alpha, neuron.tau_syn, spec)
    return None


def threshold(population: NeuronPopulation, spec: ModelSpec):
    """Firing threshold: a float, a per-neuron array, or None for a leaky integrator."""
    value = getattr(population.neuron, "threshold", None)
    return None if value is None else arrays.value(value, spec)


def spikes(population: InputPopulation | NeuronPopulation) -> bool:
    """Whether the population emits spikes (a leaky-integrator readout does not)."""
    return isinstance(population, InputPopulation) or not isinstance(population.neuron, LI)


def capacity(size: int, sparsity: Sparsity) -> int:
    """Capacity of the spike-id list per sample and timestep."""
    if sparsity.max_spikes is not None:
        return sparsity.max_spikes
    if sparsity.max_activity is not None:
        # round() first so that 0.01 x 1470 is 15, not 15 from a float just above 14.7
        return max(1, math.ceil(round(sparsity.max_activity * size, 9)))
    return size


def recurrent_projections(spec: ModelSpec) -> frozenset[str]:
    """Ids of the projections that close a cycle.

    A depth-first search from the input populations (then any unvisited population), in
    spec order, classifies every edge; back edges (to a population still on the search
    stack, self-loops included) are the recurrent ones. So in in -> h1 -> h2 -> h1 only
    h2 -> h1 is recurrent, as a user reading the file top-down expects.
    """
    succ: dict[str, list[tuple[str, str]]] = {p.id: [] for p in spec.populations}
    for proj in spec.projections:
        if proj.source in succ and proj.target in succ:
            succ[proj.source].append((proj.id, proj.target))
    order = [p.id for p in spec.populations if isinstance(p, InputPopulation)]
    order += [p.id for p in spec.populations if not isinstance(p, InputPopulation)]
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    back: set[str] = set()
    for root in order:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, edges = stack[-1]
            for proj_id, target in edges:
                if state.get(target) == 1:
                    back.add(proj_id)
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(succ[target])))
                    break
            else:
                state[node] = 2
                stack.pop()
    return frozenset(back)


def delays(spec: ModelSpec) -> dict[str, int]:
    """Every projection's delay in timesteps: as given, else 1 if recurrent, else 0."""
    recurrent = recurrent_projections(spec)
    return {
        p.id: p.delay if p.delay is not None else (1 if p.id in recurrent else 0) for p in spec.projections
    }


def zero_delay_cycles(spec: ModelSpec) -> list[list[str]]:
    """Cycles made only of zero-delay projections, as lists of projection ids."""
    resolved = delays(spec)
    graph = nx.MultiDiGraph()
    for p in spec.projections:
        if resolved[p.id] == 0:
            graph.add_edge(p.source, p.target, key=p.id)
    cycles = []
    # a component of one population is a cycle only through a self-loop
    components = [c for c in nx.strongly_connected_components(graph)
                  if len(c) > 1 or graph.has_edge(next(iter(c)), next(iter(c)))]
    for component in sorted(components, key=sorted):
        cycles.append(sorted(key for _, _, key in graph.subgraph(component).edges(keys=True)))
    return cycles
