"""Run training steps through a generated program and through snncc.torch; compare.

Errors per tensor: abs = max |program - reference|; rel = abs / max |reference| (the
norm-wise relative error; an element-wise ratio is meaningless for values near zero,
e.g. Adam updates of zero gradients). Spikes, spike-id list membership (grad_mask) and
overflow counts are integers and must match exactly.

Spike flips: the program sums weight rows in list order, torch's matmul in its own
blocked order, so the two membranes differ by float32 rounding (~1e-7 relative). A
membrane within that distance of the threshold can spike in one and not in the other,
and everything downstream then legitimately differs. Such flips are detected and
reported separately (with the reference's distance to the threshold); they fail the
verification like any other mismatch, because later values are no longer comparable.
The tolerance is never widened for them.

Updated weights over one step: Adam divides each gradient by sqrt(v) + eps, so on its first
step a gradient of the order of eps (1e-8) moves its weight by lr g / (|g| + eps): a float32
rounding difference of a near-cancelling gradient sum (measured on examples/shd.json: 8.3e-10
against 5.6e-10, where the largest gradient is 6.6e-4) becomes a visible difference of the
step (2.4e-5 of weights of 0.04). So over one step the program's weights are compared with
the reference optimizer's step from the same initial weights with the program's own
gradients (`replayed_update`): that checks the update's arithmetic, and the gradient rows
check the gradients against the reference. Over more steps the program's intermediate
gradients are not available and the weights are compared with the reference's trajectory.

float16 (mixed precision, docs/training.md): both sides compute the same float32 sums and
round each timestep's membrane (and synaptic current) to float16 once. Sums of a different
order differ by float32 rounding, and where such a sum lies that close to a float16
rounding boundary the two round to neighbouring halves: the float16-stored tensors (mem,
syn) must agree to one float16 unit in the last place at every element (|a - b| <=
ulp16(|reference|)), not to the float32 tolerance; everything the program keeps in float32
(loss, scores, gradients, weights) keeps TOLERANCE, and a flip counts as rounding within
one float16 unit of the threshold. After the first update the float32 master weights agree
only to float32 rounding, and their float16 copies can round to neighbouring halves: from
the second step on a float16 network legitimately follows another trajectory, so a
float16 model is compared over one step (VERIFY_STEPS_FLOAT16).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..ir import ModelGraph
from ..torch.network import build_model
from ..torch.optim import make_optimizer
from ..torch.step import train_step
from .harness import init_tensors, make_batch, run_program

TOLERANCE = 1e-4  # float32, norm-wise relative
FLIP_DISTANCE = 1e-5  # |U - theta| / max(1, |theta|) below which a spike flip counts as rounding
ULPS_FLOAT16 = 1.0  # float16-stored tensors: units in the last place of float16, element-wise
VERIFY_STEPS_FLOAT16 = 1  # the steps a float16 model is comparable over (the module's note)


def ulp16(x: np.ndarray) -> np.ndarray:
    """The distance from |x| rounded to float16 to the next float16 away from zero."""
    return np.spacing(np.abs(np.asarray(x, dtype=np.float32)).astype(np.float16)).astype(np.float64)


@dataclass(frozen=True)
class Row:
    group: str  # forward, gradient, weights
    name: str
    abs_err: float
    rel_err: float
    exact: bool  # compared exactly (integers)
    ulps: float | None = None  # a float16-stored tensor: the largest difference in float16 ulps

    @property
    def ok(self) -> bool:
        if self.exact:
            return self.abs_err == 0
        if self.ulps is not None:
            return self.ulps <= ULPS_FLOAT16
        return self.rel_err <= TOLERANCE


@dataclass(frozen=True)
class Report:
    rows: tuple[Row, ...]
    flips: tuple[str, ...]  # one line per population with near-threshold flips

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def text(self) -> str:
        w = max(len(r.name) for r in self.rows)
        lines = [f"{'group':9s} {'tensor':{w}s} {'max abs':>10s} {'max rel':>10s}  ok"]
        for r in self.rows:
            how = " (exact)" if r.exact else f" ({r.ulps:g} float16 ulp)" if r.ulps is not None else ""
            lines.append(f"{r.group:9s} {r.name:{w}s} {r.abs_err:10.3e} {r.rel_err:10.3e}  "
                         f"{'yes' if r.ok else 'NO'}{how}")
        lines += self.flips
        return "\n".join(lines) + "\n"


def reference(ir: ModelGraph, weights: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, steps: int):
    """`steps` training steps on the same batch; the last step's forward and gradients,
    the final weights and the last loss."""
    model = build_model(ir)
    model.set_weights({k: torch.from_numpy(v) for k, v in weights.items()})
    opt = make_optimizer(ir.settings.optimizer, model.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    for _ in range(steps):
        result, loss = train_step(model, opt, xt, yt)
    grads = {n: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
             for n, p in model.weights().items()}
    return result.detach(), float(loss), grads, {n: p.detach().clone() for n, p in model.weights().items()}


def replayed_update(ir: ModelGraph, weights: dict[str, np.ndarray], out: dict[str, np.ndarray]) -> dict:
    """The reference optimizer's first step from the initial weights with the program's own
    gradients ("grad.<name>" of out): what the program's updated weights must be, given them."""
    params = {n: torch.nn.Parameter(torch.from_numpy(np.array(v, dtype=np.float32))) for n, v in weights.items()}
    opt = make_optimizer(ir.settings.optimizer, params.values())
    for n, p in params.items():
        p.grad = torch.from_numpy(np.array(out[f"grad.{n}"], dtype=np.float32).reshape(p.shape))
    opt.step()
    return {n: p.detach() for n, p in params.items()}


def _err(a, b) -> tuple[float, float]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf"), float("inf")
    if a.size == 0:
        return 0.0, 0.0
    d = float(np.abs(a - b).max())
    s = float(np.abs(b).max())
    return d, (d / s if s > 0 else (0.0 if d == 0 else float("inf")))


def _first_samples(fwd, n: int):
    """The reference's forward values of the batch's first n samples (the first replica's share):
    the time-major [T, B, ...] tensors and the scores [B, classes]."""
    cut = lambda xs: {k: v[:, :n] for k, v in xs.items()}  # noqa: E731
    return type(fwd)(cut(fwd.spikes), cut(fwd.mem), cut(fwd.syn), cut(fwd.overflow), cut(fwd.grad_mask),
                     fwd.scores[:n])


def compare(ir: ModelGraph, out: dict[str, np.ndarray], ref, labels: np.ndarray | None = None) -> Report:
    """The program's result against the reference's. With replicas, the result holds the
    first replica's forward values (labels: the whole batch's, for its share's loss)."""
    fwd, loss, grads, weights = ref
    replicas = ir.settings.target.replication_factor
    if replicas > 1:
        from ..torch.loss import per_sample_loss

        n = ir.settings.batch_size // replicas
        losses = per_sample_loss(ir.settings.loss, fwd, torch.from_numpy(labels.astype(np.int64)),
                                 ir.settings.readout.population)
        loss = float(losses[:n].mean())
        fwd = _first_samples(fwd, n)
    rows: list[Row] = []
    flips: list[str] = []
    half = ir.settings.precision == "float16"
    add = lambda group, name, a, b, exact=False: rows.append(Row(group, name, *_err(a, b), exact))  # noqa: E731

    def add_state(name, a, b):  # a float16-stored tensor in float16 ulps, else like the rest
        if not half:
            return add("forward", name, a, b)
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        ulps = float((np.abs(a - b) / ulp16(b)).max()) if a.shape == b.shape and a.size else \
            (0.0 if a.shape == b.shape else float("inf"))
        rows.append(Row("forward", name, *_err(a, b), False, ulps))
    add("forward", "loss", out["loss"], [loss])
    add("forward", "scores", out["scores"], fwd.scores)
    for pid, s in fwd.spikes.items():
        add("forward", f"spikes.{pid}", out[f"spikes.{pid}"], s, True)
        pop = ir.population(pid)
        diff = np.asarray(out[f"spikes.{pid}"]) != s.numpy()
        if diff.any() and pid in fwd.mem:
            theta = np.broadcast_to(np.asarray(pop.threshold, dtype=np.float64), diff.shape)[diff]
            gap = np.abs(fwd.mem[pid].numpy()[diff] - theta)
            if half:
                near = int((gap <= ulp16(theta)).sum())
                within = "one float16 ulp of the threshold (float16 rounding of float32 sums)"
            else:
                near = int((gap / np.maximum(1.0, np.abs(theta)) <= FLIP_DISTANCE).sum())
                within = f"{FLIP_DISTANCE:g} of the threshold (float32 summation order)"
            flips.append(f"spike flips in '{pid}': {int(diff.sum())} (first timestep "
                         f"{int(np.argwhere(diff)[0][0])}), {near} of them within {within}; later values are not "
                         "comparable")
        add("forward", f"overflow.{pid}", out[f"overflow.{pid}"], fwd.overflow[pid], True)
    for pid, m in fwd.grad_mask.items():
        add("forward", f"grad_mask.{pid}", out[f"grad_mask.{pid}"], m, True)
    for pid, m in fwd.mem.items():
        add_state(f"mem.{pid}", out[f"mem.{pid}"], m)
    for pid, m in fwd.syn.items():
        add_state(f"syn.{pid}", out[f"syn.{pid}"], m)
    for name, g in grads.items():
        add("gradient", name, out[f"grad.{name}"], g)
    for name, w in weights.items():
        add("weights", name, out[name], w)
    return Report(tuple(rows), tuple(flips))


def verify(ir: ModelGraph, binary: Path, workdir: Path, steps: int = 1, seed: int = 0) -> Report:
    weights, init = init_tensors(ir)
    x, y = make_batch(ir, seed)
    out = run_program(binary, workdir, init, x, y, steps, replicas=ir.settings.target.replication_factor)
    ref = reference(ir, weights, x, y, steps)
    if steps == 1:  # the update checked given the program's gradients (the module's note)
        ref = ref[:3] + (replayed_update(ir, weights, out),)
    return compare(ir, out, ref, y)
