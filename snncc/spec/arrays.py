"""The arrays file: per-neuron parameters and given weights referenced by {"array": NAME}.

`load_arrays` reads the spec's "arrays" .npz (relative to the model file's directory) and
checks every reference in it: the file exists and is an .npz, the name is in it, the
shape fits the population or projection, and the values are in range (beta and alpha in
[0, 1], thresholds > 0, everything finite). It returns the arrays (read-only float64)
and every problem as a (JSON path, message) pair, like snncc.spec.semantic.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .models import ArrayRef, InputPopulation, ModelSpec, NeuronPopulation, Sparse

Path_ = tuple[str | int, ...]


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


def _read(path: Path) -> dict[str, np.ndarray]:
    out = {}
    with np.load(path, allow_pickle=False) as npz:
        for name in npz.files:
            out[name] = npz[name]
    return out


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
    try:
        raw = _read(path)
    except FileNotFoundError:
        return None, problems + [(("arrays",), f"no such file: {path}")]
    except IsADirectoryError:
        return None, problems + [(("arrays",), f"is a directory, not an .npz file: {path}")]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        return None, problems + [(("arrays",), f"cannot read {path} as a NumPy .npz file ({exc})")]
    arrays: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        if value.dtype.kind in "fiub":
            value = np.array(value, dtype=np.float64)
            value.setflags(write=False)
            arrays[name] = value
    for where, ref, shape, rule in refs:
        loc = where + ("array",)
        if ref.array not in raw:
            known = ", ".join(sorted(raw)) or "none"
            problems.append((loc, f"no array '{ref.array}' in {spec.arrays} (it has: {known})"))
            continue
        if ref.array not in arrays:
            problems.append((loc, f"array '{ref.array}' holds {raw[ref.array].dtype} values, not numbers"))
            continue
        value = arrays[ref.array]
        if value.shape != shape:
            problems.append((loc, f"array '{ref.array}' has shape {list(value.shape)}, expected {list(shape)}"))
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
