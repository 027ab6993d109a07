"""What one training step allocates, written once: the tensors and the vertices (with their
fields) of every population and projection.

The lowering (snncc.lower) turns these declarations into the Program that codegen renders;
the memory model (snncc.partition.memory) sums the same declarations per tile. So the plan's
bytes per tile and what the generated program allocates cannot drift apart.

The builders read a population's or projection's record (snncc.vertices.facts), never the IR.

Tensor layouts (all tensors flat, one contiguous slice per tile; see snncc/lower/program.py):
"neuron" rows per neuron on the population's tiles, "list" rows per sample on its list
tiles, "partials" rows per target tile, "chunks" rows split over a projection's target
tiles by the slicing rule, "single" rows on the readout's first tile.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Literal

from .facts import PopulationFacts, ProjectionFacts, counts_spikes, optimizer_family, state_copies

Layout = Literal["neuron", "list", "partials", "chunks", "single"]
DType = Literal["float", "half", "unsigned"]

#: bytes of a float32 or uint32 element
ELEMENT_BYTES = 4
#: bytes of an element of each type the program allocates
DTYPE_BYTES: dict[str, int] = {"float": 4, "half": 2, "unsigned": 4}
#: vertex state bytes of one field: a scalar edge, a ONE_PTR vector edge and an unsigned
#: state member are 4 bytes each in the host runtime's (and Poplar's) accounting (docs/runtime.md)
FIELD_BYTES = 4

#: the bias tensor that goes with each weight-shaped tensor ("wh": the float16 copy of w)
BIAS_NAMES = {"w": "b", "wh": "bh", "dw": "db", "m": "bm", "v": "bv", "buf": "bbuf"}


def state_type(half: bool) -> DType:
    """The type the network's state is stored in (membranes, synaptic currents, the weight
    copies it computes with): float16 in mixed precision (docs/training.md), else float32.
    Sums, gradients, parameters and the optimizer stay float32."""
    return "half" if half else "float"


def network_weights(half: bool) -> str:
    """The weight tensor the forward and the input gradient read: the float16 copy or w."""
    return "wh" if half else "w"


@dataclass(frozen=True)
class TensorDecl:
    """One variable: `<element>.<what>` (or a global name), mapped by layout."""

    what: str
    dtype: DType
    layout: Layout
    rows: int  # values per neuron ("neuron"), per sample ("list"), per tile ("partials"), all ("single")
    category: str  # memory category (snncc.partition.memory.CATEGORIES)
    init: bool = False  # written from the INIT file ("<what>.<element>", one value per neuron)


@dataclass(frozen=True)
class Field:
    """One vertex field and what it is connected to.

    role: whose tensor the edge reads: "self" (the vertex's element), "source"/"target" (of
    a projection), "in" / "in_source" (incoming projection `index` of a population, or its
    source), "global" (what is the whole name); "value": a state member set per tile,
    what in {"n", "lo", "b0", "nb", "+1", "-1"} (from the tile) or the name of one of the
    element's constants (snncc.lower: capacities, delays, tile counts). slice: "whole" tensor, the vertex tile's
    "tile" slice, or element "0" (a scalar edge); "none" for values. A vertex is connected only to
    what it reads, so three slices gather blocks from several tiles (a concat of slices):
    "samples" (a list tile's samples [b0, b0 + nb) of a [B][n]-per-tile neuron tensor: per neuron
    tile i, its block [nb][n_i], at offset nb lo_i), "chunk" (a target tile's chunk [e0, e1) of
    the E entries of every target tile's partials: per tile p, partials[p][e0, e1)), "columns" (a
    source tile's neurons [lo, hi) of each of the B rows of a [B][G] chunks tensor).
    """

    name: str
    io: Literal["Input", "Output", "InOut", "state"]
    elem: Literal["T", "float", "half", "unsigned"]  # T: the vertex class's state type (state_type)
    vector: bool
    role: Literal["self", "source", "target", "in", "in_source", "global", "value"]
    what: str
    slice: Literal["whole", "tile", "elem0", "samples", "chunk", "columns", "none"]
    index: int = 0
    doc: str = ""
    span: bool = False  # a SPAN vector (pointer and size, 8 bytes of state) instead of ONE_PTR

    @property
    def state_bytes(self) -> int:
        return 8 if self.span else FIELD_BYTES


@dataclass(frozen=True)
class VertexDecl:
    """A vertex kind of one element: instantiated once per tile of `over`."""

    family: str  # Forward, Compact, Backward, WeightGrad, ReduceSum, Reduce, Loss, AdamUpdate, SgdUpdate, SgdPlainUpdate, Tick
    over: Literal["neurons", "source_neurons", "lists", "single"]  # a projection's "neurons" are its target's
    fields: tuple[Field, ...]
    generic: bool = False  # a model-independent vertex of snncc_generic.cpp

    @property
    def state_bytes(self) -> int:
        return sum(f.state_bytes for f in self.fields)

    @cached_property
    def remote_fields(self) -> tuple[Field, ...]:
        """The fields that may connect to data on other tiles (not values, not the tile's own slice)."""
        return tuple(f for f in self.fields if f.role != "value" and f.slice not in ("tile", "none"))


def _t() -> Field:
    return Field("t", "Input", "unsigned", False, "global", "t", "elem0")


def _vec(name, io, elem, role, what, sl="tile", index=0, doc="") -> Field:
    return Field(name, io, elem, True, role, what, sl, index, doc)


def _val(name, what) -> Field:
    return Field(name, "state", "unsigned", False, "value", what, "none")


#: the fields of a record the builders never read, so records that differ only in ids share
#: one memoised declaration
_ID_FIELDS = frozenset({"id", "source", "target"})
_MEMO_LIMIT = 1 << 14


def _shape_key(arg):
    """A hashable stand-in for an argument; TypeError for one the memo cannot describe."""
    if isinstance(arg, (str, int, float, bool)) or arg is None:
        return (type(arg).__name__, arg)
    if isinstance(arg, (tuple, list)):
        return ("sequence",) + tuple(_shape_key(a) for a in arg)
    if isinstance(arg, (PopulationFacts, ProjectionFacts)):
        return (type(arg).__name__,) + tuple(getattr(arg, f.name) for f in dataclasses.fields(arg)
                                             if f.name not in _ID_FIELDS)
    raise TypeError(f"no shape of {type(arg).__name__}")


def _by_shape(builder):
    """Memoise a builder on the shape of its arguments: a model of many alike populations
    builds each declaration once, not once per population and use (planning, lowering)."""
    memo: dict = {}

    @wraps(builder)
    def build(*args):
        try:
            key = tuple(_shape_key(a) for a in args)
            hit = memo.get(key)
        except TypeError:  # an argument the key cannot describe, or an unhashable attribute
            return builder(*args)
        if hit is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            hit = memo[key] = builder(*args)
        return hit

    return build


# --------------------------------------------------------------------------- tensors


#: per-neuron parameters of a neuron population, by what: tensors of one value per neuron on
#: its tiles (beta and alpha clamped to [0, 1]; gradient_level = gradient_threshold x threshold)
def neuron_parameters(p: PopulationFacts) -> tuple[str, ...]:
    out = ["beta"]
    if p.model == "cuba_lif":
        out.append("alpha")
    if p.model != "li":
        out.append("threshold")
    if p.sparse_backward:
        out.append("gradient_level")
    return tuple(out)


@_by_shape
def population_tensors(p: PopulationFacts, timesteps: int, batch: int) -> tuple[TensorDecl, ...]:
    out: list[TensorDecl] = []
    if p.spikes:  # spike-id lists [sample][timestep][entry] on the list tiles
        out += [TensorDecl("ids", "unsigned", "list", timesteps * p.capacity, "history"),
                TensorDecl("counts", "unsigned", "list", timesteps * 2, "history"),
                TensorDecl("overflow", "unsigned", "list", timesteps, "history"),
                # what consumers connect to: the lists of the last ring_slots timesteps, slot t mod
                # slots (forward: written by Compact or ListSlot; backward: restored by ListSlot)
                TensorDecl("ringIds", "unsigned", "list", p.ring_slots * p.capacity, "spike_lists"),
                TensorDecl("ringCounts", "unsigned", "list", p.ring_slots * 2, "spike_lists")]
    if p.kind != "neuron":
        return tuple(out)
    state = state_type(p.half)
    out.append(TensorDecl("mem", state, "neuron", (timesteps + 1) * batch, "history"))
    if p.half:  # the input sums of timestep t, float32 (the float32 path sums into row t + 1 of mem)
        out.append(TensorDecl("current", "float", "neuron", batch, "history"))
    if p.spikes:  # what Compact reads of timestep t, per neuron and sample: 2 spikes (U - threshold > 0),
        # 1 a gradient id candidate (a sparse backward: else U >= gradient level), 0 neither
        out.append(TensorDecl("code", "unsigned", "neuron", batch, "spike_lists"))
    if p.model == "cuba_lif":
        out.append(TensorDecl("syn", state, "neuron", (timesteps + 1) * batch, "history"))
        out.append(TensorDecl("carrySyn", "float", "neuron", batch, "gradients"))
    out += [TensorDecl(what, "float", "neuron", 1, "state", init=True) for what in neuron_parameters(p)]
    out += [TensorDecl("dS", "float", "neuron", p.ring_slots * batch, "gradients"),
            TensorDecl("carryU", "float", "neuron", batch, "gradients"),
            TensorDecl("dI", "float", "neuron", batch, "gradients")]
    return tuple(out)


@_by_shape
def projection_tensors(pr: ProjectionFacts, batch: int, state_copies: tuple[str, ...]) -> tuple[TensorDecl, ...]:
    """Weights and their gradients and optimizer state on the target's tiles, [in][n]; in
    mixed precision also the float16 copy of the weights (and bias) the network computes with."""
    out: list[TensorDecl] = []
    for what in ("w",) + (("wh",) if pr.half else ()) + ("dw",) + tuple(state_copies):
        cat = {"w": "weights", "wh": "weights", "dw": "gradients"}.get(what, "optimizer")
        dtype = "half" if what == "wh" else "float"
        out.append(TensorDecl(what, dtype, "neuron", pr.n_in, cat))
        if pr.bias:
            out.append(TensorDecl(BIAS_NAMES[what], dtype, "neuron", 1, cat))
    if pr.input_gradient:  # per target tile [B][G], and their sum over the target tiles, chunked
        out.append(TensorDecl("partials", "float", "partials", batch * pr.grad_slots, "reduction"))
        out.append(TensorDecl("sums", "float", "chunks", batch * pr.grad_slots, "reduction"))
    return tuple(out)


@_by_shape
def global_tensors(classes: int, batch: int, decoding: str) -> tuple[TensorDecl, ...]:
    """The timestep counter, optimizer scalars, labels and the loss, on the readout's first tile."""
    out = [TensorDecl("t", "unsigned", "single", 1, "state"),
           TensorDecl("hyper", "float", "single", 8, "state"),
           TensorDecl("labels", "unsigned", "single", batch, "state"),
           TensorDecl("scores", "float", "single", batch * classes, "state"),
           TensorDecl("loss", "float", "single", batch, "state"),
           TensorDecl("dScore", "float", "single", batch * classes, "state")]
    if decoding == "membrane_max":
        out.append(TensorDecl("tMax", "unsigned", "single", batch * classes, "state"))
    return tuple(out)


#: constants of the control program (first and last timestep), on the readout's first tile
CONSTANT_BYTES = 2 * ELEMENT_BYTES


# --------------------------------------------------------------------------- vertices


def _params(p: PopulationFacts, names, sl="tile") -> list[Field]:
    """Edges to the population's per-neuron parameter tensors (those it has, of `names`)."""
    have = neuron_parameters(p)
    return [_vec(w, "Input", "float", "self", w, sl, doc="[n]" if sl == "tile" else "[N]") for w in names if w in have]


@_by_shape
def forward_vertex(p: PopulationFacts, incoming: tuple[ProjectionFacts, ...]) -> VertexDecl:
    fields = [_t(), _vec("mem", "InOut", "T", "self", "mem", doc="[(T + 1) B][n]")]
    if p.spikes:
        fields.append(_vec("code", "Output", "unsigned", "self", "code", doc="[B][n]: the spike codes of row t + 1"))
    if p.model == "cuba_lif":
        fields.append(_vec("syn", "InOut", "T", "self", "syn", doc="[(T + 1) B][n]"))
    if p.half:
        fields.append(_vec("current", "Output", "float", "self", "current", doc="[B][n]: the input sums of t"))
    fields += _params(p, ("beta", "alpha", "threshold", "gradient_level"))
    for k, pr in enumerate(incoming):
        wt = network_weights(pr.half)
        fields += [_vec(f"ids{k}", "Input", "unsigned", "in_source", "ringIds", "whole", k,
                        f"source {k}: [B][slots{k}][C{k}]"),
                   _vec(f"counts{k}", "Input", "unsigned", "in_source", "ringCounts", "whole", k, f"[B][slots{k}][2]"),
                   _vec(f"w{k}", "Input", "T", "in", wt, "tile", k, "[source size][n]")]
        if pr.bias:
            fields.append(_vec(f"b{k}", "Input", "T", "in", BIAS_NAMES[wt], "tile", k, "[n]"))
        fields += [_val(f"C{k}", f"C{k}"), _val(f"delay{k}", f"delay{k}"), _val(f"slots{k}", f"slots{k}")]
    fields.append(_val("n", "n"))
    return VertexDecl("Forward", "neurons", tuple(fields))


@_by_shape
def compact_vertex(p: PopulationFacts) -> VertexDecl:
    """A list tile's lists of timestep t from the spike codes of its samples (only those)."""
    return VertexDecl("Compact", "lists", (
        _t(), _vec("code", "Input", "unsigned", "self", "code", "samples",
                   doc="timestep t: per neuron tile j, [nb][n_j] at offset nb lo_j"),
        _vec("ids", "InOut", "unsigned", "self", "ids", doc="[nb][T][C]: writes timestep t"),
        _vec("counts", "InOut", "unsigned", "self", "counts", doc="[nb][T][2]"),
        _vec("overflow", "InOut", "unsigned", "self", "overflow", doc="[nb][T]"),
        _vec("ringIds", "InOut", "unsigned", "self", "ringIds", doc="[nb][slots][C]: writes slot t mod slots"),
        _vec("ringCounts", "InOut", "unsigned", "self", "ringCounts", doc="[nb][slots][2]"),
        _val("nb", "nb"), _val("C", "C"), _val("tiles", "tiles"), _val("q", "q"), _val("r", "r"),
        _val("slots", "slots")))


@_by_shape
def list_slot_vertex(lagged: bool) -> VertexDecl:
    """Copies one timestep of a list tile's list history into its ring slot (local): forward
    (input lists, streamed as a history) timestep t; backward timestep t - lag, lag = slots - 1,
    so that the ring holds timesteps t - lag .. t for the reverse timestep t."""
    fields = [_t(), _vec("ids", "Input", "unsigned", "self", "ids", doc="[nb][T][C]"),
              _vec("counts", "Input", "unsigned", "self", "counts", doc="[nb][T][2]"),
              # InOut: an execution writes one slot of the ring, the others must persist
              _vec("ringIds", "InOut", "unsigned", "self", "ringIds", doc="[nb][slots][C]"),
              _vec("ringCounts", "InOut", "unsigned", "self", "ringCounts", doc="[nb][slots][2]"),
              _val("nb", "nb"), _val("C", "C"), _val("slots", "slots")]
    if lagged:
        fields.append(_val("lag", "lag"))
    return VertexDecl("ListSlot", "lists", tuple(fields))


@_by_shape
def backward_vertex(p: PopulationFacts, decoding: str) -> VertexDecl:
    fields = [_t(), _vec("mem", "Input", "T", "self", "mem", doc="[(T + 1) B][n]"),
              _vec("dS", "InOut", "float", "self", "dS", doc="[ring B][n]"),
              _vec("carryU", "InOut", "float", "self", "carryU", doc="[B][n]"),
              _vec("dI", "InOut", "float", "self", "dI", doc="[B][n]")]
    if p.model == "cuba_lif":
        fields.append(_vec("carrySyn", "InOut", "float", "self", "carrySyn", doc="[B][n]"))
    fields += _params(p, ("beta", "alpha", "threshold"))
    if p.sparse_backward:
        fields += [_vec("ids", "Input", "unsigned", "self", "ringIds", "whole", doc="own lists [B][slots][C]"),
                   _vec("counts", "Input", "unsigned", "self", "ringCounts", "whole", doc="[B][slots][2]")]
    if p.is_readout:
        fields.append(_vec("dScore", "Input", "float", "global", "dScore", "whole", doc="[B][classes]"))
        if decoding == "membrane_max":
            fields.append(_vec("tMax", "Input", "unsigned", "global", "tMax", "whole", doc="[B][classes]"))
    fields += [_val("n", "n"), _val("lo", "lo"), _val("slots", "slots")]
    if p.sparse_backward:
        fields.append(_val("C", "C"))
    return VertexDecl("Backward", "neurons", tuple(fields))


@_by_shape
def weightgrad_vertex(pr: ProjectionFacts) -> VertexDecl:
    fields = [_t(), _vec("ids", "Input", "unsigned", "source", "ringIds", "whole", doc="source: [B][slots][C]"),
              _vec("counts", "Input", "unsigned", "source", "ringCounts", "whole", doc="[B][slots][2]"),
              _vec("dI", "Input", "float", "target", "dI", doc="[B][n]"),
              _vec("dw", "InOut", "float", "self", "dw", doc="[nin][n]")]
    if pr.bias:
        fields.append(_vec("db", "InOut", "float", "self", "db", doc="[n]"))
    if pr.input_gradient:
        fields += [_vec("w", "Input", "T", "self", network_weights(pr.half), doc="[nin][n]"),
                   _vec("partials", "Output", "float", "self", "partials", doc="[B][G]"), _val("G", "G")]
    fields += [_val("n", "n"), _val("C", "C"), _val("nin", "nin"), _val("delay", "delay"), _val("slots", "slots")]
    return VertexDecl("WeightGrad", "neurons", tuple(fields))


@_by_shape
def reduce_sum_vertex() -> VertexDecl:
    """The first level of the input-gradient reduction: a target tile sums its chunk of the E
    entries of every target tile's partials (exchange E e per tile, not P E e)."""
    return VertexDecl("ReduceSum", "neurons", (
        _vec("partials", "Input", "float", "self", "partials", "chunk", doc="[P][e1 - e0]: the tile's chunk of every tile"),
        _vec("sums", "Output", "float", "self", "sums", doc="[e1 - e0]"), _val("P", "P"), _val("ne", "ne")))


@_by_shape
def reduce_vertex(source_sparse_backward: bool) -> VertexDecl:
    """The second level: a source tile adds the summed input gradients of its neurons into its dS ring
    (a sparse backward: of the listed ids, so every sample's entries; otherwise its columns)."""
    if source_sparse_backward:
        fields = [_t(), _vec("sums", "Input", "float", "self", "sums", "whole", doc="[B][G]: per listed id"),
                  _vec("ids", "Input", "unsigned", "source", "ringIds", "whole", doc="source: [B][slots][C]"),
                  _vec("counts", "Input", "unsigned", "source", "ringCounts", "whole", doc="[B][slots][2]"),
                  _val("C", "C")]
    else:
        fields = [_t(), _vec("sums", "Input", "float", "self", "sums", "columns", doc="[B][n]: the tile's neurons")]
    fields += [_vec("dS", "InOut", "float", "source", "dS", doc="[ring B][n]"), _val("n", "n"), _val("lo", "lo"),
               _val("G", "G"), _val("delay", "delay"), _val("slots", "slots")]
    return VertexDecl("Reduce", "source_neurons", tuple(fields))


@_by_shape
def optimizer_vertices(bias: bool, family: str, state_copies: tuple[str, ...]) -> tuple[VertexDecl, ...]:
    """One update vertex per target tile for a projection's weights, and one for its bias (a
    family ending in "Half" also writes the float16 copy the network computes with)."""
    out = []
    for w, g in (("w", "dw"),) + ((("b", "db"),) if bias else ()):
        fields = [Field("w", "InOut", "T", True, "self", w, "tile", span=True), _vec("g", "Input", "T", "self", g)]
        fields += [_vec(s, "InOut", "T", "self", s if w == "w" else BIAS_NAMES[s]) for s in state_copies]
        if family.endswith("Half"):
            fields.append(_vec("copy", "Output", "half", "self", "wh" if w == "w" else "bh"))
        fields.append(_vec("hyper", "Input", "float", "global", "hyper", "whole"))
        out.append(VertexDecl(family, "neurons", tuple(fields), generic=True))
    return tuple(out)


def generic_vertices() -> dict[str, VertexDecl]:
    """Every vertex of snncc_generic.cpp (the host build registers them all), by family."""
    out = {optimizer_family(kind, momentum, half): optimizer_vertices(False, optimizer_family(kind, momentum, half),
                                                                       state_copies(kind, momentum))[0]
           for kind, momentum in (("adam", 0.0), ("sgd", 1.0), ("sgd", 0.0)) for half in (False, True)}
    out["Tick"] = tick_vertex("+1")
    return out


@_by_shape
def loss_vertex(decoding: str, loss_kind: str) -> VertexDecl:
    fields = [_vec("labels", "Input", "unsigned", "global", "labels", "whole", doc="[B]"),
              _vec("hyper", "Input", "float", "global", "hyper", "whole",
                   doc="[8]: [7] the training batch's real samples over all replicas, 0: this replica's")]
    if counts_spikes(decoding, loss_kind):
        fields += [_vec("ids", "Input", "unsigned", "self", "ids", "whole", doc="readout lists [B][T][C]"),
                   _vec("counts", "Input", "unsigned", "self", "counts", "whole", doc="[B][T][2]")]
    if decoding != "spike_count":
        fields.append(_vec("mem", "Input", "T", "self", "mem", "whole", doc="readout, neuron block layout"))
    fields += [_vec("scores", "Output", "float", "global", "scores", "whole", doc="[B][classes]"),
               _vec("loss", "Output", "float", "global", "loss", "whole", doc="[B]"),
               _vec("dScore", "Output", "float", "global", "dScore", "whole", doc="[B][classes]")]
    if decoding == "membrane_max":
        fields.append(_vec("tMax", "Output", "unsigned", "global", "tMax", "whole", doc="[B][classes]"))
    return VertexDecl("Loss", "single", tuple(fields))


@_by_shape
def tick_vertex(delta: str) -> VertexDecl:
    return VertexDecl("Tick", "single", (Field("t", "InOut", "unsigned", False, "global", "t", "elem0"),
                                         _val("delta", delta)), generic=True)
