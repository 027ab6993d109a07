"""The arrays file: per-neuron parameters and given weights referenced by {"array": NAME}.

`load_arrays` reads the spec's "arrays" .npz (relative to the model file's directory) and
checks every reference in it: the file exists and is an .npz, the name is in it, the
shape fits the population or projection, and the values are in range (beta and alpha in
[0, 1], thresholds > 0, everything finite). It returns the referenced arrays (read-only
float64) and every problem as a (JSON path, message) pair, like snncc.spec.semantic.
Only referenced members are read, each after the shape and dtype in its .npy header
matched and the memory it needs fits (snncc.data.npzfile), so that an archive's other or
forged members cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .jsonloc import Path_
from .models import ArrayRef, ModelSpec, NeuronPopulation, Sparse


def references(spec: ModelSpec) -> Iterator[tuple[Path_, ArrayRef, tuple[int, ...], str]]:
    """Every ArrayRef of a spec: (JSON path, ref, expected shape, range rule 'fraction'|'positive'|'finite')."""
    sizes = {p.id: p.size for p in spec.populations}
    for i, pop in enumerate(spec.populations):
        if not isinstance(pop, NeuronPopulation):
            continue
        for name, rule in (("beta", "fraction"), ("alpha", "fraction"), ("threshold", "positive")):
            value = getattr(pop.neuron, name, None)
            if isinstance(value, ArrayRef):
                yield ("populations", i, "neuron", name), value, (pop.size,), rule
    for i, proj in enumerate(spec.projections):
        if proj.source not in sizes or proj.target not in sizes:
            continue  # reported by the semantic checks
        if proj.initial_weights is not None:
            yield ("projections", i, "initial_weights"), proj.initial_weights, (sizes[proj.source], sizes[proj.target]), "finite"
        if proj.initial_bias is not None:
            yield ("projections", i, "initial_bias"), proj.initial_bias, (sizes[proj.target],), "finite"


def _read_referenced(path: Path, label: str, refs) -> tuple[dict[str, np.ndarray], list[tuple[Path_, str]], str | None]:
    """The referenced members of the arrays file, as read-only float64, and the problems of
    each reference; or a problem of the whole file (third element). Only referenced members
    are inflated, each after its header's shape and dtype matched and its memory fits."""
    from .. import machine
    from ..data.npzfile import NpzArchive, NpzError, not_regular_file
    from ..textfmt import format_memory

    if (why := not_regular_file(path)) is not None:
        return {}, [], why
    try:
        archive = NpzArchive(path)
    except NpzError as exc:
        return {}, [], f"cannot read {path} as a NumPy .npz file: {exc}"
    except OSError as exc:
        return {}, [], f"cannot read {path}: {exc.strerror}"
    arrays: dict[str, np.ndarray] = {}
    problems: list[tuple[Path_, str]] = []
    budget = machine.machine_memory()
    with archive:
        for where, ref, shape, _rule in refs:
            loc = where + ("array",)
            name = ref.array
            if name in arrays:
                if arrays[name].shape != shape:
                    problems.append((loc, f"array '{name}' has shape {list(arrays[name].shape)}, expected {list(shape)}"))
                continue
            if name not in archive.members:
                known = ", ".join(archive.names) or "none"
                problems.append((loc, f"no array '{name}' in {label} (it has: {known})"))
                continue
            try:
                head = archive.header(name)
                if not head.numeric:
                    problems.append((loc, f"array '{name}' holds {head.dtype} values, not numbers"))
                    continue
                if head.shape != shape:
                    problems.append((loc, f"array '{name}' has shape {list(head.shape)}, expected {list(shape)}"))
                    continue
                needed = head.nbytes + 8 * head.size  # as stored, then as float64
                if needed > budget:
                    problems.append((loc, f"array '{name}' {list(shape)} needs {format_memory(needed)} of memory to "
                                     f"read, this machine has {format_memory(budget)}"))
                    budget = 0  # the rest cannot be read either
                    continue
                budget -= 8 * head.size
                value = np.array(archive.read(name), dtype=np.float64)
            except NpzError as exc:
                problems.append((loc, f"{label}: {exc}"))
                continue
            value.setflags(write=False)
            arrays[name] = value
    return arrays, problems, None


def load_arrays(spec: ModelSpec, base_dir: Path | None) -> tuple[dict[str, np.ndarray] | None, list[tuple[Path_, str]]]:
    """The checked arrays of a schema-valid spec (None without "arrays") and every problem."""
    problems: list[tuple[Path_, str]] = []
    for i, proj in enumerate(spec.projections):
        if proj.initial_bias is not None and not proj.bias:
            problems.append((("projections", i, "initial_bias"), "initial_bias needs \"bias\": true"))
        if proj.initial_weights is not None and isinstance(proj.connectivity, Sparse):
            problems.append((("projections", i, "initial_weights"),
                             "initial_weights needs dense connectivity (a sparse mask would change them)"))
    refs = list(references(spec))
    if spec.arrays is None:
        for where, ref, _, _ in refs:
            problems.append((where + ("array",), f"array '{ref.array}' needs an arrays file: add \"arrays\": "
                             "\"FILE.npz\" at the top level"))
        return None, problems
    path = (base_dir if base_dir is not None else Path(".")) / spec.arrays
    arrays, read_problems, whole = _read_referenced(path, spec.arrays, refs)
    if whole is not None:
        return None, problems + [(("arrays",), whole)]
    problems += read_problems
    reported = {p[0] for p in read_problems}
    for where, ref, shape, rule in refs:
        loc = where + ("array",)
        value = arrays.get(ref.array)
        if loc in reported or value is None or value.shape != shape:
            continue
        if not np.isfinite(value).all():
            problems.append((loc, f"array '{ref.array}' holds NaN or infinite values"))
        elif rule == "fraction" and ((value < 0) | (value > 1)).any():
            bad = int(np.flatnonzero((value < 0) | (value > 1))[0])
            problems.append((loc, f"array '{ref.array}': {where[-1]} must be in [0, 1], element {bad} is {value[bad]:g}"))
        elif rule == "positive" and (value <= 0).any():
            bad = int(np.flatnonzero(value <= 0)[0])
            problems.append((loc, f"array '{ref.array}': {where[-1]} must be > 0, element {bad} is {value[bad]:g}"))
    return arrays, problems


def spec_arrays(spec: ModelSpec) -> dict[str, np.ndarray]:
    """The arrays of a spec read by parse_spec/load_spec (empty without an arrays file)."""
    if spec.arrays is not None and spec._arrays is None:
        raise ValueError("the spec's arrays were not loaded: read the spec with snncc.spec.load_spec or parse_spec")
    return spec._arrays or {}


def value(number_or_ref, spec: ModelSpec):
    """A float as given, or the referenced array (read-only float64)."""
    if isinstance(number_or_ref, ArrayRef):
        return spec_arrays(spec)[number_or_ref.array]
    return number_or_ref
