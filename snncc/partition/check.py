"""A verifier of the Plan: what the lowering and the generated program rely on, checked in
Python so that a bad index fails here with a message, not inside the C++.

`check_plan(ir, plan)` returns the problems found (empty when the plan is sound). It reads
the slicing rule from snncc.partition.plan and the bytes from the memory model (the receive
buffers from the cost model's supersteps), so it checks the Plan against the one rule each,
not against a second copy of them.
"""

from __future__ import annotations

import numpy as np

from ..ir import ModelGraph
from .cost import receive_peaks
from .memory import CAT, CATEGORIES, population_memory
from .partitioner import tile_bytes
from .plan import Placement, Plan, split_neurons


def check_plan(ir: ModelGraph, plan: Plan) -> list[str]:
    """The problems of `plan` as a plan of `ir` on its target, one message each."""
    problems: list[str] = []
    target = ir.settings.target
    for name, have, want in (("num_ipus", plan.num_ipus, target.num_ipus),
                             ("tiles_per_ipu", plan.tiles_per_ipu, target.tiles_per_ipu),
                             ("bytes_per_tile", plan.bytes_per_tile, target.bytes_per_tile)):
        if have != want:
            problems.append(f"plan: {name} {have}, the target's is {want}")
    shape = len(problems)  # the target's shape: the byte table is still worth checking
    placed: dict[str, int] = {}
    for p in plan.placements:
        placed[p.population] = placed.get(p.population, 0) + 1
    pops = {pop.id: pop for pop in ir.populations}
    for pid, n in placed.items():
        if pid not in pops:
            problems.append(f"placement '{pid}': no such population")
        elif n > 1:
            problems.append(f"population '{pid}': placed {n} times")
    for pop in ir.populations:
        if pop.id not in placed:
            problems.append(f"population '{pop.id}': not placed")
    for p in plan.placements:
        if p.population in pops:
            problems += _check_placement(ir, plan, p)
    problems += _check_ipus(plan)
    if len(problems) > shape:  # the byte table of a plan with bad ranges would only repeat them
        return problems
    table = plan.tile_memory.bytes
    if table.shape != (plan.num_tiles, len(CATEGORIES)):
        return problems + [f"tile memory: shape {table.shape}, not ({plan.num_tiles}, {len(CATEGORIES)})"]
    totals = table.sum(axis=1)
    for t in np.flatnonzero(totals > plan.bytes_per_tile)[:5]:
        problems.append(f"tile {int(t)}: {int(totals[t])} bytes, over the target's {plan.bytes_per_tile}")
    memories = {pop.id: population_memory(ir, pop) for pop in ir.populations}
    model = tile_bytes(plan.placements, memories, plan.num_tiles)
    model[:, CAT["receive"]] = receive_peaks(ir, memories, plan.placements, plan.num_tiles)[0].bytes
    for t in np.flatnonzero((model != table).any(axis=1))[:5]:
        problems.append(f"tile {int(t)}: the plan's bytes {table[t].tolist()} differ from the memory model's "
                        f"{model[t].tolist()} ({', '.join(CATEGORIES)})")
    return problems


def _check_placement(ir: ModelGraph, plan: Plan, p: Placement) -> list[str]:
    pop = ir.population(p.population)
    name = f"population '{p.population}'"
    out: list[str] = []
    if p.kind != pop.kind:
        out.append(f"{name}: placed as kind '{p.kind}', it is '{pop.kind}'")
    if p.size != pop.size:
        out.append(f"{name}: placed with size {p.size}, it has {pop.size} neurons")
    stage = ir.stage(pop.id) if pop.kind == "neuron" else -1
    if p.stage != stage:
        out.append(f"{name}: placed in stage {p.stage}, it is in stage {stage}")
    if not 0 <= p.ipu < plan.num_ipus:
        return out + [f"{name}: ipu {p.ipu} outside 0 .. {plan.num_ipus - 1}"]
    lo, hi = p.ipu * plan.tiles_per_ipu, (p.ipu + 1) * plan.tiles_per_ipu
    if p.num_tiles < 1 or p.first_tile < lo or p.first_tile + p.num_tiles > hi:
        return out + [f"{name}: tiles {p.first_tile} .. {p.first_tile + p.num_tiles - 1} (num_tiles "
                      f"{p.num_tiles}) outside IPU {p.ipu}'s tiles {lo} .. {hi - 1}"]
    if pop.kind == "neuron":
        q, r = split_neurons(pop.size, p.num_tiles)
        if (p.neurons_per_tile, p.remainder) != (q, r):
            out.append(f"{name}: neurons_per_tile {p.neurons_per_tile} and remainder {p.remainder} do not slice "
                       f"{pop.size} neurons over {p.num_tiles} tiles (the rule gives {q} and {r})")
        elif q == 0:
            out.append(f"{name}: {p.num_tiles} tiles for {pop.size} neurons leave tiles empty")
        else:
            stops = [p.neuron_range(j)[1] for j in range(p.num_tiles)]
            if stops[-1] != pop.size or int(p.slice_sizes().sum()) != pop.size:
                out.append(f"{name}: its tiles hold {stops[-1]} neurons, not {pop.size}")
    if pop.spikes:
        s, n = p.samples_per_list_tile, p.list_tiles
        batch = plan.batch_per_replica
        if not 1 <= n <= p.num_tiles:
            out.append(f"{name}: list_tiles {n} outside 1 .. num_tiles {p.num_tiles}")
        elif not 0 <= p.list_offset < p.num_tiles:
            out.append(f"{name}: list_offset {p.list_offset} outside 0 .. {p.num_tiles - 1}")
        elif s < 1 or n * s < batch or (n - 1) * s >= batch:
            out.append(f"{name}: {n} list tiles of {s} samples do not hold the batch of {batch} "
                       "(every list tile at least one sample)")
        elif int(p.list_samples(batch).sum()) != batch:
            out.append(f"{name}: its list tiles hold {int(p.list_samples(batch).sum())} samples, not {batch}")
    elif p.list_tiles:
        out.append(f"{name}: does not spike but has {p.list_tiles} list tiles")
    return out


def _check_ipus(plan: Plan) -> list[str]:
    out: list[str] = []
    if [i.ipu for i in plan.ipus] != list(range(plan.num_ipus)):
        return [f"plan: IPUs {[i.ipu for i in plan.ipus]}, not 0 .. {plan.num_ipus - 1}"]
    on = {i.ipu: set(i.populations) for i in plan.ipus}
    for p in plan.placements:
        if 0 <= p.ipu < plan.num_ipus and p.population not in on[p.ipu]:
            out.append(f"population '{p.population}': placed on IPU {p.ipu}, which does not list it")
    for i in plan.ipus:
        first = i.ipu * plan.tiles_per_ipu
        if (i.first_tile, i.last_tile) != (first, first + plan.tiles_per_ipu - 1):
            out.append(f"IPU {i.ipu}: tiles {i.first_tile} .. {i.last_tile}, not {first} .. "
                       f"{first + plan.tiles_per_ipu - 1}")
    return out
