"""Exchange accounting: the bytes each tile receives in a superstep, counted as the host
runtime counts them (docs/runtime.md), and the bytes crossing IPU-Links.

The exchange volume of a tile is every element connected to a field of one of its vertices
that lives on another tile. The fields come from the vertex declarations of snncc.vertices
(the same the lowering instantiates): a "tile" slice is local by construction, "whole"
connects the whole tensor (minus the tile's own share), "elem0" one element. So a Forward
vertex receives the whole ring of each source's lists [B][slots][C] every timestep, not
only the samples or timesteps it reads. IPU-Link bytes: each remote tensor crosses once per
receiving IPU and superstep (an assumption: the exchange delivers it to that IPU's tiles
from one transfer). Lists are fixed-capacity and counted full (the worst case).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .. import vertices as V
from .memory import PopulationMemory
from .plan import neurons_on_tile


class Superstep:
    """Per-tile compute cycles and exchanged bytes of one superstep, plus its link bytes.

    `received` of a tile is also its receive buffers in this compute set: every edge to data on
    another tile is served by a buffer on the vertex's tile, per edge (docs/plan.md). With a
    `watch` tile, `parts` lists what each field adds there (Part)."""

    __slots__ = ("compute", "received", "link_bytes", "lo", "hi", "watch", "parts")

    def __init__(self, num_tiles: int, watch: int | None = None):
        self.compute = np.zeros(num_tiles)
        self.received = np.zeros(num_tiles)
        self.link_bytes = 0.0
        self.lo, self.hi = num_tiles, 0  # the tiles touched: [lo, hi)
        self.watch = watch
        self.parts: list[Part] = []

    def touch(self, tiles: np.ndarray) -> None:
        """Widen the window to `tiles` (sorted)."""
        if len(tiles):
            self.lo, self.hi = min(self.lo, int(tiles[0])), max(self.hi, int(tiles[-1]) + 1)


class Part(NamedTuple):
    """What one field of a vertex kind adds to a watched tile's receive buffers."""

    kind: str  # of the vertex's element: "pop", "proj" or "global"
    element: str
    family: str
    field: str
    slice: str
    owner: str  # the population (or projection) whose tensor the field reads
    bytes: int


class ReceivePeaks:
    """Per tile, the largest receive buffers over the compute sets: the bytes (what the memory
    model's category "receive" holds) and the compute set where they peak (an index into
    `names`, -1 where a tile receives nothing). The first compute set in step order wins a tie."""

    def __init__(self, num_tiles: int):
        self._peak = np.zeros(num_tiles)
        self.compute_set = np.full(num_tiles, -1, dtype=np.int64)
        self.names: list[str] = []

    @property
    def bytes(self) -> np.ndarray:
        return np.rint(self._peak).astype(np.int64)

    def add(self, name: str, step: Superstep) -> None:
        lo, hi = step.lo, max(step.lo, step.hi)
        got, peak = step.received[lo:hi], self._peak[lo:hi]
        more = got > peak
        if more.any():
            peak[more] = got[more]
            self.compute_set[lo:hi][more] = len(self.names)
        self.names.append(name)

    def compute_set_of(self, tile: int) -> str:
        i = int(self.compute_set[tile])
        return self.names[i] if i >= 0 else ""


class Tensors:
    """Where the program's tensors live: total bytes and a tile's (or an IPU's) share."""

    def __init__(self, place, memories, projections, readout, tiles_per_ipu):
        self.place, self.memories, self.proj, self.readout = place, memories, projections, readout
        self.readout_tile = place[readout].first_tile if readout else 0
        self.tiles_per_ipu = tiles_per_ipu
        self._decls: dict = {}
        self._pop_decls: dict = {}
        self.remote: dict = {}  # (owner, what, slice, tile set) -> (bytes per tile, {ipu: link bytes})

    def _elem(self, d: V.TensorDecl, pm: PopulationMemory) -> int:
        return V.DTYPE_BYTES[d.dtype]

    def decl(self, owner: tuple[str, str], what: str):
        """(TensorDecl, layout owner population, its PopulationMemory) of a population's, a
        projection's or a global tensor."""
        key = (owner, what)
        hit = self._decls.get(key)
        if hit is None:
            hit = self._decls[key] = self._decl(owner, what)
        return hit

    def _decl(self, owner: tuple[str, str], what: str):
        kind, name = owner
        if kind == "pop":
            pm = self.memories[name]
            if name not in self._pop_decls:
                self._pop_decls[name] = {d.what: d for d in pm.tensors}
            return self._pop_decls[name][what], name, pm
        if kind == "proj":
            inc, target = self.proj[name]
            pm = self.memories[target]
            i = next(i for i, v in enumerate(pm.projections) if v.id == name)
            decls = pm.projection_tensors[i]
            return next(d for d in decls if d.what == what), target, pm
        pm = self.memories[self.readout]
        decoding, _, classes = pm.readout
        return next(d for d in V.global_tensors(classes, pm.batch, decoding) if d.what == what), self.readout, pm

    def total(self, d, owner, pm) -> float:
        p = self.place[owner]
        if d.layout == "chunks":  # padded to the same chunk on every tile
            return float(_chunk(d.rows, p.num_tiles) * p.num_tiles * self._elem(d, pm))
        per = {"neuron": p.size, "list": pm.batch, "partials": p.num_tiles, "single": 1}[d.layout]
        return float(d.rows * per * self._elem(d, pm))

    def share(self, d, owner, pm, tiles: np.ndarray):
        """Bytes of the tensor on each of `tiles` (sorted), or 0.0 when it has none there."""
        p = self.place[owner]
        e = self._elem(d, pm)
        if d.layout == "single":
            if not (tiles[0] <= self.readout_tile <= tiles[-1]):
                return 0.0
            return np.where(tiles == self.readout_tile, float(d.rows * e), 0.0)
        if tiles[-1] < p.first_tile or tiles[0] >= p.first_tile + p.num_tiles:
            return 0.0
        j = tiles - p.first_tile
        inside = (j >= 0) & (j < p.num_tiles)
        if d.layout == "partials":
            return np.where(inside, float(d.rows * e), 0.0)
        if d.layout == "chunks":
            return np.where(inside, float(_chunk(d.rows, p.num_tiles) * e), 0.0)
        if d.layout == "neuron":
            n = neurons_on_tile(j, p.neurons_per_tile, p.remainder)
            return np.where(inside, d.rows * n * e, 0.0).astype(np.float64)
        lj = (j - p.list_offset) % max(p.num_tiles, 1)
        s = p.samples_per_list_tile
        samples = np.clip(pm.batch - lj * s, 0, s)
        return np.where(inside & (lj < p.list_tiles), d.rows * samples * e, 0.0).astype(np.float64)

    def ipu_share(self, d, owner, pm, ipu: int) -> float:
        """Bytes of the tensor on one IPU: all or nothing, since a population's tiles (and so
        its tensors' tiles) lie on one IPU and the globals on the readout's first tile."""
        tile = self.readout_tile if d.layout == "single" else self.place[owner].first_tile
        return self.total(d, owner, pm) if tile // self.tiles_per_ipu == ipu else 0.0


def _owner(role: str, index: int, element: tuple[str, str], tensors: Tensors) -> tuple[str, str]:
    kind, name = element
    if role == "global":
        return ("global", "")
    if role == "self":
        return element
    if kind == "proj":
        inc, target = tensors.proj[name]
        return ("pop", inc.facts.source if role == "source" else target)
    inc = tensors.memories[name].incoming[index]
    return ("proj", inc.facts.id) if role == "in" else ("pop", inc.facts.source)


def add_exchange(step: Superstep, decls: Sequence[V.VertexDecl], element: tuple[str, str], tiles: np.ndarray,
              tensors: Tensors, links: set, tile_set, index: slice | None = None, home: str | None = None) -> None:
    """Add the bytes the vertices `decls` on `tiles` connect to on other tiles (and on other
    IPUs). `tile_set` names `tiles` for the cache; `index`, if given, is `tiles` as a slice;
    `home`, the population whose neuron tiles `tiles` are (for "columns" edges)."""
    where = tiles if index is None else index
    for decl in decls:
        for f in decl.remote_fields:
            owner = _owner(f.role, f.index, element, tensors)
            key = (owner, f.what, f.slice, tile_set)
            hit = tensors.remote.get(key)
            if hit is None:
                hit = tensors.remote[key] = _remote(tensors, owner, f, tiles, home)
            remote, per_ipu = hit
            step.received[where] += remote
            if step.watch is not None:
                _watch(step, decl, f, element, owner, tiles, remote)
            for ipu, nbytes in per_ipu.items():
                if (owner, f.what, ipu) not in links:
                    links.add((owner, f.what, ipu))
                    step.link_bytes += nbytes


def _watch(step: Superstep, decl: V.VertexDecl, f, element: tuple[str, str], owner: tuple[str, str],
           tiles: np.ndarray, remote) -> None:
    """Record what field `f` of the vertices on `tiles` adds to the watched tile's receive buffers."""
    i = int(np.searchsorted(tiles, step.watch))
    if i < len(tiles) and tiles[i] == step.watch:
        nbytes = int(round(float(remote[i] if isinstance(remote, np.ndarray) else remote)))
        if nbytes:
            step.parts.append(Part(element[0], element[1], decl.family, f.name, f.slice, owner[1], nbytes))


def _chunk(entries: int, tiles: int) -> int:
    """Entries per tile of a chunks tensor (snncc.lower.check.chunk_size)."""
    return -(-entries // max(tiles, 1))


def _gathered(tensors: Tensors, d, lay, pm, f, tiles: np.ndarray, vertex_home: str) -> tuple[np.ndarray, float]:
    """(bytes each of `tiles` gathers from other tiles, bytes read in all) of a "samples", "chunk"
    or "columns" edge (snncc.vertices.Field), of a vertex whose tiles are `vertex_home`'s."""
    p = tensors.place[lay]
    e = tensors._elem(d, pm)
    if f.slice == "samples":  # list tiles of lay: nb x (every neuron but the tile's own)
        samples = dict(zip((p.list_tile(j) for j in range(p.list_tiles)), p.list_samples(pm.batch).tolist()))
        nb = np.array([samples[int(t)] for t in tiles], dtype=np.float64)
        j = tiles - p.first_tile
        own = np.where((j >= 0) & (j < p.num_tiles), neurons_on_tile(np.clip(j, 0, None), p.neurons_per_tile,
                                                                        p.remainder), 0)
        return nb * (p.size - own) * e, float(pm.batch * p.size * e)
    if f.slice == "chunk":  # every tile's block of the tile's chunk, the own block local
        c = _chunk(d.rows, p.num_tiles)
        j = tiles - p.first_tile
        width = np.clip(d.rows - j * c, 0, c)
        return (p.num_tiles - 1) * width * float(e), float(d.rows * p.num_tiles * e)
    # columns: [lo, hi) of each of the B rows of [B][G] entries, less what lies in the tile's own chunk
    sp = tensors.place[vertex_home]
    G = d.rows // pm.batch
    j = tiles - sp.first_tile
    lo = j * sp.neurons_per_tile + np.minimum(j, sp.remainder)
    hi = lo + neurons_on_tile(j, sp.neurons_per_tile, sp.remainder)
    c = _chunk(d.rows, p.num_tiles)
    k = tiles - p.first_tile
    inside = (k >= 0) & (k < p.num_tiles)
    w0, w1 = np.where(inside, k * c, 0), np.where(inside, (k + 1) * c, 0)
    rows = np.arange(pm.batch, dtype=np.int64)[None, :] * G
    local = np.clip(np.minimum(rows + hi[:, None], w1[:, None]) - np.maximum(rows + lo[:, None], w0[:, None]), 0,
                    None).sum(axis=1)
    return (pm.batch * (hi - lo) - local) * float(e), float(d.rows * e)


def _remote(tensors: Tensors, owner, f, tiles: np.ndarray, vertex_home: str | None = None):
    """(bytes each of `tiles` connects to elsewhere, {ipu: bytes crossing into it}). Every
    population's tiles, list tiles included, lie on one IPU (the Plan's invariant)."""
    d, lay, pm = tensors.decl(owner, f.what)
    if f.slice in ("samples", "chunk", "columns"):
        remote, read = _gathered(tensors, d, lay, pm, f, tiles, vertex_home)
        ipu = int(tiles[0]) // tensors.tiles_per_ipu
        nbytes = 0.0 if tensors.ipu_share(d, lay, pm, ipu) else read
        return remote, ({ipu: nbytes} if nbytes else {})
    local = tensors.share(d, lay, pm, tiles)
    if f.slice == "elem0":
        full = float(tensors._elem(d, pm))
        remote = np.where(local > 0, 0.0, full) if isinstance(local, np.ndarray) else full
    else:
        full = tensors.total(d, lay, pm)
        remote = full - local
    ipu = int(tiles[0]) // tensors.tiles_per_ipu
    here = tensors.ipu_share(d, lay, pm, ipu)
    nbytes = (0.0 if here else full) if f.slice == "elem0" else full - here
    return remote, ({ipu: nbytes} if nbytes else {})
