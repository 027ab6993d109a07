"""What `snncc plan` prints and draws."""

from __future__ import annotations

import io

import numpy as np

from ..ir import ModelGraph
from ..textfmt import format_bytes, table
from .partitioner import population_bytes, tile_code
from . import constants as k
from .memory import CAT, CATEGORIES, NCAT, population_memory
from .plan import Cost, Plan


def _cost_line(c: Cost) -> str:
    return f"{c.step_seconds * 1e3:.3f} ms per step, {c.samples_per_second:,.0f} samples/s"


def category_line(by_category) -> str:
    """One line of bytes per memory category (CATEGORIES order)."""
    return "memory by category: " + ", ".join(f"{c} {format_bytes(v)}" for c, v in zip(CATEGORIES, by_category))


def memory_by_population(ir: ModelGraph, plan: Plan) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per population its bytes by category, summed over its tiles, and what belongs to the tiles
    (shared by the populations on a tile): code, reserves and the receive buffers (a tile's peak
    over compute sets); together the plan's bytes by category. `plan` is make_plan(ir)."""
    memories = {p.id: population_memory(ir, p) for p in ir.populations}
    rows = {p.population: population_bytes(p, memories[p.population]) for p in plan.placements}
    tiles = np.zeros(NCAT, dtype=np.int64)
    tiles[CAT["code"]] = int(tile_code(plan.placements, memories, plan.tile_memory.totals > 0).sum())
    tiles[CAT["receive"]] = int(plan.tile_memory.category("receive").sum())
    return rows, tiles


def population_text(ir: ModelGraph, plan: Plan) -> str:
    """What `snncc inspect` prints of memory: the plan's model per population."""
    rows, tiles = memory_by_population(ir, plan)
    lines = ["memory for one training step by population (the plan's model on the spec's target, "
             "summed over each population's tiles; `snncc plan` shows it per tile)"]
    body = [[pid, *(format_bytes(v) for v in row), format_bytes(row.sum())] for pid, row in rows.items()]
    body.append(["(tiles)", *(format_bytes(v) for v in tiles), format_bytes(tiles.sum())])
    lines += table(["id", *CATEGORIES, "total"], body)
    by_cat = sum(rows.values(), tiles)
    lines += [category_line(by_cat), f"  total: {format_bytes(by_cat.sum())}; (tiles): vertex code, the tile "
              "reserves and the receive buffers, shared by the populations on a tile"]
    return "\n".join(lines) + "\n"


def _replicas(plan: Plan) -> str:
    """The head line's replicas (nothing for one replica)."""
    if plan.replication_factor == 1:
        return ""
    ranks = " (one per MPI rank)" if plan.layout == "cpu" else ""
    return f"{plan.replication_factor} replicas{ranks} x "


def _ipus(plan: Plan) -> str:
    n = plan.num_ipus
    # the CPU-shaped target's "IPU" is one process's tiles: its replicas are ranks, not IPUs
    used = f" ({plan.ipus_used} IPUs used)" if plan.replication_factor > 1 and plan.layout == "ipu" else ""
    return f"{n} IPU{'s' if n > 1 else ''}{used}"


def _batch(plan: Plan) -> str:
    whole = f" ({plan.samples_per_step} per step)" if plan.replication_factor > 1 else ""
    return f"batch {plan.batch_per_replica} per replica{whole}"


def allreduce_line(plan: Plan) -> list[str]:
    """The replicas' gradient all-reduce (nothing for one replica)."""
    c = plan.cost
    if plan.replication_factor == 1:
        return []
    over = ("MPI_Allreduce between ranks, an estimate to be measured" if plan.layout == "cpu"
            else "IPU-Links, per IPU")
    share = c.allreduce_cycles / c.step_cycles if c.step_cycles > 0 else 0.0
    return [f"all-reduce of the gradients across {plan.replication_factor} replicas: {c.gradient_elements:,} weight "
            f"and bias gradients ({format_bytes(c.gradient_elements * k.GRADIENT_BYTES)} float32), a ring sends "
            f"{format_bytes(c.allreduce_bytes)} per replica at {plan.allreduce_bytes_per_second / 1e9:g} GB/s "
            f"({over}): {c.allreduce_cycles:,.0f} cycles, {share:.1%} of the step"]


def text(plan: Plan) -> str:
    limit = plan.bytes_per_tile
    totals = plan.tile_memory.totals
    lines = [
        f"plan {plan.model}: {_replicas(plan)}{_ipus(plan)} x {plan.tiles_per_ipu} tiles, "
        f"{format_bytes(limit)} per tile, {_batch(plan)}, {plan.timesteps} timesteps",
        "",
        "populations (bytes per tile: all populations on the population's tiles)",
    ]
    rows = []
    for p in plan.placements:
        on = totals[p.first_tile : p.first_tile + p.num_tiles]
        npt = "-" if p.kind == "input" else (
            f"{p.neurons_per_tile}" if not p.remainder else f"{p.neurons_per_tile + 1} x {p.remainder}, "
            f"{p.neurons_per_tile} x {p.num_tiles - p.remainder}")
        rows.append([
            p.population, str(p.ipu), "input" if p.stage < 0 else str(p.stage),
            f"{p.first_tile}-{p.first_tile + p.num_tiles - 1} ({p.num_tiles})", npt,
            f"{p.list_tiles} x {p.samples_per_list_tile}" if p.list_tiles else "-",
            format_bytes(on.max()), format_bytes(on.mean()), f"{on.max() / limit:.0%}",
        ])
    lines += table(["population", "ipu", "stage", "tiles", "neurons/tile", "list tiles x samples",
                     "max bytes", "mean bytes", "max/limit"], rows)
    used = plan.tile_memory.used_tiles()
    by_cat = plan.tile_memory.bytes.sum(axis=0)
    lines += [
        "",
        f"tiles used: {len(used):,} of {plan.num_tiles:,}; bytes per tile: max {format_bytes(totals.max())} "
        f"({totals.max() / limit:.0%} of {format_bytes(limit)}), mean {format_bytes(totals[used].mean() if used else 0)} "
        f"over used tiles; in all {format_bytes(totals.sum())}",
        category_line(by_cat),
        "ipus: " + "; ".join(f"{i.ipu}: {len(i.populations)} populations, {i.tiles_used} tiles, {i.arrangement}"
                             for i in plan.ipus),
    ]
    lines += receive_lines(plan)
    c = plan.cost
    allreduce = f", all-reduce {c.allreduce_cycles:,.0f}" if plan.replication_factor > 1 else ""
    lines += [
        "",
        f"exchange per timestep: {format_bytes(c.exchange_bytes_per_timestep)} on chip (elements vertices read from other tiles), "
        f"{format_bytes(c.link_bytes_per_timestep)} over IPU-Links",
        f"supersteps per step: {c.supersteps:,}; cycles: compute {c.compute_cycles:,.0f}, exchange "
        f"{c.exchange_cycles:,.0f}, sync {c.sync_cycles:,.0f}, links {c.link_cycles:,.0f} "
        f"(forward {c.forward_cycles:,.0f}, backward {c.backward_cycles:,.0f}, optimizer {c.optimizer_cycles:,.0f}"
        f"{allreduce})",
        f"compute balance: busiest tile {c.balance:.3f} x the mean of the working tiles, summed over supersteps "
        f"(per tile over the whole step: {c.tile_compute_cycles_max / max(c.tile_compute_cycles_mean, 1):.3f})",
    ]
    lines += allreduce_line(plan)
    lines.append(f"predicted: {_cost_line(c)} at {plan.clock_hz / 1e9:.2f} GHz" + (
        f" ({plan.replication_factor} replicas x {plan.batch_per_replica} samples per step)"
        if plan.replication_factor > 1 else ""))
    lines += time_lines(plan)
    if plan.pipelined is not None:
        speedup = (f"{plan.pipelined.samples_per_second / c.samples_per_second:.1f}x" if c.samples_per_second > 0
                   else "speed-up unknown")
        lines.append(f"pipelined (zero-delay projections made delay-1): {_cost_line(plan.pipelined)}, {speedup}")
    return "\n".join(lines) + "\n"


def receive_lines(plan: Plan, top: int = 5) -> list[str]:
    """The largest receive buffers: per tile the peak over compute sets, the tile where it is
    largest, and the compute sets where the tiles' peaks lie (largest first)."""
    tm = plan.tile_memory
    receive = tm.category("receive")
    used = tm.used_tiles()
    if not used or not receive.any():
        return ["", "receive buffers: none (no vertex reads data on another tile)"]
    tile = int(receive.argmax())
    total = int(tm.totals[tile])
    lines = ["", f"receive buffers (per tile, the peak over compute sets of what its vertices read from other "
                 f"tiles): largest {format_bytes(receive[tile])} ({int(receive[tile]):,} B) on tile {tile} in "
                 f"{tm.receive_compute_set(tile)} ({receive[tile] / max(total, 1):.0%} of the tile's "
                 f"{format_bytes(total)}), mean {format_bytes(receive[used].mean())} over used tiles"]
    at = tm.receive_at
    rows = []
    for i in sorted({int(x) for x in at[used] if x >= 0}, key=lambda i: -int(receive[at == i].max())):
        on = np.flatnonzero(at == i)
        worst = int(on[receive[on].argmax()])
        rows.append([tm.compute_sets[i], f"{len(on):,}", format_bytes(receive[worst]), str(worst),
                     f"{receive[worst] / plan.bytes_per_tile:.0%}"])
    lines += table(["peak in compute set", "tiles", "largest", "on tile", "of the limit"], rows[:top])
    if len(rows) > top:
        lines.append(f"  ... and {len(rows) - top} more compute sets")
    return lines


def time_lines(plan: Plan, top: int = 6) -> list[str]:
    """Where the step's time goes: compute, exchange, IPU-Links and sync per phase, and the
    compute sets that take the most of it."""
    if not plan.compute_sets:
        return []
    allreduce = plan.cost.allreduce_cycles
    step = (sum(c.cycles for c in plan.compute_sets) + allreduce) or 1.0
    rows = []
    for phase in ("forward", "backward", "optimizer"):
        sets = [c for c in plan.compute_sets if c.phase == phase]
        parts = [sum(c.executions * getattr(c, f"{what}_cycles") for c in sets)
                 for what in ("compute", "exchange", "link", "sync")]
        rows.append([phase, *(f"{v:,.0f}" for v in parts), f"{sum(parts) / step:.0%}"])
        if phase == "backward" and allreduce:  # the replicas' gradients, summed before the update
            name = "all-reduce (MPI)" if plan.layout == "cpu" else "all-reduce"
            rows.append([name, "0", "0", f"{allreduce:,.0f}", "0", f"{allreduce / step:.0%}"])
    lines = ["", "where the time goes (cycles per step; exchange: the busiest tile's receive at "
                 f"{k.EXCHANGE_BYTES_PER_CYCLE:g} B/cycle)"]
    lines += table(["phase", "compute", "exchange", "links", "sync", "of the step"], rows)
    rows = []
    for c in sorted(plan.compute_sets, key=lambda c: -c.cycles)[:top]:
        rows.append([c.name, f"{c.executions:,}", f"{c.compute_cycles:,.0f}", f"{c.exchange_cycles:,.0f}",
                     f"{c.link_cycles:,.0f}", f"{c.sync_cycles:,.0f}", f"{c.cycles / step:.1%}"])
    lines += table(["compute set", "executions", "compute", "exchange", "links", "sync", "of the step"], rows)
    return lines


def plot_png(plan: Plan) -> bytes:
    """Tile memory use, stacked by category, against the limit (PNG bytes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = plan.tile_memory.bytes / 1024
    x = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=100)
    ax.stackplot(x, table.T, labels=CATEGORIES, step="post", linewidth=0)
    ax.axhline(plan.bytes_per_tile / 1024, color="black", linestyle="--", linewidth=1, label="bytes per tile")
    for i in range(1, plan.num_ipus):
        ax.axvline(i * plan.tiles_per_ipu, color="grey", linewidth=0.5)
    ax.set_xlim(0, len(table))
    ax.set_xlabel("tile")
    ax.set_ylabel("KiB")
    ax.set_title(f"{plan.model}: memory per tile ({plan.num_ipus} IPU x {plan.tiles_per_ipu} tiles)")
    ax.legend(loc="upper right", fontsize=7, ncol=3)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    plt.close(fig)
    return out.getvalue()
