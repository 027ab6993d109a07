"""Reading a NIR file and checking its graph before anything is converted.

A NIR graph becomes a `FlatGraph`: nested NIRGraph nodes (snnTorch's RLeaky/RSynaptic
subgraphs) are inlined and their inner Input and Output nodes, which only pass values
through, are removed, so that every edge left joins two nodes snncc converts. The graph
must have one Input (the input population) and one Output (the readout).

Node kinds are the `nir` library's classes; `nir` is imported by the functions that
use it, so that snncc runs without it where NIR is not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    notes: list[str] = field(default_factory=list)  # what reading the graph assumed, for the user

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
    notes: list[str] = []
    size = _input_size(inputs[0], nodes, succ, notes)
    return FlatGraph(nodes, succ, inputs[0], outputs[0], size, notes)


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


def _input_size(name: str, nodes: dict, succ: dict[str, set[str]], notes: list[str]) -> int:
    """The number of inputs an Input node gives.

    A one-dimensional shape [n] is n inputs. Exporters that trace a module with batched
    sample data (Norse's to_nir with torch.zeros(1, n), or (4, n)) write the batch into the
    shape, [1, n] or [4, n]: where the Affine/Linear nodes the Input feeds take n inputs, the
    leading dimensions are read as that batch (with a note). Any other shape is flattened."""
    input_type = getattr(nodes[name], "input_type", None) or {}
    shapes = [np.asarray(v).reshape(-1) for v in input_type.values()] if isinstance(input_type, dict) else []
    if not shapes or shapes[0].size == 0:
        raise NIRError(f"node '{name}' (Input): no input shape")
    try:
        dims = [int(d) for d in shapes[0].astype(object)]  # object: no int64 overflow on forged shapes
        whole = all(d == v for d, v in zip(dims, shapes[0].astype(object)))
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or min(dims) < 0:
        raise NIRError(f"node '{name}' (Input): its shape {shapes[0].tolist()} is not a list of whole numbers >= 0")
    total = int(np.prod(np.array(dims, dtype=object)))
    if len(dims) < 2:
        return total
    takes = _first_weights(name, nodes, succ)
    sizes = {n for n, _ in takes}
    if len(sizes) != 1:  # no weight follows the Input (or they disagree): the later checks name it
        return total
    (n,) = sizes
    first = takes[0][1]
    first_named = f"node '{first}' ({type(nodes[first]).__name__})"
    for k in range(1, len(dims)):
        if int(np.prod(np.array(dims[k:], dtype=object))) == n and (total != n or all(d == 1 for d in dims[:k])):
            batch = " x ".join(str(d) for d in dims[:k])
            notes.append(f"the Input '{name}' has the shape {dims}; {first_named} takes {n} inputs, so the leading "
                         f"{batch} is read as the exporter's batch dimension: {n} inputs")
            return n
    if total == n:  # a multi-dimensional input, flattened
        return total
    raise NIRError(f"node '{name}' (Input) has the shape {dims} ({total:,} values), but {first_named} that it "
                   f"feeds takes {n:,} inputs; no leading (batch) dimensions leave {n:,}")


def _first_weights(name: str, nodes: dict, succ: dict[str, set[str]]) -> list[tuple[int, str]]:
    """(input size, node name) of each Affine/Linear node that an Input reaches through Scale
    and Delay nodes only (these keep the size)."""
    import nir

    found, seen, frontier = [], {name}, [name]
    while frontier:
        at = frontier.pop()
        for nxt in sorted(succ.get(at, ())):
            node = nodes[nxt]
            if nxt in seen:
                continue
            seen.add(nxt)
            if isinstance(node, (nir.Affine, nir.Linear)):
                w = np.asarray(node.weight)
                if w.ndim == 2:
                    found.append((int(w.shape[1]), nxt))
            elif isinstance(node, (nir.Scale, nir.Delay)):
                frontier.append(nxt)
    return found


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
