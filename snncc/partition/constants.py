"""Every figure the memory and cost models use, with its source.

"ipu.md" is shared/reference/ipu.md. Figures marked *estimate* are not published by
Graphcore; they are this project's judgement, to be replaced by measurements (the
memory hook in snncc.partition.memory compares the model against real allocations).
Target figures (tiles per IPU, bytes per tile, workers per tile, clock) come from the
spec's `target` (defaults: ipu.md's GC200 values), never from here.
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- exchange, links, sync

#: Bytes one tile can receive per tile-clock cycle during an exchange phase. Derived from
#: ipu.md: about 8 TB/s all-to-all exchange / 1472 tiles / 1.33 GHz = 4.1 B per cycle.
EXCHANGE_BYTES_PER_CYCLE = 4.0

#: Fixed cycles of an exchange phase (*estimate*: the compiled exchange code's setup).
EXCHANGE_SETUP_CYCLES = 50

#: IPU-Link bandwidth out of one IPU in bytes per second: ipu.md, 10 links, 320 GB/s per IPU.
#: Optimistic for a chain, whose traffic to the next IPU uses only the links between them.
LINK_BYTES_PER_SECOND = 320e9

#: Cycles of one sync within one IPU (SyncType::INTERNAL). *estimate*: not in ipu.md.
INTERNAL_SYNC_CYCLES = 150

#: Cycles of one sync across IPUs (SyncType::EXTERNAL, every superstep once num_ipus > 1,
#: because one Poplar graph spans all IPUs). *estimate*: not in ipu.md.
EXTERNAL_SYNC_CYCLES = 1500

# --------------------------------------------------------------------------- vertex work
# Worker instructions; a tile issues one instruction per cycle, round-robin over its
# workers (ipu.md: 6 workers), so a worker's k instructions take workers x k cycles and a
# superstep on a tile lasts workers x (the busiest worker's instructions).

#: Starting a vertex on a tile (supervisor launch, worker start), cycles. *estimate*.
VERTEX_LAUNCH_CYCLES = 100
#: Per input spike row: read the id, find the row, loop setup. *estimate*.
ROW_INSTRUCTIONS = 8
#: Per weight of a row added into the input current (float32: load + add, paired 64-bit
#: loads). *estimate*; float16 halves it (two halves per 32-bit operation).
ACCUMULATE_INSTRUCTIONS = 1.0
#: Extra per stored weight of a sparse row: its column index. *estimate*.
SPARSE_INDEX_INSTRUCTIONS = 1.0
#: Neuron update per neuron and sample: decay, add current, threshold, reset, spike code,
#: membrane to history. *estimate*.
NEURON_UPDATE_INSTRUCTIONS = 12
#: Surrogate gradient and carried dL/dU per neuron and sample in the backward pass. *estimate*.
SURROGATE_INSTRUCTIONS = 20
#: List compaction: per spike code scanned, and per list entry written. *estimate*.
COMPACT_CODE_INSTRUCTIONS = 1
COMPACT_ENTRY_INSTRUCTIONS = 2
#: Adding one element of a partial input gradient in the reduction tree. *estimate*.
REDUCE_INSTRUCTIONS = 1
#: Optimizer update per trainable value (Adam: two moments, bias correction, sqrt, divide;
#: SGD 4, with momentum 6). *estimates*.
ADAM_INSTRUCTIONS = 12
SGD_INSTRUCTIONS = 4
SGD_MOMENTUM_INSTRUCTIONS = 6

#: Fan-in of the tree that sums the partial input-spike gradients of a population's tiles.
REDUCTION_FANIN = 4

# --------------------------------------------------------------------------- memory reserves


@dataclass(frozen=True)
class VertexReserve:
    """Bytes a vertex type costs on a tile: its code once per tile, its state per instance."""

    code: int
    state: int


#: Per vertex type (all *estimates*: a codelet of this size compiles to a few KiB; vertex
#: state is the edge pointers and sizes, 8 bytes each). Templated variants (neuron model,
#: dense/sparse) count as separate types because each instantiation has its own code.
VERTEX_RESERVES: dict[str, VertexReserve] = {
    "NeuronForward": VertexReserve(code=3072, state=64),
    "NeuronBackward": VertexReserve(code=3072, state=64),
    "RowAccumulate": VertexReserve(code=1536, state=48),
    "WeightGradient": VertexReserve(code=2048, state=48),
    "InputGradientReduce": VertexReserve(code=512, state=32),
    "SpikeListCompact": VertexReserve(code=1024, state=48),
    "Optimizer": VertexReserve(code=1024, state=48),
}

#: Per used tile: control program, exchange code, stacks of the supervisor and 6 workers.
#: *estimate*.
TILE_RESERVE_BYTES = 8192

#: Exchange code per incoming transfer (one per field connected to remote data). *estimate*.
EXCHANGE_CODE_BYTES = 64

#: Bytes of one spike id (uint32) and of the two counts of a list (ipu.md has no figure;
#: the IR uses the same: snncc.ir.passes.ID_BYTES, COUNTS_BYTES).
ID_BYTES = 4
COUNTS_BYTES = 8
#: Bytes of a sparse weight's column index and of a CSR row offset.
INDEX_BYTES = 4
#: Standard deviations of headroom for the per-tile stored count of a probability mask.
SPARSE_SIGMAS = 4.0
