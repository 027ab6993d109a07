"""Lowering: IR + Plan -> Program (tensors with tile layouts, compute sets, control program).

`lower(ir, plan) -> Program`. Deterministic: populations and projections in spec order,
stages in schedule order. Raises LoweringError (one line) for what the code generator
does not support yet.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import vertices as V
from ..ir import ModelGraph
from ..partition.plan import Plan
from ..vertices import BIAS_NAMES
from . import host as _host
from .check import check_program
from .classes import class_keys, class_keys_projection
from .program import (
    Element, Group, Loss, Neuron, Optimizer, Pattern, PopulationProgram, Program, ProjectionProgram, Readout,
    Surrogate, TensorSpec, TileRange, VertexType,
)

__all__ = ["BIAS_NAMES", "LoweringError", "Program", "check_program", "lower", "neuron_parameters"]


class LoweringError(ValueError):
    """The model is valid but the code generator cannot lower it (yet)."""


def f32(x: float) -> float:
    """x rounded to float32, as torch applies a Python scalar to a float32 tensor."""
    return float(np.float32(x))


def _surrogate(s) -> Surrogate:
    for attr in ("slope", "alpha", "width"):
        if hasattr(s, attr):
            return Surrogate(s.kind, float(getattr(s, attr)))
    raise LoweringError(f"surrogate '{s.kind}' has no parameter the code generator knows")


def lower(ir: ModelGraph, plan: Plan) -> Program:
    st = ir.settings
    replicas = st.target.replication_factor
    if st.batch_size % replicas:
        raise LoweringError(f"batch_size {st.batch_size} does not split evenly over replication_factor = {replicas}")
    batch = st.batch_size // replicas  # each replica's share of every batch
    for proj in ir.projections:
        if proj.connectivity != "dense":
            raise LoweringError(f"projection '{proj.id}': sparse connectivity is not supported by the code "
                                "generator yet (use dense)")
    placements = {p.population: p for p in plan.placements}
    readout_id = st.readout.population
    pop_facts, proj_facts = V.model_facts(ir)
    pops: list[PopulationProgram] = []
    for pop, facts in zip(ir.populations, pop_facts):
        pl = placements[pop.id]
        neuron = None
        if pop.kind == "neuron":
            neuron = Neuron(
                model=pop.model,
                reset=pop.reset if (pop.spikes and pop.reset) else "none",
                sparse_backward=facts.sparse_backward,
            )
        pops.append(PopulationProgram(
            id=pop.id, kind=pop.kind, size=pop.size, stage=pl.stage, spikes=pop.spikes,
            capacity=pop.capacity, overflow=pop.overflow, neuron=neuron,
            tiles=TileRange(pl.first_tile, pl.num_tiles, pl.neurons_per_tile, pl.remainder, pl.list_tiles,
                            pl.list_offset, pl.samples_per_list_tile),
            ring_slots=facts.ring_slots,
            incoming=tuple(p.id for p in ir.incoming(pop.id)),
            outgoing=tuple(p.id for p in ir.outgoing(pop.id)),
            is_readout=facts.is_readout,
        ))
    by_id = {p.id: p for p in pops}
    projs = [ProjectionProgram(id=f.id, source=f.source, target=f.target, delay=f.delay, bias=f.bias, n_in=f.n_in,
                               n_out=ir.shapes(proj).weight[1], input_gradient=f.input_gradient,
                               grad_slots=f.grad_slots)
             for proj, f in zip(ir.projections, proj_facts)]
    readout_pop = by_id[readout_id]
    if V.counts_spikes(st.readout.decoding, st.loss.kind):
        if not readout_pop.spikes:
            raise LoweringError(f"readout population '{readout_id}' does not spike: use a membrane decoding")
    loss = (Loss("mse_count", int(st.timesteps * st.loss.correct_rate), int(st.timesteps * st.loss.incorrect_rate))
            if st.loss.kind == "mse_count" else Loss("cross_entropy", 0, 0))
    o = st.optimizer
    optimizer = (Optimizer("adam", o.lr, tuple(o.betas), o.eps, 0.0) if o.kind == "adam"
                 else Optimizer("sgd", o.lr, (0.0, 0.0), 0.0, o.momentum))
    stages = tuple(tuple(s) for s in ir.stages)
    forward, backward = V.forward_steps(stages, pop_facts), V.backward_steps(stages, pop_facts, proj_facts)
    loss_step, update = V.loss_step(readout_id), V.update_step(proj_facts)
    compute_sets = tuple(c.name for c in forward + backward + (loss_step, update))
    state = V.state_type(st.precision == "float16")
    vtypes, patterns, elements = _tables(pops, projs, pop_facts, proj_facts, compute_sets, st, optimizer, readout_id,
                                         state)
    return Program(
        name=ir.name, timesteps=st.timesteps, batch=batch, replicas=replicas, state=state,
        num_ipus=st.target.num_ipus,
        tiles_per_ipu=st.target.tiles_per_ipu, bytes_per_tile=st.target.bytes_per_tile,
        populations=tuple(pops), projections=tuple(projs), stages=stages,
        readout=Readout(readout_id, st.readout.decoding, readout_pop.size, readout_pop.tiles.first_tile),
        loss=loss, surrogate=_surrogate(st.surrogate), optimizer=optimizer,
        tensors=_tensors(pop_facts, proj_facts, st.timesteps, batch, optimizer)
        + _loss_tensors(readout_id, readout_pop.size, batch, st.readout.decoding),
        forward=forward, backward=backward, loss_step=loss_step, update=update,
        compute_sets=compute_sets, vertex_types=vtypes, patterns=patterns, elements=elements,
    )


def _tensors(pops: tuple[V.PopulationFacts, ...], projs: tuple[V.ProjectionFacts, ...], steps: int, batch: int,
             optimizer: Optimizer) -> tuple[TensorSpec, ...]:
    out: list[TensorSpec] = []
    for p in pops:
        out += [TensorSpec(f"{p.id}.{d.what}", d.dtype, p.id, d.layout, d.rows, d.init)
                for d in V.population_tensors(p, steps, batch)]
    for pr in projs:
        out += [TensorSpec(f"{pr.id}.{d.what}", d.dtype, pr.target, d.layout, d.rows)
                for d in V.projection_tensors(pr, batch, optimizer.state_copies)]
    return tuple(out)


def _loss_tensors(readout: str, classes: int, batch: int, decoding: str) -> tuple[TensorSpec, ...]:
    return tuple(TensorSpec(d.what, d.dtype, readout, d.layout, d.rows)
                 for d in V.global_tensors(classes, batch, decoding))


def _tables(pops, projs, pop_facts, proj_facts, compute_sets, st, optimizer: Optimizer, readout_id: str,
            state: str):
    """Vertex types, deduplicated binding patterns and program.cpp's element rows; `pops` and
    `projs` are the Program's, `pop_facts` and `proj_facts` their records, in the same order."""
    steps, batch, decoding = st.timesteps, st.batch_size // st.target.replication_factor, st.readout.decoding
    index = {p.id: i for i, p in enumerate(pops)}
    index.update({pr.id: len(pops) + i for i, pr in enumerate(projs)})
    by_id = {p.id: p for p in pops}
    vtypes: list[VertexType] = []
    patterns: list[Pattern] = []

    def group(cs: str, vt: VertexType) -> Group:
        if all(v.name != vt.name for v in vtypes):  # one type, several binding patterns (optimizer w/b, ticks)
            vtypes.append(vt)
        pat = Pattern(vt.decl.over, tuple(dataclasses.replace(f, doc="") for f in vt.fields))
        if pat not in patterns:
            patterns.append(pat)
        return Group(compute_sets.index(cs), vt.name, patterns.index(pat))

    def model(key: str, member: str, decl) -> VertexType:
        # one class per feature combination (key); per-element numbers are vertex state
        return VertexType(f"snncc_model::{key}<{state}>", key, "model.cpp", member, decl, state)

    family = V.optimizer_family(optimizer.kind, optimizer.momentum, state == "half")
    facts_of = {f.id: f for f in pop_facts}
    proj_facts_of = {f.id: f for f in proj_facts}
    elements: list[Element] = []
    for p, pf in zip(pops, pop_facts):
        groups = []
        if p.kind == "input":  # streamed as a history: timestep t into the ring slot before the forward
            groups.append(group("lists.forward", model("ListSlot", p.id, V.list_slot_vertex(False))))
        if p.kind == "neuron":
            incoming = [next(pr for pr in projs if pr.id == pid) for pid in p.incoming]
            keys = class_keys(p, incoming)
            incoming_facts = tuple(proj_facts_of[pid] for pid in p.incoming)
            groups.append(group(f"forward.stage{p.stage}", model(keys["Forward"], p.id,
                                                                 V.forward_vertex(pf, incoming_facts))))
            if p.spikes:
                groups.append(group(f"compact.stage{p.stage}", model(keys["Compact"], p.id, V.compact_vertex(pf))))
            groups.append(group(f"backward.stage{p.stage}", model(keys["Backward"], p.id,
                                                                  V.backward_vertex(pf, decoding))))
        if p.spikes:  # the reverse timestep t reads timesteps t - (slots - 1) .. t from the ring
            groups.append(group("lists.backward", model("ListSlot_lag", p.id, V.list_slot_vertex(True))))
        if p.id == readout_id:
            groups.append(group("loss", VertexType(f"snncc_model::Loss<{state}>", "Loss", "model.cpp", "",
                                                   V.loss_vertex(decoding, st.loss.kind), state)))
        consts = {"C": p.capacity, "tiles": p.tiles.num_tiles, "q": p.tiles.neurons_per_tile,
                  "r": p.tiles.remainder, "slots": p.ring_slots, "lag": p.ring_slots - 1}
        for k, pid in enumerate(p.incoming):
            pr = next(x for x in projs if x.id == pid)
            consts.update({f"C{k}": by_id[pr.source].capacity, f"delay{k}": pr.delay,
                           f"slots{k}": by_id[pr.source].ring_slots})
        elements.append(Element(
            p.id, "population", p.tiles, -1, -1, tuple(index[i] for i in p.incoming),
            tuple(TensorSpec(f"{p.id}.{d.what}", d.dtype, p.id, d.layout, d.rows, d.init)
                  for d in V.population_tensors(pf, steps, batch)), tuple(groups), _values(groups, vtypes, consts)))
    for pr, prf in zip(projs, proj_facts):
        stage = by_id[pr.target].stage
        src = by_id[pr.source]
        keys = class_keys_projection(pr, src)
        groups = [group(f"weightgrad.stage{stage}", model(keys["WeightGrad"], pr.id, V.weightgrad_vertex(prf)))]
        if pr.input_gradient:
            groups.append(group(f"partialsum.stage{stage}", model(keys["ReduceSum"], pr.id, V.reduce_sum_vertex())))
            groups.append(group(f"reduce.{pr.id}", model(keys["Reduce"], pr.id, V.reduce_vertex(
                facts_of[pr.source].sparse_backward))))
        for decl in V.optimizer_vertices(pr.bias, family, optimizer.state_copies):
            groups.append(group("update", VertexType(f"snncc::{family}<float>", "", "snncc_generic.cpp", "", decl,
                                                     "float")))
        elements.append(Element(
            pr.id, "projection", by_id[pr.target].tiles, index[pr.source], index[pr.target], (),
            tuple(TensorSpec(f"{pr.id}.{d.what}", d.dtype, pr.target, d.layout, d.rows)
                  for d in V.projection_tensors(prf, batch, optimizer.state_copies)), tuple(groups),
            _values(groups, vtypes, {"C": src.capacity, "nin": pr.n_in, "delay": pr.delay, "G": pr.grad_slots,
                                     "P": by_id[pr.target].tiles.num_tiles, "slots": src.ring_slots})))
    ticks = tuple(group(f"tick.{d}", VertexType("snncc::Tick", "", "snncc_generic.cpp", "", V.tick_vertex(v)))
                  for d, v in (("forward", "+1"), ("backward", "-1")))
    elements.append(Element("", "global", by_id[readout_id].tiles, -1, -1, (),
                            _loss_tensors(readout_id, by_id[readout_id].size, batch, decoding), ticks))
    for fam, decl in sorted(V.generic_vertices().items()):
        name = "snncc::Tick" if fam == "Tick" else f"snncc::{fam}<float>"
        if all(v.name != name for v in vtypes):
            vtypes.append(VertexType(name, "", "snncc_generic.cpp", "", decl, "" if fam == "Tick" else "float"))
    return tuple(vtypes), tuple(patterns), tuple(elements)


#: value fields that are not element constants: set from the vertex's tile, or literals
#: (snncc.lower.host, which lays them out)
TILE_VALUES = frozenset(_host.TILE_VALUES) | frozenset(_host.LITERALS)


def _values(groups, vtypes, consts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """The element constants its vertices' value fields name, in order of first use."""
    out: dict[str, int] = {}
    for g in groups:
        vt = next(v for v in vtypes if v.name == g.vertex)
        for f in vt.fields:
            if f.role == "value" and f.what not in TILE_VALUES:
                out.setdefault(f.what, int(consts[f.what]))
    return tuple(out.items())


def neuron_parameters(ir: ModelGraph) -> dict[str, np.ndarray]:
    """The per-neuron parameter tensors of every neuron population, as the INIT file carries
    them ("<what>.<population>", float32 [size]; what: snncc.vertices.neuron_parameters),
    with the values snncc.torch computes with: beta and alpha clamped to [0, 1], the threshold,
    and the gradient level gradient_threshold x threshold (a float32 product for per-neuron
    thresholds, as torch multiplies a float32 tensor by a Python scalar; a double product
    rounded once for a scalar threshold, as torch compares a float32 tensor with a Python float)."""
    out: dict[str, np.ndarray] = {}
    for pop in ir.populations:
        if pop.kind != "neuron":
            continue

        def full(v, clamp: bool) -> np.ndarray:
            if isinstance(v, tuple):
                a = np.asarray(v, dtype=np.float32)
                return np.clip(a, np.float32(0), np.float32(1)) if clamp else a
            return np.full(pop.size, f32(min(max(v, 0.0), 1.0)) if clamp else f32(v), dtype=np.float32)

        for what in V.neuron_parameters(V.population_facts(ir, pop)):
            if what == "beta":
                v = full(pop.beta, True)
            elif what == "alpha":
                v = full(pop.alpha, True)
            elif what == "threshold":
                v = full(pop.threshold, False)
            elif isinstance(pop.threshold, tuple):
                v = np.float32(pop.gradient_threshold) * np.asarray(pop.threshold, dtype=np.float32)
            else:
                v = np.full(pop.size, f32(pop.gradient_threshold * pop.threshold), dtype=np.float32)
            out[f"{what}.{pop.id}"] = v.astype(np.float32)
    return out
