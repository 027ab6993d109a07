"""The Plan: where every population, neuron and buffer lives, and what a step costs.

It is what the lowering stage consumes: per population a contiguous tile range with a
regular neuron slicing rule, its list tiles, per tile the bytes by category, per IPU its
tiles; and the cost model's prediction. `to_json()` gives its deterministic plan.json form.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from .memory import CATEGORIES

SLICE_RULE = (
    "population p occupies tiles first_tile .. first_tile + num_tiles - 1 (global tile ids, "
    "ipu = tile // tiles_per_ipu); with q = neurons_per_tile and r = remainder, tile j of the range "
    "(0-based) holds neurons [j q + min(j, r), (j + 1) q + min(j + 1, r)), i.e. the first r tiles hold "
    "q + 1 neurons; list tile j (0 <= j < list_tiles) is first_tile + (list_offset + j) % num_tiles and "
    "holds samples [j s, min(batch, (j + 1) s)) with s = samples_per_list_tile; an input population has "
    "no neurons on its tiles, only its list tiles"
)



def split_neurons(size: int, tiles: int) -> tuple[int, int]:
    """(q, r) of SLICE_RULE for `size` neurons over `tiles` tiles."""
    return divmod(size, tiles)


def neurons_on_tile(j, q: int, r: int):
    """Neurons on tile j of a range (an int, or an array of tile indices) under SLICE_RULE."""
    return q + (j < r)


def neuron_range(j: int, q: int, r: int) -> tuple[int, int]:
    """Neurons [start, stop) on tile j of a range under SLICE_RULE."""
    start = j * q + min(j, r)
    return (start, start + int(neurons_on_tile(j, q, r)))


@dataclass(frozen=True)
class Placement:
    """One population's tiles. See SLICE_RULE."""

    population: str
    kind: str  # "input" or "neuron"
    stage: int  # schedule stage; -1 for input populations
    ipu: int
    first_tile: int
    num_tiles: int
    size: int
    neurons_per_tile: int
    remainder: int
    list_tiles: int
    list_offset: int
    samples_per_list_tile: int

    def slice_sizes(self) -> np.ndarray:
        """Neurons on each tile of the range, in range order (read-only)."""
        return self._slice_sizes

    @cached_property
    def _slice_sizes(self) -> np.ndarray:
        if self.kind == "input":
            sizes = np.zeros(self.num_tiles, dtype=np.int64)
        else:
            sizes = neurons_on_tile(np.arange(self.num_tiles, dtype=np.int64), self.neurons_per_tile,
                                    self.remainder).astype(np.int64)
        sizes.setflags(write=False)
        return sizes

    def neuron_range(self, j: int) -> tuple[int, int]:
        """Neurons [start, stop) on tile j of the range."""
        if self.kind == "input":
            return (0, 0)
        return neuron_range(j, self.neurons_per_tile, self.remainder)

    def tile_of_neuron(self, i: int) -> int:
        q, r = self.neurons_per_tile, self.remainder
        j = i // (q + 1) if i < r * (q + 1) else r + (i - r * (q + 1)) // q
        return self.first_tile + j

    def list_tile(self, j: int) -> int:
        return self.first_tile + (self.list_offset + j) % self.num_tiles

    def list_samples(self, batch: int) -> np.ndarray:
        """Samples held by each list tile, in list order."""
        s = self.samples_per_list_tile
        starts = np.arange(self.list_tiles) * s
        return np.minimum(np.maximum(batch - starts, 0), s)

    @property
    def tiles(self) -> range:
        return range(self.first_tile, self.first_tile + self.num_tiles)


@dataclass(frozen=True)
class TileMemory:
    """Bytes per tile (rows: every tile of the target; columns: CATEGORIES), and where each
    tile's receive buffers peak: `receive_at` per tile an index into `compute_sets` (-1: the
    tile receives nothing)."""

    bytes: np.ndarray = field(compare=False, repr=False)
    bytes_per_tile: int
    receive_at: np.ndarray | None = field(default=None, compare=False, repr=False)
    compute_sets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.bytes.setflags(write=False)
        if self.receive_at is None:
            object.__setattr__(self, "receive_at", np.full(len(self.bytes), -1, dtype=np.int64))
        self.receive_at.setflags(write=False)

    @property
    def totals(self) -> np.ndarray:
        return self.bytes.sum(axis=1)

    def used_tiles(self) -> list[int]:
        return [int(t) for t in np.flatnonzero(self.totals)]

    def category(self, name: str) -> np.ndarray:
        return self.bytes[:, CATEGORIES.index(name)]

    def receive_compute_set(self, tile: int) -> str:
        """The compute set where the tile's receive buffers peak ("" if it receives nothing)."""
        i = int(self.receive_at[tile])
        return self.compute_sets[i] if i >= 0 else ""


@dataclass(frozen=True)
class ComputeSetCost:
    """One compute set of the step in the cost model: cycles of one execution (the busiest
    tile's compute, the largest receive over the exchange bandwidth, IPU-Links, the sync)."""

    name: str
    phase: str  # "forward" (the loss included), "backward" or "optimizer"
    executions: int
    compute_cycles: float
    exchange_cycles: float
    link_cycles: float
    sync_cycles: float
    exchange_bytes: float  # received by all tiles in one execution
    max_tile_bytes: float  # by the busiest tile

    @property
    def cycles(self) -> float:
        """All executions in one step."""
        return self.executions * (self.compute_cycles + self.exchange_cycles + self.link_cycles + self.sync_cycles)


@dataclass(frozen=True)
class IPUPlan:
    ipu: int
    populations: tuple[str, ...]
    arrangement: str  # "staged": each stage's populations share the IPU's tiles; "disjoint": one range each
    tiles_used: int
    first_tile: int
    last_tile: int  # inclusive; global ids of the IPU's tiles are first_tile .. first_tile + tiles_per_ipu - 1


@dataclass(frozen=True)
class Cost:
    """The cost model's prediction for one training step (see snncc.partition.cost)."""

    supersteps: int
    compute_cycles: float  # sum over supersteps of the busiest tile's vertex cycles
    compute_mean_cycles: float  # sum over supersteps of the mean over the tiles that work in it
    exchange_cycles: float
    sync_cycles: float
    link_cycles: float
    forward_cycles: float
    backward_cycles: float
    optimizer_cycles: float
    step_cycles: float  # forward + backward + optimizer + allreduce
    step_seconds: float
    samples_per_second: float  # the whole batch (all replicas) per step
    exchange_bytes_per_timestep: int  # received on chip, forward and backward, all tiles
    link_bytes_per_timestep: int  # crossing IPUs, forward and backward
    tile_compute_cycles_max: float  # per-tile sum over the step: busiest tile
    tile_compute_cycles_mean: float  # and the mean over the tiles used
    gradient_elements: int = 0  # weight and bias gradients of one replica (what replicas all-reduce)
    allreduce_bytes: int = 0  # sent by each replica in the ring all-reduce per step (0: one replica)
    allreduce_cycles: float = 0.0  # its time, in cycles at the tile clock (0: one replica)

    @property
    def balance(self) -> float:
        """Busiest tile over the mean, summed over supersteps (1 = perfectly balanced)."""
        return self.compute_cycles / self.compute_mean_cycles if self.compute_mean_cycles else 1.0


@dataclass(frozen=True)
class Plan:
    model: str
    num_ipus: int
    tiles_per_ipu: int
    bytes_per_tile: int
    workers_per_tile: int
    clock_hz: float
    batch_per_replica: int
    replication_factor: int
    timesteps: int
    placements: tuple[Placement, ...]
    ipus: tuple[IPUPlan, ...]
    tile_memory: TileMemory
    cost: Cost
    pipelined: Cost | None  # the same model with zero-delay projections made delay-1, if it has any
    compute_sets: tuple[ComputeSetCost, ...] = ()  # the cost per compute set, in step order
    layout: str = "ipu"  # "cpu": the host backend's CPU-shaped target (its replicas are MPI ranks)
    allreduce_bytes_per_second: float = 0.0  # the all-reduce bandwidth the cost assumed, per replica

    @property
    def num_tiles(self) -> int:
        """Tiles of one replica."""
        return self.num_ipus * self.tiles_per_ipu

    @property
    def ipus_used(self) -> int:
        """IPUs of all replicas together: replication_factor x num_ipus."""
        return self.replication_factor * self.num_ipus

    @property
    def samples_per_step(self) -> int:
        """The whole batch: every replica trains batch_per_replica samples at once."""
        return self.replication_factor * self.batch_per_replica

    def placement(self, population: str) -> Placement:
        for p in self.placements:
            if p.population == population:
                return p
        raise KeyError(population)

    def population_tile_bytes(self, population: str) -> np.ndarray:
        """Total bytes of each tile in the population's range (all populations on it)."""
        p = self.placement(population)
        return self.tile_memory.totals[p.first_tile : p.first_tile + p.num_tiles]

    def to_dict(self) -> dict:
        used = self.tile_memory.used_tiles()
        table = self.tile_memory.bytes
        return {
            "format": "snncc-plan/1",
            "model": self.model,
            "target": {
                "num_ipus": self.num_ipus,
                "tiles_per_ipu": self.tiles_per_ipu,
                "bytes_per_tile": self.bytes_per_tile,
                "workers_per_tile": self.workers_per_tile,
                "clock_hz": self.clock_hz,
                "replication_factor": self.replication_factor,
            },
            "batch_per_replica": self.batch_per_replica,
            "replicas": {
                "replication_factor": self.replication_factor,
                "ipus_used": self.ipus_used,
                "samples_per_step": self.samples_per_step,
                "layout": self.layout,
                "allreduce_bytes_per_second": self.allreduce_bytes_per_second,
            },
            "timesteps": self.timesteps,
            "slice_rule": SLICE_RULE,
            "populations": [asdict(p) for p in self.placements],
            "ipus": [_ipu_dict(i) for i in self.ipus],
            "tile_memory": {
                "categories": list(CATEGORIES),
                "tiles": used,
                "bytes": [[int(v) for v in table[t]] for t in used],
                "receive_compute_sets": list(self.tile_memory.compute_sets),
                "receive_at": [int(self.tile_memory.receive_at[t]) for t in used],
                "max": int(self.tile_memory.totals.max(initial=0)),
                "mean_over_used": round(float(self.tile_memory.totals[used].mean()) if used else 0.0, 1),
            },
            "cost": _cost_dict(self.cost),
            "pipelined": _cost_dict(self.pipelined) if self.pipelined else None,
            "compute_sets": [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(c).items()}
                             for c in self.compute_sets],
        }

    def to_json(self) -> str:
        # plan.json is strict JSON: a NaN or infinity is a bug to surface, not a value to write
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"


def _ipu_dict(i: IPUPlan) -> dict:
    # plan.json names the arrangement "layout" (its format, snncc-plan/1)
    return {"ipu": i.ipu, "populations": list(i.populations), "layout": i.arrangement, "tiles_used": i.tiles_used,
            "first_tile": i.first_tile, "last_tile": i.last_tile}


def _cost_dict(cost: Cost) -> dict:
    d = asdict(cost)
    d["balance"] = cost.balance
    # round floats so that plan.json is stable across platforms' last-bit differences
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}
