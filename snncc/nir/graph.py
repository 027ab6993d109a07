"""Reading a NIR file and checking its graph before anything is converted.

A NIR graph becomes a `FlatGraph`: nested NIRGraph nodes (snnTorch's RLeaky/RSynaptic
subgraphs) are inlined and their inner Input and Output nodes, which only pass values
through, are removed, so that every edge left joins two nodes snncc converts. The graph
must have one Input (the input population) and one Output (the readout).

Node kinds are the `nir` library's classes; `nir` is imported by the functions that
use it, so that snncc runs without it where NIR is not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError

#: snnTorch's NIR export and import assume this step (seconds).
SNNTORCH_DT = 1e-4
#: Norse 1.1's to_nir(dt=0.001) writes tau = dt / tau_mem_inv, i.e. dt x tau: the step that
#: reproduces Norse's dynamics from such a file is dt^2.
NORSE_DT = 1e-6


class NIRError(UserError):
    """A NIR file snncc cannot read or convert: one line for the user."""


def neuron_classes() -> tuple[type, ...]:
    """The NIR neuron nodes snncc converts into populations."""
    import nir

    return (nir.LIF, nir.CubaLIF, nir.IF, nir.LI)


def synapse_classes() -> tuple[type, ...]:
    """The NIR nodes a projection passes through from its source to its target."""
    import nir

    return (nir.Affine, nir.Linear, nir.Scale, nir.Delay)


def read_graph(path: str | Path):
    """A NIR file as a NIRGraph; a one-line NIRError when it is not one."""
    import nir

    path = Path(path)
    if not path.is_file():
        raise NIRError(f"{path}: no such file")
    try:
        import h5py

        if not h5py.is_hdf5(path):
            raise NIRError(f"{path}: not a NIR file (not HDF5)")
        graph = nir.read(str(path), type_check=False)  # snncc checks the shapes it uses itself
    except NIRError:
        raise
    except Exception as exc:  # nir raises KeyError, ValueError, TypeError ... on malformed files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise NIRError(f"{path}: malformed NIR file ({type(exc).__name__}{': ' + detail if detail else ''})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise NIRError(f"{path}: the file holds a single {type(graph).__name__} node, not a NIR graph")
    return graph


@dataclass
class FlatGraph:
    """A NIR graph without nested graphs or pass-throughs, with its one Input and one Output."""

    nodes: dict[str, Any]  # name -> nir node
    succ: dict[str, set[str]]  # name -> the names its edges lead to
    input: str
    output: str
    input_size: int

    def kind(self, name: str) -> str:
        """The NIR type of a node, as messages name it."""
        return type(self.nodes[name]).__name__

    def is_neuron(self, name: str) -> bool:
        return isinstance(self.nodes[name], neuron_classes())


def flat_graph(graph) -> FlatGraph:
    """The FlatGraph of a NIRGraph; a NIRError for a node snncc does not convert, an edge to
    an unknown node, or an Input or Output that is missing or not alone."""
    import nir

    nodes, edges, passthrough = _flatten(graph)
    supported = (nir.Input, nir.Output, *neuron_classes(), *synapse_classes())
    for name, node in nodes.items():
        if name not in passthrough and not isinstance(node, supported):
            raise _unsupported(name, node)
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise NIRError(f"edge ({a}, {b}) names the unknown node '{end}'")
    succ = _without_passthroughs(nodes, edges, passthrough)
    inputs = sorted(n for n, v in nodes.items() if isinstance(v, nir.Input))
    outputs = sorted(n for n, v in nodes.items() if isinstance(v, nir.Output))
    if len(inputs) != 1:
        raise NIRError(f"the graph has {len(inputs)} Input nodes; snncc needs exactly one (a single input population)")
    if len(outputs) != 1:
        raise NIRError(f"the graph has {len(outputs)} Output nodes; snncc needs exactly one (the readout)")
    return FlatGraph(nodes, succ, inputs[0], outputs[0], _input_size(inputs[0], nodes[inputs[0]]))


def _flatten(graph, prefix: str = ""):
    """Nodes and edges of a graph with nested NIRGraphs inlined.

    Returns (nodes {name: node}, edges [(a, b)], passthrough {names}): the Input and
    Output nodes of nested graphs are pass-throughs."""
    import nir

    nodes, edges, passthrough = {}, [], set()
    ins: dict[str, list[str]] = {}
    outs: dict[str, list[str]] = {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges, sub_pass = _flatten(node, full + ".")
            nodes.update(sub_nodes)
            edges += sub_edges
            passthrough |= sub_pass
            ins[full] = [full + "." + k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs[full] = [full + "." + k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
            passthrough |= set(ins[full]) | set(outs[full])
        else:
            nodes[full] = node
    for a, b in graph.edges:
        for src in outs.get(prefix + a, [prefix + a]):
            for dst in ins.get(prefix + b, [prefix + b]):
                edges.append((src, dst))
    return nodes, edges, passthrough


def _without_passthroughs(nodes: dict, edges: list[tuple[str, str]], passthrough: set[str]) -> dict[str, set[str]]:
    """The successors of each node once every pass-through is removed (from nodes too) and
    its predecessors are joined to its successors."""
    succ: dict[str, set[str]] = {n: set() for n in nodes}
    pred: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in edges:
        succ[a].add(b)
        pred[b].add(a)
    for p in sorted(passthrough):
        for a in pred[p]:
            succ[a].discard(p)
            succ[a] |= succ[p] - {p}
        for b in succ[p]:
            pred[b].discard(p)
            pred[b] |= pred[p] - {p}
        del succ[p], pred[p], nodes[p]
    return succ


def _input_size(name: str, node) -> int:
    input_type = getattr(node, "input_type", None) or {}
    shapes = [np.asarray(v).reshape(-1) for v in input_type.values()] if isinstance(input_type, dict) else []
    if not shapes or shapes[0].size == 0:
        raise NIRError(f"node '{name}' (Input): no input shape")
    return int(np.prod(shapes[0].astype(object)))  # object: no int64 overflow on forged shapes


def _unsupported(name: str, node) -> NIRError:
    import nir

    hints = (
        (nir.CubaLI, "snncc has no current-based leaky integrator yet"),
        (nir.Threshold, "a threshold without a membrane has no snncc population"),
        (nir.I, "a pure integrator without threshold has no snncc population"),
    )
    hint = next((text for cls, text in hints if isinstance(node, cls)),
                "snncc supports Input, Output, Affine, Linear, Scale, Delay, LIF, CubaLIF, IF, LI and "
                "recurrent subgraphs")
    return NIRError(f"node '{name}' has the unsupported type {type(node).__name__} ({hint})")
