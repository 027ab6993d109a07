"""Lowering: IR + Plan -> Program (tensors with tile layouts, compute sets, control program).

`lower(ir, plan) -> Program`. Deterministic: populations and projections in spec order,
stages in schedule order. Raises LoweringError (one line) for what the code generator
does not support yet.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..ir import ModelGraph
from ..partition import allocation as A
from ..partition.allocation import BIAS_NAMES
from ..partition.plan import Plan
from .program import (
    ComputeSetSpec, Element, Group, Loss, Neuron, Optimizer, Pattern, PopulationProgram, Program,
    ProjectionProgram, Readout, Surrogate, TensorSpec, TileRange, VertexType,
)

__all__ = ["BIAS_NAMES", "LoweringError", "Program", "lower"]


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
    if st.precision != "float32":
        raise LoweringError("the code generator supports precision 'float32' only so far (the spec asks for "
                            f"'{st.precision}')")
    if st.target.replication_factor != 1:
        raise LoweringError("the code generator supports replication_factor 1 only so far")
    for proj in ir.projections:
        if proj.connectivity != "dense":
            raise LoweringError(f"projection '{proj.id}': sparse connectivity is not supported by the code "
                                "generator yet (use dense)")
    for pop in ir.populations:
        if any(isinstance(getattr(pop, a, None), (tuple, list)) for a in ("beta", "alpha", "threshold")):
            raise LoweringError("per-neuron parameters are not yet supported by the code generator "
                                f"(population '{pop.id}')")
    placements = {p.population: p for p in plan.placements}
    readout_id = st.readout.population
    pops: list[PopulationProgram] = []
    for pop in ir.populations:
        pl = placements[pop.id]
        out = ir.outgoing(pop.id)
        neuron = None
        if pop.kind == "neuron":
            neuron = Neuron(
                model=pop.model,
                beta=f32(min(max(pop.beta, 0.0), 1.0)),
                alpha=f32(min(max(pop.alpha, 0.0), 1.0)) if pop.model == "cuba_lif" else None,
                threshold=f32(pop.threshold) if pop.threshold is not None else None,
                reset=pop.reset if (pop.spikes and pop.reset) else "none",
                gradient_level=(f32(pop.gradient_threshold * pop.threshold)
                                if pop.spikes and pop.gradient_threshold is not None else None),
            )
        pops.append(PopulationProgram(
            id=pop.id, kind=pop.kind, size=pop.size, stage=pl.stage, spikes=pop.spikes,
            capacity=pop.capacity, overflow=pop.overflow, neuron=neuron,
            tiles=TileRange(pl.first_tile, pl.num_tiles, pl.neurons_per_tile, pl.remainder, pl.list_tiles,
                            pl.list_offset, pl.samples_per_list_tile),
            ring_slots=1 + max((p.delay for p in out), default=0),
            incoming=tuple(p.id for p in ir.incoming(pop.id)),
            outgoing=tuple(p.id for p in out),
            is_readout=pop.id == readout_id,
        ))
    by_id = {p.id: p for p in pops}
    projs = []
    for proj in ir.projections:
        src = by_id[proj.source]
        n_in, n_out = ir.shapes(proj).weight
        projs.append(ProjectionProgram(
            id=proj.id, source=proj.source, target=proj.target, delay=proj.delay, bias=proj.bias,
            n_in=n_in, n_out=n_out, input_gradient=src.kind == "neuron",
            grad_slots=src.grad_slots if src.kind == "neuron" else 0,
        ))
    readout_pop = by_id[readout_id]
    if st.loss.kind == "mse_count" or st.readout.decoding == "spike_count":
        if not readout_pop.spikes:
            raise LoweringError(f"readout population '{readout_id}' does not spike: use a membrane decoding")
    loss = (Loss("mse_count", int(st.timesteps * st.loss.correct_rate), int(st.timesteps * st.loss.incorrect_rate))
            if st.loss.kind == "mse_count" else Loss("cross_entropy", 0, 0))
    o = st.optimizer
    optimizer = (Optimizer("adam", o.lr, tuple(o.betas), o.eps, 0.0) if o.kind == "adam"
                 else Optimizer("sgd", o.lr, (0.0, 0.0), 0.0, o.momentum))
    stages = tuple(tuple(s) for s in ir.stages)
    forward, backward = _forward(stages, by_id), _backward(stages, projs, by_id)
    loss_step = ComputeSetSpec("loss", "Loss", (readout_id,))
    update = ComputeSetSpec("update", "Optimizer", tuple(p.id for p in projs))
    compute_sets = tuple(c.name for c in forward + backward + (loss_step, update))
    vtypes, patterns, elements = _tables(pops, projs, compute_sets, st, optimizer, readout_id)
    return Program(
        name=ir.name, timesteps=st.timesteps, batch=st.batch_size, num_ipus=st.target.num_ipus,
        tiles_per_ipu=st.target.tiles_per_ipu, bytes_per_tile=st.target.bytes_per_tile,
        populations=tuple(pops), projections=tuple(projs), stages=stages,
        readout=Readout(readout_id, st.readout.decoding, readout_pop.size, readout_pop.tiles.first_tile),
        loss=loss, surrogate=_surrogate(st.surrogate), optimizer=optimizer,
        tensors=_tensors(pops, projs, st.timesteps, st.batch_size, optimizer)
        + _loss_tensors(readout_id, readout_pop.size, st.batch_size, st.readout.decoding),
        forward=forward, backward=backward, loss_step=loss_step, update=update,
        compute_sets=compute_sets, vertex_types=vtypes, patterns=patterns, elements=elements,
    )


def _tensors(pops, projs, steps: int, batch: int, optimizer: Optimizer) -> tuple[TensorSpec, ...]:
    out: list[TensorSpec] = []
    for p in pops:
        out += [TensorSpec(f"{p.id}.{d.what}", d.dtype, p.id, d.layout, d.rows)
                for d in A.population_tensors(p, steps, batch)]
    for pr in projs:
        out += [TensorSpec(f"{pr.id}.{d.what}", d.dtype, pr.target, d.layout, d.rows)
                for d in A.projection_tensors(pr, batch, optimizer.state_copies)]
    return tuple(out)


def _loss_tensors(readout: str, classes: int, batch: int, decoding: str) -> tuple[TensorSpec, ...]:
    return tuple(TensorSpec(d.what, d.dtype, readout, d.layout, d.rows)
                 for d in A.global_tensors(classes, batch, decoding))


def _tables(pops, projs, compute_sets, st, optimizer: Optimizer, readout_id: str):
    """Vertex types, deduplicated binding patterns and program.cpp's element rows."""
    steps, batch, decoding = st.timesteps, st.batch_size, st.readout.decoding
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

    def model(family: str, member: str, decl) -> VertexType:
        return VertexType(f"snncc_model::{family}_{member}<float>", f"{family}_{member}", "model.cpp", member, decl)

    family = A.optimizer_family(optimizer.kind, optimizer.momentum)
    elements: list[Element] = []
    for p in pops:
        groups = []
        if p.kind == "neuron":
            incoming = [next(pr for pr in projs if pr.id == pid) for pid in p.incoming]
            groups.append(group(f"forward.stage{p.stage}", model("Forward", p.id, A.forward_vertex(p, incoming))))
            if p.spikes:
                groups.append(group(f"compact.stage{p.stage}", model("Compact", p.id, A.compact_vertex(p))))
            groups.append(group(f"backward.stage{p.stage}", model("Backward", p.id, A.backward_vertex(p, decoding))))
        if p.id == readout_id:
            groups.append(group("loss", VertexType("snncc_model::Loss", "Loss", "model.cpp", "",
                                                   A.loss_vertex(decoding, st.loss.kind))))
        elements.append(Element(
            p.id, "population", p.tiles, -1, -1, tuple(index[i] for i in p.incoming),
            tuple(TensorSpec(f"{p.id}.{d.what}", d.dtype, p.id, d.layout, d.rows)
                  for d in A.population_tensors(p, steps, batch)), tuple(groups)))
    for pr in projs:
        stage = by_id[pr.target].stage
        groups = [group(f"weightgrad.stage{stage}", model("WeightGrad", pr.id, A.weightgrad_vertex(pr)))]
        if pr.input_gradient:
            groups.append(group(f"reduce.{pr.id}", model("Reduce", pr.id, A.reduce_vertex(
                pr, by_id[pr.source].sparse_backward))))
        for decl in A.optimizer_vertices(pr, family, optimizer.state_copies):
            groups.append(group("update", VertexType(f"snncc::{family}<float>", "", "snncc_generic.cpp", "", decl)))
        elements.append(Element(
            pr.id, "projection", by_id[pr.target].tiles, index[pr.source], index[pr.target], (),
            tuple(TensorSpec(f"{pr.id}.{d.what}", d.dtype, pr.target, d.layout, d.rows)
                  for d in A.projection_tensors(pr, batch, optimizer.state_copies)), tuple(groups)))
    ticks = tuple(group(f"tick.{d}", VertexType("snncc::Tick", "", "snncc_generic.cpp", "", A.tick_vertex(v)))
                  for d, v in (("forward", "+1"), ("backward", "-1")))
    elements.append(Element("", "global", by_id[readout_id].tiles, -1, -1, (),
                            _loss_tensors(readout_id, by_id[readout_id].size, batch, decoding), ticks))
    for fam, decl in sorted(A.generic_vertices().items()):
        name = "snncc::Tick" if fam == "Tick" else f"snncc::{fam}<float>"
        if all(v.name != name for v in vtypes):
            vtypes.append(VertexType(name, "", "snncc_generic.cpp", "", decl))
    return tuple(vtypes), tuple(patterns), tuple(elements)


def _forward(stages, by_id) -> tuple[ComputeSetSpec, ...]:
    out = []
    for k, stage in enumerate(stages):
        out.append(ComputeSetSpec(f"forward.stage{k}", "Forward", stage))
        spiking = tuple(p for p in stage if by_id[p].spikes)
        if spiking:
            out.append(ComputeSetSpec(f"compact.stage{k}", "Compact", spiking))
    out.append(ComputeSetSpec("tick.forward", "Tick", ()))
    return tuple(out)


def _backward(stages, projs, by_id) -> tuple[ComputeSetSpec, ...]:
    out = []
    for k in reversed(range(len(stages))):
        stage = stages[k]
        out.append(ComputeSetSpec(f"backward.stage{k}", "Backward", stage))
        into = tuple(pr.id for pr in projs if pr.target in stage)
        if into:
            out.append(ComputeSetSpec(f"weightgrad.stage{k}", "WeightGrad", into))
        for pr in projs:
            if pr.target in stage and pr.input_gradient:
                out.append(ComputeSetSpec(f"reduce.{pr.id}", "Reduce", (pr.id,)))
    out.append(ComputeSetSpec("tick.backward", "Tick", ()))
    return tuple(out)
