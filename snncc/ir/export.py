"""The IR as GraphML or Graphviz DOT, for viewers (yEd, Gephi, Graphviz)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import networkx as nx

from ..fsutil import write_text_atomic
from .graph import GivenArray, ModelGraph


def _flat(obj) -> dict[str, str | int | float | bool]:
    """A dataclass as scalar attributes; None is left out (GraphML has no null)."""
    out = {}
    for f in dataclasses.fields(obj):
        key, value = f.name, getattr(obj, f.name)
        if value is None:
            continue
        if isinstance(value, GivenArray):
            value = f"array {value.name} {list(value.array.shape)}"
        elif isinstance(value, tuple) and value and all(isinstance(v, float) for v in value):
            value = f"per-neuron [{min(value):.6g}, {max(value):.6g}]"
        out[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
    return out


def plain_graph(ir: ModelGraph) -> nx.MultiDiGraph:
    """A copy of the IR graph with scalar attributes only."""
    graph = nx.MultiDiGraph(name=ir.name)
    for pop in ir.populations:
        attrs = _flat(pop)
        if "stage" in ir.graph.nodes[pop.id]:
            attrs["stage"] = ir.stage(pop.id)
        graph.add_node(pop.id, **attrs)
    for proj in ir.projections:
        attrs = _flat(proj)
        if "shapes" in ir.graph.edges[proj.source, proj.target, proj.id]:
            attrs["stored_weights"] = ir.shapes(proj).stored_weights
        graph.add_edge(proj.source, proj.target, key=proj.id, **attrs)
    return graph


def write_graphml(ir: ModelGraph, path: str | Path) -> None:
    write_text_atomic(path, "\n".join(nx.generate_graphml(plain_graph(ir))) + "\n")


def write_dot(ir: ModelGraph, path: str | Path) -> None:
    graph = plain_graph(ir)
    for pid, data in graph.nodes(data=True):
        data["label"] = f"{pid}\\n{data.get('model', 'input')} x {data['size']}"
        data["shape"] = "box" if data["kind"] == "input" else "ellipse"
    for _, _, key, data in graph.edges(keys=True, data=True):
        data["label"] = f"{key} (delay {data['delay']})" if data["delay"] else key
        if data["recurrent"]:
            data["style"] = "dashed"
    write_text_atomic(path, nx.nx_pydot.to_pydot(graph).to_string())
