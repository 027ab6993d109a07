"""program.cpp's host program, decided here: one builder per vertex type and its calls.

A builder is a C++ function that adds one vertex type on each tile of its range and
connects every field by name (`graph.connect(v["mem"], self.tile("mem", j))`,
`graph.setInitialValue(v["C0"], C0)`), as PopLibs host code adds its vertices. Its
parameters are the elements its fields read (the vertex's own element, a projection's
source or target, a population's incoming projection k and its source, the globals) and
the element constants its value fields take; each population, projection and the globals
calls the builders of its vertex groups with its elements and constants. A vertex type
with two binding patterns (an optimizer's weights and bias) has one builder per pattern.

Beside them, per element, what the host touches of each tensor: zero-initialised
(`setInitialValue`) unless the host always writes it, a host write handle for what INIT
writes (per-neuron parameters, weights and biases, a checkpoint's `dev.*` tensors) and a
host read handle for what is read back (single-batch results, checkpoint tensors).
templates/program.cpp.j2 lays all of it out; templates/host/program_driver.hpp creates
the tensors, the streams and the training step.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..vertices import BIAS_NAMES
from .program import Element, Field, PopulationProgram, Program, ProjectionProgram, TensorSpec

#: value fields set from the vertex's tile range: n and lo (neuron tiles), b0 and nb (list tiles),
#: ne (the entries of the tile's chunk of the element's chunks tensor)
TILE_VALUES = ("n", "lo", "b0", "nb", "ne")
#: value fields that are a literal, not an element constant (the timestep counter's step)
LITERALS = {"+1": 1, "-1": -1}
#: C++ layout names (program_support.hpp's Map)
MAPS = {"neuron": "NEURON", "list": "LIST", "partials": "PARTIALS", "chunks": "CHUNKS", "single": "SINGLE"}


@dataclass(frozen=True)
class Connect:
    """`graph.connect(v[field], <slice of element[what]>)`."""

    field: str
    element: str  # the builder's element parameter
    what: str
    slice: str  # whole, tile, elem0, samples, chunk, columns


@dataclass(frozen=True)
class Value:
    """`graph.setInitialValue(v[field], <value>)`."""

    field: str
    value: str  # a tile value (TILE_VALUES) or the builder's constant parameter of that name


@dataclass(frozen=True)
class Builder:
    name: str  # the C++ function
    vertex: str  # Poplar's vertex type name
    over: str  # neurons, source_neurons, lists, single
    elements: tuple[str, ...]  # element parameters, in order
    constants: tuple[tuple[str, str], ...]  # (C++ type, name) of its constant parameters
    fields: tuple[Connect | Value, ...]
    chunks: str = ""  # the chunks tensor whose tile chunk `ne` counts

    @property
    def tiles(self) -> str:
        """The element parameter whose tile range the vertices run on: a projection's source
        (over its neurons), else the element's own (the globals' for the timestep counter)."""
        return "source" if self.over == "source_neurons" else "self" if "self" in self.elements else self.elements[0]

    @property
    def uses(self) -> frozenset[str]:
        """The tile values its fields read (lo, n, b0, nb; hi for columns)."""
        out = {f.value for f in self.fields if isinstance(f, Value) and f.value in TILE_VALUES}
        if any(isinstance(f, Connect) and f.slice == "columns" for f in self.fields):
            out |= {"lo", "n"}
        if any(isinstance(f, Connect) and f.slice == "samples" for f in self.fields):
            out |= {"b0", "nb"}
        return frozenset(out)


@dataclass(frozen=True)
class Call:
    """One vertex group of an element: builder(graph, compute set, elements..., constants...)."""

    builder: str
    compute_set: str
    elements: tuple[str, ...]  # element ids, "" for the globals
    constants: tuple[int, ...]


@dataclass(frozen=True)
class HostTensor:
    """One tensor of an element and what the host does with it."""

    what: str
    dtype: str
    layout: str  # MAPS' C++ name
    rows: int
    param: bool  # a per-neuron parameter written from INIT ("<what>.<element>")
    zero: bool  # zero-initialised: the host does not always write it
    write: bool  # a host write handle
    read: bool  # a host read handle
    copy: bool = False  # the float16 copy of w or b: the host writes it from the master after loading

    @property
    def element_type(self) -> str:
        """program_driver.hpp's name of the element type."""
        return {"float": "FLOAT_ELEMENTS", "half": "HALF_ELEMENTS", "unsigned": "UNSIGNED_ELEMENTS"}[self.dtype]


@dataclass(frozen=True)
class ElementRow:
    """One element: what the driver allocates and reads back of it, and its vertex groups."""

    element: Element
    size: int  # neurons; a projection's targets
    rows: int  # list capacity; a projection's inputs
    flags: tuple[str, ...]
    tensors: tuple[HostTensor, ...]
    calls: tuple[Call, ...]


@dataclass(frozen=True)
class HostProgram:
    forward_step: tuple[int, ...]  # compute-set indices of one forward timestep
    backward_step: tuple[int, ...]
    loss: int
    update: int
    builders: tuple[Builder, ...]
    elements: tuple[ElementRow, ...]
    globals_element: int
    input_element: int

    @property
    def handles(self) -> tuple[int, int]:
        """(host write handles, host read handles)."""
        ts = [t for e in self.elements for t in e.tensors]
        return sum(t.write for t in ts), sum(t.read for t in ts)


def _parameter(f: Field) -> str:
    return {"self": "self", "source": "source", "target": "target", "global": "globals",
            "in": f"in{f.index}", "in_source": f"src{f.index}"}[f.role]


def _element_order(names) -> tuple[str, ...]:
    def key(n: str):
        if n in ("self", "source", "target"):
            return ("self", "source", "target").index(n), 0
        if n == "globals":
            return 9, 0
        k = int(n[3:] if n.startswith("src") else n[2:])
        return 3, 2 * k + n.startswith("src")
    return tuple(sorted(set(names), key=key))


def _binding(fields: tuple[Field, ...]):
    """(element parameters, constant parameters, field bindings) of one binding pattern."""
    out: list[Connect | Value] = []
    consts: list[tuple[str, str]] = []
    for f in fields:
        if f.role == "value":
            if f.what in TILE_VALUES:
                out.append(Value(f.name, f.what))
            else:
                consts.append(("int" if f.what in LITERALS else "unsigned", f.name))
                out.append(Value(f.name, f.name))
        else:
            out.append(Connect(f.name, _parameter(f), f.what, f.slice))
    return _element_order(c.element for c in out if isinstance(c, Connect)), tuple(consts), tuple(out)


def _base_name(vertex: str) -> str:
    # "snncc_model::Forward_lif_subtract_ib<float>" -> "Forward_lif_subtract_ib"
    return "add" + vertex.split("::")[-1].split("<")[0]


def host_program(prog: Program) -> HostProgram:
    index = {name: k for k, name in enumerate(prog.compute_sets)}
    pops = {p.id: p for p in prog.populations}
    projs = {pr.id: pr for pr in prog.projections}
    over = {v.name: v.decl.over for v in prog.vertex_types}

    # one builder per (vertex type, binding pattern), in order of first use
    builders: dict[tuple[str, int], Builder] = {}
    patterns_of: dict[str, list] = {}
    chunks_of: dict[str, set[str]] = {}
    for e in prog.elements:
        for g in e.groups:
            binding = _binding(prog.patterns[g.pattern].fields)
            seen = patterns_of.setdefault(g.vertex, [])
            if binding not in seen:
                seen.append(binding)
            if any(isinstance(f, Value) and f.value == "ne" for f in binding[2]):
                chunks_of.setdefault(g.vertex, set()).update(_what(e, t) for t in e.tensors if t.layout == "chunks")
    for vertex, bindings in patterns_of.items():
        for k, (elements, consts, fields) in enumerate(bindings):
            name = _base_name(vertex)
            if len(bindings) > 1:
                first = next((f for f in fields if isinstance(f, Connect)), None)
                name += "_" + (first.what if first and len({b[2][0] for b in bindings}) == len(bindings) else str(k))
            if any(b.name == name for b in builders.values()):
                raise ValueError(f"two vertex builders named {name}")
            chunks = sorted(chunks_of.get(vertex, ()))
            if len(chunks) > 1:
                raise ValueError(f"{vertex}: 'ne' of which chunks tensor: {chunks}")
            builders[vertex, k] = Builder(name, vertex, over[vertex], elements, consts, fields, "".join(chunks))

    def element_id(e: Element, parameter: str) -> str:
        if parameter == "self":
            return e.id
        if parameter == "globals":
            return ""
        if parameter in ("source", "target"):
            return prog.elements[e.source if parameter == "source" else e.target].id
        k = int(parameter[3:] if parameter.startswith("src") else parameter[2:])
        pr = prog.elements[e.incoming[k]]
        return pr.id if parameter.startswith("in") else prog.elements[pr.source].id

    rows = []
    for e in prog.elements:
        consts = dict(e.values)
        calls = []
        for g in e.groups:
            fields = prog.patterns[g.pattern].fields
            b = builders[g.vertex, patterns_of[g.vertex].index(_binding(fields))]
            src = {f.name: f.what for f in fields if f.role == "value"}
            calls.append(Call(b.name, prog.compute_sets[g.compute_set], tuple(element_id(e, p) for p in b.elements),
                              tuple(LITERALS[src[c]] if src[c] in LITERALS else consts[src[c]]
                                    for _, c in b.constants)))
        rows.append(_row(e, pops, projs, prog.optimizer.state_copies, tuple(calls)))
    return HostProgram(
        tuple(index[c.name] for c in prog.forward), tuple(index[c.name] for c in prog.backward),
        index[prog.loss_step.name], index[prog.update.name], tuple(builders.values()), tuple(rows),
        len(prog.elements) - 1, next(k for k, e in enumerate(prog.elements) if e.id == prog.input.id))


def checkpoint_tensors(state_copies: tuple[str, ...]) -> frozenset[str]:
    """A projection's tensors that a checkpoint carries ("dev.<projection>.<what>"): the
    weights, the bias and their optimizer state."""
    return frozenset(("w", "b") + tuple(state_copies) + tuple(BIAS_NAMES[s] for s in state_copies))


def _what(e: Element, t: TensorSpec) -> str:
    return t.name[len(e.id) + 1:] if e.id else t.name


def _row(e: Element, pops: dict[str, PopulationProgram], projs: dict[str, ProjectionProgram],
         state_copies: tuple[str, ...], calls: tuple[Call, ...]) -> ElementRow:
    def tensor(t: TensorSpec, write: bool, read: bool, always: bool, copy: bool = False) -> HostTensor:
        return HostTensor(_what(e, t), t.dtype, MAPS[t.layout], t.rows, t.init, not always, write, read, copy)

    if e.kind == "population":
        p = pops[e.id]
        has = {_what(e, t) for t in e.tensors}
        flags = ((("SPIKES",) if p.spikes else ()) + (("GRAD_MASK",) if p.sparse_backward else ())
                 + (("OVERFLOW_ERROR",) if p.spikes and p.overflow == "error" else ())
                 + (("MEMBRANE",) if "mem" in has else ()) + (("SYNAPSE",) if "syn" in has else ()))
        # single-batch results read back: the spike ids (counts and overflow come through the
        # per-batch output streams), the membrane and synaptic-current histories
        read = {"ids", "mem", "syn"} & has
        return ElementRow(e, p.size, p.capacity, flags,
                          tuple(tensor(t, t.init, _what(e, t) in read, t.init) for t in e.tensors), calls)
    if e.kind == "projection":
        pr = projs[e.id]
        ckpt = checkpoint_tensors(state_copies)
        copies = {"wh", BIAS_NAMES["wh"]}  # the float16 copies (mixed precision)
        return ElementRow(e, pr.n_out, pr.n_in, ("PROJECTION",) + (("BIAS",) if pr.bias else ()),
                          tuple(tensor(t, _what(e, t) in ckpt | copies, _what(e, t) in ckpt | {"dw", "db"},
                                       _what(e, t) in {"w", "b"} | copies, _what(e, t) in copies)
                                for t in e.tensors), calls)
    # the globals: the labels, optimizer scalars and timestep are streamed or copied in, the
    # loss and scores streamed out
    return ElementRow(e, 0, 0, (), tuple(tensor(t, False, False, False) for t in e.tensors), calls)
