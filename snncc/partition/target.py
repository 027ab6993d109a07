"""The CPU-shaped target that the host backend plans for by default.

A spec's target is an IPU system: thousands of small tiles. The host runtime can run
that target exactly (`--emulate-target`), but on a CPU every tile costs a vertex call per
compute set and a superstep synchronises all of them, so a few large tiles are faster:
`TILES_PER_THREAD` tiles per runtime thread (one IPU), each with an equal share of the
machine's memory. Everything else (the model, the schedule, the arithmetic of every
vertex) is unchanged, so both targets train identically up to float rounding (the order
in which a neuron's incoming weight rows are summed does not depend on the target; the
reduction of input gradients over a projection's target tiles does).
"""

from __future__ import annotations

import dataclasses

from .. import machine
from ..ir import ModelGraph
from ..spec.models import IPUTarget

#: tiles per runtime thread. Measured on digits (2 threads; bench/RESULTS.md, "CPU-shaped
#: target"): 4 tiles trained fastest, 2 and 8 within 10-20 %; 330 tiles (the IPU target) 1.5x slower.
TILES_PER_THREAD = 2
#: the fewest neurons per tile on the CPU-shaped target: below a few vectors per worker a tile's
#: vertex calls and its share of the input-gradient reduction cost more than its compute saves
#: (digits, 2 threads: the 10-neuron readout on one tile instead of four took the compute sets
#: from 15.2 s to 11.1 s)
MIN_NEURONS_PER_TILE = 64
#: the host runtime's IPUModel takes memoryBytesPerTile as an unsigned (32-bit) value
MAX_BYTES_PER_TILE = 0xFFFF_F000


def cpu_target(target: IPUTarget, threads: int, memory_bytes: int) -> IPUTarget:
    """One IPU of threads x TILES_PER_THREAD tiles sharing memory_bytes; the rest of target kept."""
    tiles = max(1, threads) * TILES_PER_THREAD
    per_tile = min(MAX_BYTES_PER_TILE, max(1024, memory_bytes // tiles))
    # model_copy does not validate: tiles_per_ipu may exceed an IPU's 1,472 here.
    return target.model_copy(update={"num_ipus": 1, "tiles_per_ipu": tiles, "bytes_per_tile": per_tile,
                                     "min_neurons_per_tile": MIN_NEURONS_PER_TILE})


def with_target(ir: ModelGraph, target: IPUTarget) -> ModelGraph:
    """The same model planned for another target."""
    return dataclasses.replace(ir, settings=dataclasses.replace(ir.settings, target=target))


def host_ir(ir: ModelGraph, threads: int | None = None) -> ModelGraph:
    """The model on the CPU-shaped target of this machine (threads: default host_threads()), with
    its share of the memory when the model's replicas run as processes on this machine."""
    share = machine.machine_memory() // ir.settings.target.replication_factor
    return with_target(ir, cpu_target(ir.settings.target, threads or machine.host_threads(), share))


__all__ = ["MIN_NEURONS_PER_TILE", "TILES_PER_THREAD", "cpu_target", "host_ir", "with_target"]
