"""The compute sets of one training step, in the generated program's order: which vertex
family runs in which compute set on which populations or projections.

The lowering puts these into the Program; the cost model walks the same sequence, so the
predicted supersteps are the program's (docs/plan.md).

  forward, Repeat(T): `lists.forward` (ListSlot: an input's lists of timestep t into its
  ring), per stage `forward.stageK` (Forward) and, with spiking populations,
  `compact.stageK` (Compact on their list tiles); then `tick.forward`. Then `loss`.
  backward, Repeat(T): `lists.backward` (ListSlot, lagged), stages reversed:
  `backward.stageK`, `weightgrad.stageK` (the projections into the stage), with input
  gradients `partialsum.stageK` (ReduceSum: each target tile sums its chunk of every target
  tile's partials) and one `reduce.<projection>` per projection from a neuron population
  (Reduce: the sums into the source's dS ring; one per projection, since two projections
  from one source add into the same ring); then `tick.backward`.
  Then `update` (the optimizer vertices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .facts import PopulationFacts, ProjectionFacts


@dataclass(frozen=True)
class ComputeSetSpec:
    """One BSP superstep: a vertex kind instantiated on every tile of some populations."""

    name: str
    vertex: str  # vertex kind: ListSlot, Forward, Compact, Loss, Backward, WeightGrad, ReduceSum, Reduce, Optimizer, Tick
    members: tuple[str, ...]  # populations or projections it covers


def forward_steps(stages: Sequence[Sequence[str]], populations: Sequence[PopulationFacts]) -> tuple[ComputeSetSpec, ...]:
    """One forward timestep; `populations` in spec order."""
    by_id = {p.id: p for p in populations}
    inputs = tuple(p.id for p in populations if p.kind == "input" and p.spikes)
    out = [ComputeSetSpec("lists.forward", "ListSlot", inputs)] if inputs else []
    for k, stage in enumerate(stages):
        out.append(ComputeSetSpec(f"forward.stage{k}", "Forward", tuple(stage)))
        spiking = tuple(p for p in stage if by_id[p].spikes)
        if spiking:
            out.append(ComputeSetSpec(f"compact.stage{k}", "Compact", spiking))
    out.append(ComputeSetSpec("tick.forward", "Tick", ()))
    return tuple(out)


def backward_steps(stages: Sequence[Sequence[str]], populations: Sequence[PopulationFacts],
                   projections: Sequence[ProjectionFacts]) -> tuple[ComputeSetSpec, ...]:
    """One reverse timestep; a stage's projections in the order of `projections`."""
    spiking = tuple(p.id for p in populations if p.spikes)
    out = [ComputeSetSpec("lists.backward", "ListSlot", spiking)] if spiking else []
    # projections by the stage of their target: one pass, not stages x projections
    stage_of = {pid: k for k, stage in enumerate(stages) for pid in stage}
    into: dict[int, list[ProjectionFacts]] = {}
    for pr in projections:
        if pr.target in stage_of:
            into.setdefault(stage_of[pr.target], []).append(pr)
    for k in reversed(range(len(stages))):
        out.append(ComputeSetSpec(f"backward.stage{k}", "Backward", tuple(stages[k])))
        prs = into.get(k, ())
        if prs:
            out.append(ComputeSetSpec(f"weightgrad.stage{k}", "WeightGrad", tuple(pr.id for pr in prs)))
        reduced = tuple(pr.id for pr in prs if pr.input_gradient)
        if reduced:
            out.append(ComputeSetSpec(f"partialsum.stage{k}", "ReduceSum", reduced))
        out += [ComputeSetSpec(f"reduce.{pid}", "Reduce", (pid,)) for pid in reduced]
    out.append(ComputeSetSpec("tick.backward", "Tick", ()))
    return tuple(out)


def loss_step(readout: str) -> ComputeSetSpec:
    return ComputeSetSpec("loss", "Loss", (readout,))


def update_step(projections: Sequence[ProjectionFacts]) -> ComputeSetSpec:
    return ComputeSetSpec("update", "Optimizer", tuple(p.id for p in projections))
