"""A readable summary of the IR (what `snncc inspect` prints)."""

from __future__ import annotations

from ..textfmt import table
from .graph import ModelGraph


def summary(ir: ModelGraph) -> str:
    """Populations, projections, counts, the schedule and recurrent edges."""
    s = ir.settings
    pops, projs = ir.populations, ir.projections
    lines = [
        f"model {ir.name}: {s.timesteps} timesteps, batch {s.batch_size}, "
        f"{len(pops)} populations, {len(projs)} projections",
        "",
        "populations",
    ]
    rows = []
    for p in pops:
        params = ""
        if p.kind == "neuron":
            params = ", ".join(
                f"{k}={v:.6g}" if isinstance(v, float)
                else f"{k}=per-neuron [{min(v):.6g}, {max(v):.6g}]" if isinstance(v, tuple) else f"{k}={v}"
                for k, v in (("beta", p.beta), ("alpha", p.alpha), ("threshold", p.threshold), ("reset", p.reset))
                if v is not None
            )
        stage = "input" if p.kind == "input" else str(ir.stage(p.id))
        rows.append([p.id, p.model or "input", str(p.size), str(p.capacity) if p.spikes else "-", stage, params])
    lines += table(["id", "model", "size", "capacity", "stage", "parameters"], rows)

    lines += ["", "projections"]
    rows = []
    for p in projs:
        sh = ir.shapes(p)
        conn = "dense" if p.connectivity == "dense" else f"sparse, fan-in {p.fan_in:g}"
        rows.append([
            p.id, f"{p.source} -> {p.target}", str(p.delay), conn,
            f"{sh.weight[0]}x{sh.weight[1]}", f"{sh.stored_weights:,}", f"{sh.bias:,}", "yes" if p.recurrent else "",
        ])
    lines += table(["id", "source -> target", "delay", "connectivity", "shape", "weights", "biases", "recurrent"], rows)

    n_in = sum(p.size for p in pops if p.kind == "input")
    n_all = sum(p.size for p in pops)
    weights = sum(ir.shapes(p).stored_weights for p in projs)
    biases = sum(ir.shapes(p).bias for p in projs)
    shapes = " + ".join(f"{ir.shapes(p).weight[0]}x{ir.shapes(p).weight[1]}" for p in projs)
    lines += [
        "",
        f"neurons: {n_all:,} ({n_in:,} input, {n_all - n_in:,} simulated)",
        f"weights: {weights:,} ({shapes}); biases: {biases:,}; parameters: {weights + biases:,}",
    ]
    recurrent = [f"{p.id} ({p.source} -> {p.target}, delay {p.delay})" for p in projs if p.recurrent]
    lines.append("recurrent: " + (", ".join(recurrent) if recurrent else "none"))
    stages = ir.stages
    lines.append(
        f"schedule: {len(stages)} stage{'s' if len(stages) != 1 else ''} per timestep: "
        + " -> ".join("[" + ", ".join(g) + "]" for g in stages)
    )

    return "\n".join(lines) + "\n"
