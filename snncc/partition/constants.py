"""Every figure the memory and cost models use, with its source.

"ipu.md" is docs/reference/ipu.md. Figures marked *estimate* are not published by
Graphcore; they are this project's judgement, to be replaced by measurements (the
memory hook in snncc.partition.memory compares the model against real allocations).
Target figures (tiles per IPU, bytes per tile, workers per tile, clock) come from the
spec's `target` (defaults: ipu.md's GC200 values), never from here.
"""

from __future__ import annotations

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

# --------------------------------------------------------------------------- replicas: the gradient all-reduce
# With target.replication_factor R > 1, every step ends its backward pass with a sum of the weight
# and bias gradients over the R replicas (gcl::allReduceCrossReplica on IPUs, MPI_Allreduce between
# the host backend's ranks) before the optimizer update. A ring all-reduce sends, and receives,
# 2 (R - 1) / R x the gradients' bytes per replica (reduce-scatter, then all-gather); the cost model
# charges that over the bandwidth below (no latency term).

#: Bytes per gradient element summed across replicas: float32 (the generated program's
#: gradients; float16 is not lowered).
GRADIENT_BYTES = 4

#: Ring all-reduce bandwidth between IPU replicas, bytes per second per replica: ipu.md's
#: IPU-Link figure, 320 GB/s per IPU (10 links), as LINK_BYTES_PER_SECOND. Optimistic: a ring
#: step uses the links to one neighbour, and replicas in different IPU-Machines may go through
#: gateway links instead.
ALLREDUCE_IPU_BYTES_PER_SECOND = LINK_BYTES_PER_SECOND

#: All-reduce bandwidth between the host backend's replicas (one per MPI rank, `--layout cpu`),
#: gradient bytes per second at R = 2 (where the ring factor 2 (R - 1) / R is 1). Measured: the
#: runtime's collective (MPI_Allgather and the sum in rank order) of shd_mlp's 12.6 MB of
#: gradients between 2 ranks on the 2-core development VM, Open MPI 5.0.11 over shared memory:
#: 7.0 ms, 1.8 GB/s (4.2 MB: 2.5 GB/s; 0.26 MB: 2.8 GB/s). docs/plan.md, "Replicas".
ALLREDUCE_MPI_BYTES_PER_SECOND = 1.8e9

# --------------------------------------------------------------------------- vertex work
# Worker instructions; a tile issues one instruction per cycle, round-robin over its
# workers (ipu.md: 6 workers), so a worker's k instructions take workers x k cycles and a
# superstep on a tile lasts workers x (the busiest worker's instructions). Every vertex of
# the generated program but Loss is a MultiVertex (templates/codelets): its items are dealt
# round-robin to the workers (Forward: (sample, neuron) pairs; Compact, Backward, Reduce:
# samples; WeightGrad: target neurons, then (sample, entry) partials). The per-item counts
# below are read off those loops (loads, address arithmetic, the add, the loop branch);
# they are *estimates* until the program is profiled on an IPU.

#: Starting a vertex on a tile (supervisor launch, worker start), cycles. *estimate*.
VERTEX_LAUNCH_CYCLES = 100
#: Forward, per listed input id of a (sample, neuron) item: load the id, the row address,
#: load the weight, add (rowSum). *estimate*.
FORWARD_ID_INSTRUCTIONS = 4
#: Neuron update per neuron and sample: decay, add current, threshold, reset, membrane to
#: history. *estimate*.
NEURON_UPDATE_INSTRUCTIONS = 12
#: Backward per neuron and sample: carried dL/dU, surrogate, reset recursion. *estimate*.
SURROGATE_INSTRUCTIONS = 20
#: Scanning one entry of a spike-id list (load, range check, branch): the sparse Backward
#: and the sparse Reduce. *estimate*.
LIST_SCAN_INSTRUCTIONS = 3
#: WeightGrad per listed source id, sample and target neuron: load the id, the row address,
#: load-add-store dw. *estimate*.
WEIGHTGRAD_ID_INSTRUCTIONS = 4
#: Partial input gradient: per weight of the dot product w[row] . dI[b] (two loads, a
#: multiply-add). *estimate*.
DOT_INSTRUCTIONS = 2
#: List compaction per sample: per spike code scanned (load it, compare, branch: the Forward
#: wrote the codes, so no membrane or threshold is loaded), and per list entry written (the id
#: into the history and into the ring slot, the count). *estimate* from templates/codelets/compact.
COMPACT_CODE_INSTRUCTIONS = 3
COMPACT_ENTRY_INSTRUCTIONS = 3
#: Reduce (the second level, on a source tile): adding one summed input gradient into dS. *estimate*.
REDUCE_INSTRUCTIONS = 1
#: ReduceSum (the first level, on a target tile), per entry of its chunk and target tile: load the
#: tile's partial (a strided address, p ne + i) and add it; per entry once more to clear the sum
#: and store it. *estimates* from templates/codelets/reduce (workers split the entries).
REDUCE_SUM_INSTRUCTIONS = 2
REDUCE_SUM_ENTRY_INSTRUCTIONS = 2
#: Loss (a single-worker Vertex): per readout value read (sample, timestep, class), and per
#: (sample, class) for the softmax / loss and its gradient. *estimates*.
LOSS_VALUE_INSTRUCTIONS = 2
LOSS_CLASS_INSTRUCTIONS = 30
#: Optimizer update per trainable value (Adam: two moments, bias correction, sqrt, divide;
#: SGD 4, with momentum 6). *estimates*.
ADAM_INSTRUCTIONS = 12
SGD_INSTRUCTIONS = 4
SGD_MOMENTUM_INSTRUCTIONS = 6

#: Exchange-code transfers the memory model counts, beyond the projection's own, per incoming
#: projection from a neuron population (its partials and the reads of the Reduce supersteps;
#: snncc.partition.memory, category code only). *estimate*.
INPUT_GRADIENT_TRANSFERS = 4

# --------------------------------------------------------------------------- memory reserves


#: Code bytes per vertex family on a tile, once per tile it runs on (all *estimates*: a
#: codelet of this size compiles to a few KiB). Forward and Backward count once per neuron
#: model; ForwardRows (the Forward's accumulation of the listed rows) and WeightGrad once
#: per connectivity (dense, sparse) of the tile's incoming projections. Vertex state is not
#: here: it is counted from the fields of the declarations (snncc.vertices).
VERTEX_CODE_BYTES: dict[str, int] = {
    "Forward": 3072,
    "Backward": 3072,
    "ForwardRows": 1536,
    "WeightGrad": 2048,
    "Reduce": 512,
    "ReduceSum": 256,
    "Compact": 1024,
    "Optimizer": 1024,
}

#: Per used tile: control program, exchange code, stacks of the supervisor and 6 workers.
#: *estimate*.
TILE_RESERVE_BYTES = 8192

#: Exchange code per incoming transfer (one per field connected to remote data). *estimate*.
EXCHANGE_CODE_BYTES = 64

#: Bytes of one spike id (uint32) and of the two counts of a list (ipu.md has no figure).
ID_BYTES = 4
COUNTS_BYTES = 8
#: Bytes of a sparse weight's column index and of a CSR row offset.
INDEX_BYTES = 4
#: Standard deviations of headroom for the per-tile stored count of a probability mask.
SPARSE_SIGMAS = 4.0
