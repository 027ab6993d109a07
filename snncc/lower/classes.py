"""Codelet classes: what the codelet templates lay out, decided here (program.cpp's
builders and element rows: snncc.lower.host).

A codelet class of codelets/model.cpp is shared by every population or projection whose
code is the same. Each vertex family has a frozen record holding exactly what its
codelet text depends on (templates/codelets/<family>.cpp.j2 lays one out), and the
class name is the record's `key`: the lowering names a vertex type by the record of its
member (`class_keys`, `class_keys_projection`), and `codelets` rebuilds the record of
every member from the Program and refuses one name with two records, so the name and
the template's branches cannot drift apart.

Records:

- Forward: neuron model, reset, whether it spikes (writes the spike codes) and per incoming
  projection whether it has a bias and a delay > 0.
- Compact: whether gradient ids follow the spikes (a sparse backward).
- ListSlot: whether the copy lags (the reverse pass: timestep t - lag).
- Backward: neuron model, reset, spikes, sparse backward, readout (the readout's score
  gradient comes from the program-wide `Scores`).
- WeightGrad: bias, input gradient, rows of the source's listed ids (its sparse
  backward), delay > 0. ReduceSum: nothing (one class). Reduce: the source's listed ids,
  delay > 0.
- Scores: the loss and decoding, the readout's classes, capacity and slicing, for the
  Loss vertex and the readout's Backward.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from ..vertices import counts_spikes
from .program import Element, Program


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ForwardInput:
    """One incoming projection of a Forward class."""

    bias: bool
    delayed: bool  # delay > 0: nothing arrives before timestep delay


@dataclass(frozen=True)
class ForwardClass:
    family: ClassVar[str] = "Forward"
    model: str
    reset: str
    spikes: bool  # writes the spike codes Compact reads (implied by the model: not in the key)
    gradient_ids: bool  # the codes mark gradient id candidates (a sparse backward)
    inputs: tuple[ForwardInput, ...]

    @property
    def key(self) -> str:
        return f"Forward_{self.model}_{self.reset}" + ("_g" if self.gradient_ids else "") + "".join(
            "_i" + ("b" if i.bias else "") + ("d" if i.delayed else "") for i in self.inputs)


@dataclass(frozen=True)
class CompactClass:
    family: ClassVar[str] = "Compact"
    gradient_ids: bool  # then the non-spiking neurons with U >= gradient level

    @property
    def key(self) -> str:
        return "Compact" + ("_g" if self.gradient_ids else "")


@dataclass(frozen=True)
class ListSlotClass:
    family: ClassVar[str] = "ListSlot"
    lagged: bool  # the reverse pass copies timestep t - lag

    @property
    def key(self) -> str:
        return "ListSlot" + ("_lag" if self.lagged else "")


@dataclass(frozen=True)
class BackwardClass:
    family: ClassVar[str] = "Backward"
    model: str
    reset: str
    spikes: bool
    sparse_backward: bool
    readout: bool  # adds the readout's score gradient (Scores)

    @property
    def key(self) -> str:
        return (f"Backward_{self.model}_{self.reset}" + ("_s" if self.spikes else "")
                + ("_g" if self.sparse_backward else "") + ("_readout" if self.readout else ""))


@dataclass(frozen=True)
class WeightGradClass:
    family: ClassVar[str] = "WeightGrad"
    bias: bool
    input_gradient: bool  # partial input gradients for the source
    listed_rows: bool  # with an input gradient: only the source's listed ids (its sparse backward)
    delayed: bool

    @property
    def key(self) -> str:
        x = ("_x" + ("_g" if self.listed_rows else "")) if self.input_gradient else ""
        return "WeightGrad" + ("_b" if self.bias else "") + x + ("_d" if self.delayed else "")


@dataclass(frozen=True)
class ReduceSumClass:
    family: ClassVar[str] = "ReduceSum"

    @property
    def key(self) -> str:
        return "ReduceSum"


@dataclass(frozen=True)
class ReduceClass:
    family: ClassVar[str] = "Reduce"
    listed: bool  # the source's listed ids only (its sparse backward)
    delayed: bool

    @property
    def key(self) -> str:
        return "Reduce" + ("_g" if self.listed else "") + ("_d" if self.delayed else "")


@dataclass(frozen=True)
class Scores:
    """The Loss vertex, and what the readout's Backward takes of it."""

    family: ClassVar[str] = "Loss"
    kind: str  # cross_entropy or mse_count
    decoding: str  # spike_count, membrane_sum or membrane_max
    readout: str  # population id
    classes: int
    counts_spikes: bool  # scores or loss count spikes: dScore is dL/dS for every timestep
    capacity: int  # the readout's list entries per sample and timestep
    neurons_per_tile: int  # the readout's slicing rule (q, r)
    remainder: int
    on_count: int  # mse_count targets
    off_count: int

    @property
    def key(self) -> str:
        return "Loss"


CodeletRecord = (ForwardClass | CompactClass | ListSlotClass | BackwardClass | WeightGradClass | ReduceSumClass
                 | ReduceClass | Scores)


def forward_class(p, incoming) -> ForwardClass:
    nr = p.neuron
    return ForwardClass(nr.model, nr.reset, p.spikes, p.sparse_backward,
                        tuple(ForwardInput(pr.bias, pr.delay > 0) for pr in incoming))


def compact_class(p) -> CompactClass:
    return CompactClass(p.sparse_backward)


def list_slot_class(lagged: bool) -> ListSlotClass:
    return ListSlotClass(lagged)


def backward_class(p) -> BackwardClass:
    return BackwardClass(p.neuron.model, p.neuron.reset, p.spikes, p.sparse_backward, p.is_readout)


def weightgrad_class(pr, src) -> WeightGradClass:
    return WeightGradClass(pr.bias, pr.input_gradient, pr.input_gradient and src.sparse_backward, pr.delay > 0)


def reduce_sum_class(pr, src) -> ReduceSumClass:
    return ReduceSumClass()


def reduce_class(pr, src) -> ReduceClass:
    return ReduceClass(src.sparse_backward, pr.delay > 0)


def scores(prog: Program) -> Scores:
    ro = prog.population(prog.readout.population)
    return Scores(prog.loss.kind, prog.readout.decoding, ro.id, prog.readout.classes,
                  counts_spikes(prog.readout.decoding, prog.loss.kind), ro.capacity, ro.tiles.neurons_per_tile,
                  ro.tiles.remainder, prog.loss.on_count, prog.loss.off_count)


def class_keys(p, incoming) -> dict[str, str]:
    """Codelet class names of a neuron population's vertices, by family: its records' keys."""
    return {"Forward": forward_class(p, incoming).key, "Compact": compact_class(p).key,
            "Backward": backward_class(p).key}


def class_keys_projection(pr, src) -> dict[str, str]:
    """Codelet class names of a projection's vertices, by family: its records' keys."""
    return {"WeightGrad": weightgrad_class(pr, src).key, "ReduceSum": reduce_sum_class(pr, src).key,
            "Reduce": reduce_class(pr, src).key}


# --------------------------------------------------------------------------- classes of a Program


@dataclass(frozen=True)
class Codelet:
    """One class of codelets/model.cpp: its record, its fields (the VertexType's) and the
    template argument it is instantiated with (the program's state type)."""

    record: CodeletRecord
    fields: tuple
    state: str = "float"

    @property
    def family(self) -> str:
        return self.record.family

    @property
    def cls(self) -> str:
        return self.record.key


def member_records(prog: Program) -> tuple[tuple[str, str, CodeletRecord], ...]:
    """(member id, vertex type name, record) of every model vertex of every element but
    the Loss, in element order."""
    backward = {c.name for c in prog.backward}
    codelet = {v.name: v for v in prog.vertex_types}
    pops = {p.id: p for p in prog.populations}
    projs = {pr.id: pr for pr in prog.projections}

    def record(e: Element, family: str, reverse: bool) -> CodeletRecord:
        if family == "ListSlot":
            return list_slot_class(reverse)
        if e.kind == "population":
            p = pops[e.id]
            if family == "Forward":
                return forward_class(p, [projs[pid] for pid in p.incoming])
            return {"Compact": compact_class, "Backward": backward_class}[family](p)
        pr = projs[e.id]
        return {"WeightGrad": weightgrad_class, "ReduceSum": reduce_sum_class,
                "Reduce": reduce_class}[family](pr, pops[pr.source])

    out = []
    for e in prog.elements:
        for g in e.groups:
            vt = codelet[g.vertex]
            if vt.codelet != "model.cpp" or vt.decl.family == "Loss":
                continue
            out.append((e.id, vt.name, record(e, vt.decl.family, prog.compute_sets[g.compute_set] in backward)))
    return tuple(out)


def codelets(prog: Program) -> tuple[Codelet, ...]:
    """The classes of codelets/model.cpp but the Loss, by name. ValueError when two members
    of one class have different records or fields, or a class is not named by its record."""
    vts = {v.name: v for v in prog.vertex_types}
    patterns = {(e.id, g.vertex): prog.patterns[g.pattern] for e in prog.elements for g in e.groups}
    by_cls: dict[str, Codelet] = {}
    for member, name, record in member_records(prog):
        vt = vts[name]
        if record.key != vt.cls:
            raise ValueError(f"vertex type {vt.cls} of '{member}' has the record of {record.key}: {record}")
        seen = by_cls.setdefault(vt.cls, Codelet(record, vt.fields, vt.state))
        if seen.record != record:
            raise ValueError(f"codelet class {vt.cls}: '{member}' has {record}, another member {seen.record}")
        if patterns[member, name].fields != tuple(replace(f, doc="") for f in vt.fields):
            raise ValueError(f"codelet class {vt.cls}: '{member}' declares other fields than its class")
    return tuple(by_cls[k] for k in sorted(by_cls))


def loss_codelet(prog: Program) -> Codelet:
    """The Loss vertex of codelets/model.cpp."""
    vt = next(v for v in prog.vertex_types if v.decl.family == "Loss")
    return Codelet(scores(prog), vt.fields, vt.state)
