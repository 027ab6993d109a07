"""Lowering: IR + Plan -> Program (tensors with tile layouts, compute sets, control program).

`lower(ir, plan) -> Program`. Deterministic: populations and projections in spec order,
stages in schedule order. Raises LoweringError (one line) for what the code generator
does not support yet.
"""

from __future__ import annotations

import numpy as np

from ..ir import ModelGraph
from ..partition.plan import Plan
from .program import (
    ComputeSetSpec, Loss, Neuron, Optimizer, PopulationProgram, Program, ProjectionProgram, Readout,
    Surrogate, TensorSpec, TileRange,
)

__all__ = ["LoweringError", "Program", "lower"]

#: the bias tensor that goes with each weight-shaped tensor
BIAS_NAMES = {"w": "b", "dw": "db", "m": "bm", "v": "bv", "buf": "bbuf"}


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
    return Program(
        name=ir.name, timesteps=st.timesteps, batch=st.batch_size, num_ipus=st.target.num_ipus,
        tiles_per_ipu=st.target.tiles_per_ipu, bytes_per_tile=st.target.bytes_per_tile,
        populations=tuple(pops), projections=tuple(projs), stages=stages,
        readout=Readout(readout_id, st.readout.decoding, readout_pop.size, readout_pop.tiles.first_tile),
        loss=loss, surrogate=_surrogate(st.surrogate), optimizer=optimizer,
        tensors=_tensors(pops, projs, st.timesteps, st.batch_size, optimizer)
        + _loss_tensors(readout_id, readout_pop.size, st.batch_size, st.readout.decoding),
        forward=_forward(stages, by_id), backward=_backward(stages, projs, by_id),
        loss_step=ComputeSetSpec("loss", "Loss", (readout_id,)),
        update=ComputeSetSpec("update", "Optimizer", tuple(p.id for p in projs)),
    )


def _tensors(pops, projs, steps: int, batch: int, optimizer: Optimizer) -> tuple[TensorSpec, ...]:
    out: list[TensorSpec] = []
    for p in pops:
        if p.spikes:  # spike-id lists, [sample][timestep][entry], on the list tiles
            out += [TensorSpec(f"{p.id}.ids", "unsigned", p.id, "list", steps * p.capacity),
                    TensorSpec(f"{p.id}.counts", "unsigned", p.id, "list", steps * 2),
                    TensorSpec(f"{p.id}.overflow", "unsigned", p.id, "list", steps)]
        if p.kind != "neuron":
            continue
        out.append(TensorSpec(f"{p.id}.mem", "float", p.id, "neuron", (steps + 1) * batch))
        if p.neuron.model == "cuba_lif":
            out.append(TensorSpec(f"{p.id}.syn", "float", p.id, "neuron", (steps + 1) * batch))
            out.append(TensorSpec(f"{p.id}.carrySyn", "float", p.id, "neuron", batch))
        out += [TensorSpec(f"{p.id}.dS", "float", p.id, "neuron", p.ring_slots * batch),
                TensorSpec(f"{p.id}.carryU", "float", p.id, "neuron", batch),
                TensorSpec(f"{p.id}.dI", "float", p.id, "neuron", batch)]
    for pr in projs:
        for what in ("w", "dw") + optimizer.state_copies:
            out.append(TensorSpec(f"{pr.id}.{what}", "float", pr.target, "neuron", pr.n_in))
            if pr.bias:
                out.append(TensorSpec(f"{pr.id}.{BIAS_NAMES[what]}", "float", pr.target, "neuron", 1))
        if pr.input_gradient:
            out.append(TensorSpec(f"{pr.id}.partials", "float", pr.target, "partials", batch * pr.grad_slots))
    return tuple(out)


def _loss_tensors(readout: str, classes: int, batch: int, decoding: str) -> tuple[TensorSpec, ...]:
    out = [TensorSpec("t", "unsigned", readout, "single", 1),
           TensorSpec("hyper", "float", readout, "single", 8),
           TensorSpec("labels", "unsigned", readout, "single", batch),
           TensorSpec("scores", "float", readout, "single", batch * classes),
           TensorSpec("loss", "float", readout, "single", batch),
           TensorSpec("dScore", "float", readout, "single", batch * classes)]
    if decoding == "membrane_max":
        out.append(TensorSpec("tMax", "unsigned", readout, "single", batch * classes))
    return tuple(out)


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
