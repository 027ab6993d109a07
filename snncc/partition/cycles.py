"""Vertex cycles: the cost model's estimate of each vertex family's compute on one tile.

Per vertex kind a cycle estimate from the listed input ids, the neurons on the tile and
the workers (a worker issues every `workers` cycles, so a superstep on a tile lasts
workers x its busiest worker's instructions; the per-item counts are in
snncc.partition.constants).
"""

from __future__ import annotations

import math

import numpy as np

from . import constants as k
from .memory import PopulationMemory


def _ceil_div(a, b):
    return -(-np.asarray(a, dtype=np.float64) // b)


def forward_cycles(pm: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    """Forward vertex of slices of n neurons (0 for input populations): B n items (sample,
    neuron) round-robin over the workers, each summing the weight of every listed input id
    of every incoming projection, adding biases and updating the membrane."""
    n = np.asarray(n, dtype=np.float64)
    if pm.population.kind == "input":
        return np.zeros(len(n))
    per_item = k.NEURON_UPDATE_INSTRUCTIONS + sum(
        inc.source_capacity * k.FORWARD_ID_INSTRUCTIONS + (1 if inc.facts.bias else 0) for inc in pm.incoming)
    return workers * _ceil_div(pm.batch * n, workers) * per_item + k.VERTEX_LAUNCH_CYCLES


def backward_cycles(pm: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    """Backward vertex: samples over workers; per sample and neuron the carried gradient,
    surrogate and reset; with a gradient threshold also a scan of the sample's list."""
    n = np.asarray(n, dtype=np.float64)
    if pm.population.kind == "input":
        return np.zeros(len(n))
    per_sample = n * k.SURROGATE_INSTRUCTIONS
    if pm.sparse_backward:
        per_sample = per_sample + pm.population.capacity * k.LIST_SCAN_INSTRUCTIONS
    return workers * _ceil_div(pm.batch, workers) * per_sample + k.VERTEX_LAUNCH_CYCLES


def weightgrad_cycles(pm: PopulationMemory, inc, n: np.ndarray, workers: int) -> np.ndarray:
    """WeightGrad vertex of one incoming projection: target neurons over workers, each adding
    dI into the rows of every listed source id of every sample (and the bias); then, for a
    neuron source, B G partial input gradients over workers, each a dot product of length n."""
    n = np.asarray(n, dtype=np.float64)
    per_neuron = pm.batch * (inc.source_capacity * k.WEIGHTGRAD_ID_INSTRUCTIONS + (1 if inc.facts.bias else 0))
    cycles = workers * _ceil_div(n, workers) * per_neuron
    if inc.facts.input_gradient:
        cycles = cycles + workers * math.ceil(pm.batch * inc.facts.grad_slots / workers) * n * k.DOT_INSTRUCTIONS
    return cycles + k.VERTEX_LAUNCH_CYCLES


def reduce_sum_cycles(entries: int, tiles: int, workers: int) -> np.ndarray:
    """ReduceSum vertex on each of a projection's P target tiles: its chunk of ceil(E / P) entries
    over workers, P adds each (the first level of the input-gradient reduction)."""
    c = _ceil_div(entries, tiles)
    per_entry = tiles * k.REDUCE_SUM_INSTRUCTIONS + k.REDUCE_SUM_ENTRY_INSTRUCTIONS
    return np.full(tiles, workers * _ceil_div(c, workers) * per_entry + k.VERTEX_LAUNCH_CYCLES, dtype=np.float64)


def reduce_cycles(src: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    """Reduce vertex on a source tile of n neurons: samples over workers; dense, one add per
    neuron; sparse, a scan of the list and one add for each id on the tile (expected C n / N)."""
    n = np.asarray(n, dtype=np.float64)
    if src.sparse_backward:
        c = src.population.capacity
        per_sample = c * k.LIST_SCAN_INSTRUCTIONS + c * n / src.population.size * k.REDUCE_INSTRUCTIONS
    else:
        per_sample = n * k.REDUCE_INSTRUCTIONS
    return workers * _ceil_div(src.batch, workers) * per_sample + k.VERTEX_LAUNCH_CYCLES


def compact_cycles(pm: PopulationMemory, samples: np.ndarray, workers: int = 1) -> np.ndarray:
    """Compact vertex on a list tile of s samples: samples over workers, each scanning the
    population's spike codes (twice with a gradient threshold) and writing up to C entries."""
    s = np.asarray(samples, dtype=np.float64)
    scans = 2 if pm.sparse_backward else 1
    per_sample = scans * pm.population.size * k.COMPACT_CODE_INSTRUCTIONS + pm.population.capacity * k.COMPACT_ENTRY_INSTRUCTIONS
    work = workers * _ceil_div(s, workers) * per_sample
    return np.where(s > 0, work + k.VERTEX_LAUNCH_CYCLES, 0.0)


def list_slot_cycles(pm: PopulationMemory, samples: np.ndarray, workers: int = 1) -> np.ndarray:
    """ListSlot vertex on a list tile of s samples: samples over workers, each copying one
    timestep's list (C ids and two counts) into its ring slot."""
    s = np.asarray(samples, dtype=np.float64)
    per_sample = (pm.population.capacity + 2) * k.COMPACT_ENTRY_INSTRUCTIONS
    work = workers * _ceil_div(s, workers) * per_sample
    return np.where(s > 0, work + k.VERTEX_LAUNCH_CYCLES, 0.0)


def optimizer_cycles(pm: PopulationMemory, n: np.ndarray, optimizer_instructions: float) -> np.ndarray:
    """Optimizer vertices (weights and bias) of a slice: values over workers, so about
    values x instructions cycles."""
    n = np.asarray(n, dtype=np.int64)
    if pm.population.kind == "input":
        return np.zeros(len(n))
    values = np.zeros(len(n), dtype=np.float64)
    launches = 0
    for inc in pm.incoming:
        values += inc.stored(n) + (n if inc.facts.bias else 0)
        launches += 2 if inc.facts.bias else 1
    return values * optimizer_instructions + launches * k.VERTEX_LAUNCH_CYCLES


def loss_cycles(pm: PopulationMemory, workers: int) -> float:
    """The Loss vertex (one worker): the readout's T values per sample and class, then the loss."""
    classes = pm.population.size
    instructions = pm.batch * classes * (pm.timesteps * k.LOSS_VALUE_INSTRUCTIONS + k.LOSS_CLASS_INSTRUCTIONS)
    return workers * instructions + k.VERTEX_LAUNCH_CYCLES


def step_cycles_per_timestep(pm: PopulationMemory, n: np.ndarray, workers: int) -> np.ndarray:
    """Forward, backward and weight-gradient compute of a slice per timestep: what the
    partitioner balances (the reductions run on the sources' tiles)."""
    out = forward_cycles(pm, n, workers) + backward_cycles(pm, n, workers)
    if pm.population.kind != "input":
        for inc in pm.incoming:
            out = out + weightgrad_cycles(pm, inc, n, workers)
    return out
