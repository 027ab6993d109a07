"""A verifier of the Program: every index the generated program (templates/program.cpp.j2
and program_driver.hpp) follows, checked in Python so that a bad one fails here with a
message naming the element and the index, not inside the C++.

`check_program(program, plan)` returns the problems found (empty when the program is
sound). What it checks is what the driver and the codelets do with the tables:

- elements: tile ranges within the target's tiles and equal to the plan's placements;
  source, target and incoming indices naming elements of the right kind;
- tensors: each tensor's tile mapping (its layout over its element's tiles) covers it
  exactly once, one slice per tile, within the target; its rows are what the codelets
  index by (T, B, the element's capacity, ring slots, fan-in, gradient slots);
- groups: compute sets, vertex types and patterns that exist, a pattern with the vertex
  type's fields; every edge naming an existing tensor, every tile slice within its
  tensor and on the vertex's own tile, every value an element constant;
- constants: equal to the populations' and projections' facts and the tile ranges;
- compute-set steps: each names an existing compute set, and each member has a vertex
  of the step's family in it.
"""

from __future__ import annotations

import numpy as np

from ..partition.plan import Plan
from ..vertices import optimizer_family
from .program import Element, Field, Program, TensorSpec, TileRange


def check_program(program: Program, plan: Plan) -> list[str]:
    """The problems of `program` as the lowering of `plan`, one message each."""
    return _Checker(program, plan).run()


def _neuron_bounds(r: TileRange) -> tuple[np.ndarray, np.ndarray]:
    j = np.arange(r.num_tiles, dtype=np.int64)
    q, rem = r.neurons_per_tile, r.remainder
    lo = j * q + np.minimum(j, rem)
    return lo, lo + q + (j < rem)


def _list_bounds(r: TileRange, batch: int) -> tuple[np.ndarray, np.ndarray]:
    j = np.arange(r.list_tiles, dtype=np.int64)
    s = r.samples_per_list_tile
    return np.minimum(j * s, batch), np.minimum((j + 1) * s, batch)


def chunk_size(entries: int, tiles: int) -> int:
    """Values per tile of a chunks tensor of `entries` entries (padded to tiles x this)."""
    return -(-entries // max(tiles, 1))


def _chunk_bounds(entries: int, tiles: int) -> tuple[np.ndarray, np.ndarray]:
    """[e0, e1) of each tile's chunk of a chunks tensor's entries."""
    c = chunk_size(entries, tiles)
    j = np.arange(tiles, dtype=np.int64)
    return np.minimum(j * c, entries), np.minimum((j + 1) * c, entries)


#: the slices gathered from several tiles (snncc.vertices.Field), by the layout of the tensor they read
_GATHERS = {"samples": "neuron", "chunk": "partials", "columns": "chunks"}


def _neuron_tiles(r: TileRange) -> np.ndarray:
    return r.first_tile + np.arange(r.num_tiles, dtype=np.int64)


def _list_tiles(r: TileRange) -> np.ndarray:
    return r.first_tile + (r.list_offset + np.arange(r.list_tiles, dtype=np.int64)) % max(r.num_tiles, 1)


class _Checker:
    def __init__(self, program: Program, plan: Plan) -> None:
        self.prog, self.plan = program, plan
        self.problems: list[str] = []
        self.num_tiles = program.num_ipus * program.tiles_per_ipu
        self.pops = {p.id: p for p in program.populations}
        self.projs = {p.id: p for p in program.projections}
        self.vtypes = {v.name: v for v in program.vertex_types}
        self.good_tiles: set[int] = set()  # elements whose tile range is sound
        self.index = {id(e): k for k, e in enumerate(program.elements)}
        from . import TILE_VALUES  # the lowering's: value fields the driver sets from the vertex's tile

        self.tile_values = TILE_VALUES

    def report(self, message: str) -> None:
        self.problems.append(message)

    def run(self) -> list[str]:
        prog = self.prog
        if (prog.num_ipus, prog.tiles_per_ipu, prog.bytes_per_tile) != (
                self.plan.num_ipus, self.plan.tiles_per_ipu, self.plan.bytes_per_tile):
            self.report("program: its target differs from the plan's")
        if len(set(prog.compute_sets)) != len(prog.compute_sets):
            self.report("program: compute set names repeat")
        if not prog.elements or prog.elements[-1].kind != "global":
            return self.problems + ["program: the last element is not the globals"]
        for k, e in enumerate(prog.elements):
            self.element(k, e)
        for k, e in enumerate(prog.elements):
            if k in self.good_tiles:
                self.tensors(e)
                self.constants(e)
        for k, e in enumerate(prog.elements):
            for g in e.groups:
                self.group(k, e, g)
        self.steps()
        self.program_tensors()
        return self.problems

    # ------------------------------------------------------------------ elements and tile ranges

    def name(self, e: Element) -> str:
        return f"element '{e.id}'" if e.id else "the globals"

    def element(self, k: int, e: Element) -> None:
        prog, n = self.prog, len(self.prog.elements)
        where = self.name(e)
        ok = True
        if e.kind == "population":
            if e.id not in self.pops:
                return self.report(f"{where}: no such population")
            home = e.id
        elif e.kind == "projection":
            if e.id not in self.projs:
                return self.report(f"{where}: no such projection")
            pr = self.projs[e.id]
            home = pr.target
            for what, index, pid in (("source", e.source, pr.source), ("target", e.target, pr.target)):
                if not 0 <= index < n or prog.elements[index].id != pid:
                    self.report(f"{where}: {what} index {index} does not name element '{pid}'")
        else:
            home = prog.readout.population
        if e.kind != "projection" and (e.source, e.target) != (-1, -1):
            self.report(f"{where}: source {e.source} and target {e.target}, not -1")
        if e.kind == "population":
            want = self.pops[e.id].incoming
            for i, index in enumerate(e.incoming):
                if not 0 <= index < n or prog.elements[index].kind != "projection":
                    self.report(f"{where}: incoming {i} index {index} does not name a projection element")
                    break
            else:
                if tuple(prog.elements[i].id for i in e.incoming) != want:
                    self.report(f"{where}: incoming {[prog.elements[i].id for i in e.incoming]}, not {list(want)}")
        elif e.incoming:
            self.report(f"{where}: incoming {list(e.incoming)} on a {e.kind}")
        r = e.tiles
        size = self.pops[home].size if home in self.pops else None
        if size is None:
            return self.report(f"{where}: its tiles are population '{home}''s, which does not exist")
        try:
            pl = self.plan.placement(home)
        except KeyError:
            return self.report(f"{where}: population '{home}' has no placement in the plan")
        want_range = TileRange(pl.first_tile, pl.num_tiles, pl.neurons_per_tile, pl.remainder, pl.list_tiles,
                               pl.list_offset, pl.samples_per_list_tile)
        if r != want_range or self.pops[home].tiles != want_range:
            self.report(f"{where}: tile range {r} differs from the plan's placement of '{home}' {want_range}")
            ok = False
        if r.num_tiles < 1 or r.first_tile < 0 or r.first_tile + r.num_tiles > self.num_tiles:
            return self.report(f"{where}: tiles {r.first_tile} .. {r.first_tile + r.num_tiles - 1} outside the "
                               f"target's 0 .. {self.num_tiles - 1}")
        ipu = r.first_tile // self.prog.tiles_per_ipu
        if (r.first_tile + r.num_tiles - 1) // self.prog.tiles_per_ipu != ipu:
            self.report(f"{where}: tiles {r.first_tile} .. {r.first_tile + r.num_tiles - 1} span IPUs")
            ok = False
        kind = self.pops[home].kind
        if kind == "neuron":
            lo, hi = _neuron_bounds(r)
            if hi[-1] != size or (hi <= lo).any():
                self.report(f"{where}: neurons_per_tile {r.neurons_per_tile} and remainder {r.remainder} over "
                            f"{r.num_tiles} tiles hold {int(hi[-1])} neurons, not {size} (or leave a tile empty)")
                ok = False
        if self.pops[home].spikes:
            if not 1 <= r.list_tiles <= r.num_tiles or not 0 <= r.list_offset < r.num_tiles:
                self.report(f"{where}: list_tiles {r.list_tiles} and list_offset {r.list_offset} outside its "
                            f"{r.num_tiles} tiles")
                ok = False
            elif r.samples_per_list_tile * r.list_tiles < prog.batch or r.samples_per_list_tile < 1:
                self.report(f"{where}: {r.list_tiles} list tiles of {r.samples_per_list_tile} samples do not hold "
                            f"the batch of {prog.batch}")
                ok = False
        if ok:
            self.good_tiles.add(k)

    # ------------------------------------------------------------------ tensors

    def size(self, e: Element, t: TensorSpec) -> int:
        """Values of the tensor, as the driver allocates it."""
        r = e.tiles
        if t.layout == "neuron":
            return t.rows * int(_neuron_bounds(r)[1][-1]) if r.num_tiles else 0
        if t.layout == "list":
            return t.rows * self.prog.batch
        if t.layout == "partials":
            return t.rows * r.num_tiles
        if t.layout == "chunks":
            return chunk_size(t.rows, r.num_tiles) * r.num_tiles
        return t.rows

    def mapping(self, e: Element, t: TensorSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tiles, starts, stops) of the tensor's slices, in values, as the driver maps it."""
        r = e.tiles
        if t.layout == "neuron":
            lo, hi = _neuron_bounds(r)
            tiles = _neuron_tiles(r)
        elif t.layout == "list":
            lo, hi = _list_bounds(r, self.prog.batch)
            tiles = _list_tiles(r)
        elif t.layout == "partials":
            lo = np.arange(r.num_tiles, dtype=np.int64)
            hi, tiles = lo + 1, _neuron_tiles(r)
        elif t.layout == "chunks":
            c = chunk_size(t.rows, r.num_tiles)
            lo = c * np.arange(r.num_tiles, dtype=np.int64)
            return _neuron_tiles(r), lo, lo + c
        else:
            return np.array([r.first_tile]), np.array([0]), np.array([t.rows])
        keep = hi > lo
        return tiles[keep], t.rows * lo[keep], t.rows * hi[keep]

    def tensors(self, e: Element) -> None:
        where = self.name(e)
        seen: set[str] = set()
        for t in e.tensors:
            what = self.what(e, t)
            if what in seen:
                self.report(f"{where}: tensor '{what}' declared twice")
            seen.add(what)
            if t.owner != self.home(e).id:
                self.report(f"{where}: tensor '{what}' is owned by '{t.owner}', not by '{self.home(e).id}' whose tiles hold it")
            if t.layout not in ("neuron", "list", "partials", "chunks", "single"):
                self.report(f"{where}: tensor '{what}' has layout '{t.layout}'")
                continue
            if t.rows < 1:
                self.report(f"{where}: tensor '{what}' has {t.rows} rows")
                continue
            if t.layout == "list" and not self.home(e).spikes:
                self.report(f"{where}: tensor '{what}' has the list layout on a population without lists")
                continue
            if t.layout in ("partials", "chunks") and e.kind != "projection":
                self.report(f"{where}: tensor '{what}' has the {t.layout} layout outside a projection")
                continue
            tiles, starts, stops = self.mapping(e, t)
            size = self.size(e, t)
            if len(tiles) == 0 or starts[0] != 0 or stops[-1] != size or (starts[1:] != stops[:-1]).any():
                self.report(f"{where}: tensor '{what}' of {size} values is not covered exactly once by its tile "
                            "mapping")
            if ((tiles < 0) | (tiles >= self.num_tiles)).any():
                self.report(f"{where}: tensor '{what}' mapped to tile {int(tiles.max())}, outside the target's "
                            f"0 .. {self.num_tiles - 1}")
            if len(np.unique(tiles)) != len(tiles):
                self.report(f"{where}: tensor '{what}' has two slices on one tile")

    @staticmethod
    def what(e: Element, t: TensorSpec) -> str:
        return t.name.split(".")[-1] if e.id else t.name

    def home(self, e: Element):
        """The population whose tiles hold the element."""
        if e.kind == "population":
            return self.pops[e.id]
        if e.kind == "projection":
            return self.pops[self.projs[e.id].target]
        return self.pops[self.prog.readout.population]

    def expected_rows(self, e: Element) -> dict[str, int]:
        """Rows of each tensor as the codelets index it ([T][C] lists, [slots][B] rings, [fan-in][n] weights)."""
        T, B = self.prog.timesteps, self.prog.batch
        if e.kind == "population":
            p = self.pops[e.id]
            C, S = p.capacity, p.ring_slots
            rows = {"ids": T * C, "counts": T * 2, "overflow": T, "ringIds": S * C, "ringCounts": S * 2,
                    "mem": (T + 1) * B, "syn": (T + 1) * B, "code": B, "carrySyn": B, "carryU": B, "dI": B,
                    "dS": S * B}
            rows.update(dict.fromkeys(("beta", "alpha", "threshold", "gradient_level"), 1))
            return rows
        if e.kind == "projection":
            pr = self.projs[e.id]
            rows = dict.fromkeys(("w", "dw", "m", "v", "buf"), pr.n_in)
            rows.update(dict.fromkeys(("b", "db", "bm", "bv", "bbuf"), 1))
            rows["partials"] = rows["sums"] = B * pr.grad_slots
            return rows
        K = self.prog.readout.classes
        return {"t": 1, "hyper": 8, "labels": B, "scores": B * K, "loss": B, "dScore": B * K, "tMax": B * K}

    def constants(self, e: Element) -> None:
        where = self.name(e)
        prog = self.prog
        rows = self.expected_rows(e)
        for t in e.tensors:
            what = self.what(e, t)
            if what in rows and t.rows != rows[what]:
                self.report(f"{where}: tensor '{what}' has {t.rows} rows, the codelets index {rows[what]}")
        values = dict(e.values)
        if len(values) != len(e.values):
            self.report(f"{where}: a constant is given twice")
        want: dict[str, int] = {}
        r = e.tiles
        if e.kind == "population":
            p = self.pops[e.id]
            want = {"C": p.capacity, "tiles": r.num_tiles, "q": r.neurons_per_tile, "r": r.remainder,
                    "slots": p.ring_slots, "lag": p.ring_slots - 1}
            for k, pid in enumerate(p.incoming):
                pr = self.projs.get(pid)
                if pr is None or pr.source not in self.pops:
                    self.report(f"{where}: incoming {k} '{pid}' is no projection from a population")
                    continue
                src = self.pops[pr.source]
                want.update({f"C{k}": src.capacity, f"delay{k}": pr.delay, f"slots{k}": src.ring_slots})
                if not pr.delay < src.ring_slots:
                    self.report(f"{where}: incoming {k} '{pid}' has delay {pr.delay}, but the ring of "
                                f"'{pr.source}' holds {src.ring_slots} slots")
        elif e.kind == "projection":
            pr = self.projs[e.id]
            src = self.pops.get(pr.source)
            if src is None:
                return self.report(f"{where}: source '{pr.source}' is no population")
            if pr.n_in != src.size:
                self.report(f"{where}: n_in {pr.n_in}, its source '{pr.source}' has {src.size} neurons")
            if pr.n_out != self.pops[pr.target].size:
                self.report(f"{where}: n_out {pr.n_out}, its target '{pr.target}' has "
                            f"{self.pops[pr.target].size} neurons")
            want = {"C": src.capacity, "nin": pr.n_in, "delay": pr.delay, "G": pr.grad_slots, "P": r.num_tiles,
                    "slots": src.ring_slots}
        for name, value in values.items():
            if name not in want:
                self.report(f"{where}: constant '{name}' = {value} is none the codelets know")
            elif value != want[name]:
                self.report(f"{where}: constant '{name}' = {value}, it should be {want[name]}")

    # ------------------------------------------------------------------ vertices

    def group(self, k: int, e: Element, g) -> None:
        prog = self.prog
        where = self.name(e)
        if not 0 <= g.compute_set < len(prog.compute_sets):
            return self.report(f"{where}: a group's compute set index {g.compute_set} outside 0 .. "
                               f"{len(prog.compute_sets) - 1}")
        at = f"{where}, vertex '{g.vertex}' in compute set '{prog.compute_sets[g.compute_set]}'"
        vt = self.vtypes.get(g.vertex)
        if vt is None:
            return self.report(f"{at}: no such vertex type")
        if not 0 <= g.pattern < len(prog.patterns):
            return self.report(f"{at}: pattern index {g.pattern} outside 0 .. {len(prog.patterns) - 1}")
        pat = prog.patterns[g.pattern]
        if pat.over != vt.decl.over or tuple(f.name for f in pat.fields) != tuple(f.name for f in vt.fields):
            self.report(f"{at}: pattern {g.pattern} does not bind the vertex type's fields over its tiles")
        if k not in self.good_tiles:
            return
        if pat.over == "source_neurons":
            if e.kind != "projection":
                return self.report(f"{at}: runs over source neurons outside a projection")
            if e.source not in self.good_tiles:
                return  # a bad source index or tile range, reported with the element
            home = prog.elements[e.source]
        else:
            home = e
        r = home.tiles
        if pat.over == "lists":
            if not self.home(home).spikes:
                return self.report(f"{at}: runs over list tiles of a population without lists")
            lo, hi = _list_bounds(r, prog.batch)
            tiles = _list_tiles(r)
            keep = hi > lo
            lo, hi, tiles, j = lo[keep], hi[keep], tiles[keep], np.flatnonzero(keep)
        elif pat.over == "single":
            lo, hi, tiles, j = np.array([0]), np.array([1]), np.array([r.first_tile]), np.array([0])
        else:
            lo, hi = _neuron_bounds(r)
            tiles, j = _neuron_tiles(r), np.arange(r.num_tiles)
        values = dict(e.values)
        for f in pat.fields:
            self.field(at, vt, e, f, values, lo, hi, tiles, j)

    def owner(self, e: Element, f: Field) -> int | str:
        """The index of the element whose tensor the field's edge reads, or why there is none."""
        els = self.prog.elements
        n = len(els)
        if f.role == "self":
            return self.index[id(e)]
        if f.role in ("source", "target"):
            if e.kind != "projection":
                return f"role '{f.role}' outside a projection"
            k = e.source if f.role == "source" else e.target
            return k if 0 <= k < n else f"{f.role} index {k} outside the elements"
        if f.role in ("in", "in_source"):
            if e.kind != "population":
                return f"role '{f.role}' outside a population"
            if not 0 <= f.index < len(e.incoming):
                return f"incoming index {f.index} outside its {len(e.incoming)} incoming projections"
            k = e.incoming[f.index]
            if not 0 <= k < n:
                return f"incoming {f.index} index {k} outside the elements"
            if f.role == "in":
                return k
            k = els[k].source
            return k if 0 <= k < n else f"the source index {k} of incoming {f.index} outside the elements"
        if f.role == "global":
            return n - 1
        return f"role '{f.role}'"

    def field(self, at: str, vt, e: Element, f: Field, values, lo, hi, tiles, j) -> None:
        if f.role == "value":
            if f.what not in self.tile_values and f.what not in values:
                self.report(f"{at}: field '{f.name}' reads constant '{f.what}', which {self.name(e)} does not have")
            return
        k = self.owner(e, f)
        if isinstance(k, str):
            return self.report(f"{at}: field '{f.name}': {k}")
        owner = self.prog.elements[k]
        tensor = next((t for t in owner.tensors if self.what(owner, t) == f.what), None)
        if tensor is None:
            return self.report(f"{at}: field '{f.name}' names tensor '{f.what}', which {self.name(owner)} does not "
                               "have")
        # Poplar refuses an edge to a tensor of another element type
        elem = vt.state if f.elem == "T" else f.elem
        if elem != tensor.dtype:
            self.report(f"{at}: field '{f.name}' holds {elem or 'T of a plain class'}, tensor '{f.what}' is "
                        f"{tensor.dtype}")
        if k not in self.good_tiles:
            return
        size = self.size(owner, tensor)
        if f.slice == "elem0":
            if size < 1:
                self.report(f"{at}: field '{f.name}' reads element 0 of the empty tensor '{f.what}'")
            return
        if f.slice == "whole":
            return
        if f.slice in _GATHERS:
            return self.gather(at, e, f, owner, tensor, k)
        if f.slice != "tile":
            return self.report(f"{at}: field '{f.name}' has slice '{f.slice}'")
        # the driver connects rows x [lo, hi) (partials: rows x [j, j + 1); chunks: tile j's chunk)
        if tensor.layout == "partials":
            a, z = tensor.rows * j, tensor.rows * (j + 1)
        elif tensor.layout == "chunks":
            a, z = (b[j] for b in _chunk_bounds(tensor.rows, owner.tiles.num_tiles))
        else:
            a, z = tensor.rows * lo, tensor.rows * hi
        bad = np.flatnonzero((a < 0) | (z > size))
        if len(bad):
            i = int(bad[0])
            return self.report(f"{at}: field '{f.name}' slice [{int(a[i])}, {int(z[i])}) of tensor '{f.what}' on "
                               f"tile {int(tiles[i])} outside its {size} values")
        mt, ms, mz = self.mapping(owner, tensor)
        order = np.argsort(mt, kind="stable")
        mt, ms, mz = mt[order], ms[order], mz[order]
        pos = np.clip(np.searchsorted(mt, tiles), 0, max(len(mt) - 1, 0))
        local = ((len(mt) > 0) & (mt[pos] == tiles) & (ms[pos] <= a) & (z <= mz[pos])) | (a == z)
        bad = np.flatnonzero(~local)
        if len(bad):
            i = int(bad[0])
            self.report(f"{at}: field '{f.name}' slice [{int(a[i])}, {int(z[i])}) of tensor '{f.what}' is not on "
                        f"the vertex's tile {int(tiles[i])}")

    def gather(self, at: str, e: Element, f: Field, owner: Element, tensor: TensorSpec, k: int) -> None:
        """A slice gathered from several tiles: the element, layout and rows it is defined for (its
        blocks then lie within the tensor by the slicing rule)."""
        layout = _GATHERS[f.slice]
        if k != self.index[id(e)]:
            return self.report(f"{at}: field '{f.name}' gathers '{f.slice}' from another element's tensor")
        if tensor.layout != layout:
            return self.report(f"{at}: field '{f.name}' gathers '{f.slice}' of tensor '{f.what}' with layout "
                               f"'{tensor.layout}', not '{layout}'")
        B = self.prog.batch
        if f.slice == "samples":
            want = B
        elif f.slice == "columns":
            want = B * self.pops[self.projs[e.id].source].size
        else:
            return
        if tensor.rows != want:
            self.report(f"{at}: field '{f.name}' gathers '{f.slice}' of tensor '{f.what}' with {tensor.rows} rows, "
                        f"not {want}")

    # ------------------------------------------------------------------ steps and the tensor list

    def steps(self) -> None:
        prog = self.prog
        index = {name: k for k, name in enumerate(prog.compute_sets)}
        by_id = {e.id: e for e in prog.elements if e.id}
        steps = prog.forward + prog.backward + (prog.loss_step, prog.update)
        if tuple(s.name for s in steps) != prog.compute_sets:
            self.report("program: the compute sets are not the steps' in order")
        used = {g.compute_set for e in prog.elements for g in e.groups}
        for s in steps:
            if s.name not in index:
                self.report(f"compute set step '{s.name}': no such compute set")
                continue
            if index[s.name] not in used:
                self.report(f"compute set step '{s.name}': no vertex runs in it")
            for m in s.members:
                e = by_id.get(m)
                if e is None:
                    self.report(f"compute set step '{s.name}': member '{m}' is no element")
                    continue
                families = {self.vtypes[g.vertex].decl.family for g in e.groups
                            if g.compute_set == index[s.name] and g.vertex in self.vtypes}
                want = optimizer_family(prog.optimizer.kind, prog.optimizer.momentum, prog.state == "half") \
                    if s.vertex == "Optimizer" else s.vertex
                if want not in families:
                    self.report(f"compute set step '{s.name}': member '{m}' has no {s.vertex} vertex in it")

    def program_tensors(self) -> None:
        """Program.tensors lists the elements' tensors, each once, with the same layout and rows."""
        prog = self.prog
        listed = {t.name: t for t in prog.tensors}
        if len(listed) != len(prog.tensors):
            self.report("program: a tensor name repeats in its tensor list")
        declared = {t.name: t for e in prog.elements for t in e.tensors}
        if len(declared) != sum(len(e.tensors) for e in prog.elements):
            self.report("program: two elements declare a tensor of one name")
        for name in sorted(set(listed) ^ set(declared)):
            self.report(f"program: tensor '{name}' is in {'the tensor list' if name in listed else 'an element'} "
                        "only")
        for name in sorted(set(listed) & set(declared)):
            if listed[name] != declared[name]:
                self.report(f"program: tensor '{name}' differs between the tensor list and its element")
