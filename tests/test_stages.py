"""No module of snncc imports from a later stage of the pipeline.

Every import of every module under snncc/ (at module level and inside functions) is read
with `ast` and placed by the part of snncc it names (its first component: snncc.partition.cost
is in "partition"). A module may import its own part, a neutral part, or a part of an earlier
stage; an import of a later stage fails, and so does a part the table below does not place.

The stages, in order: the spec, the IR, the vertex vocabulary, the partitioner (Plan), the
lowering (Program), code generation (files); then what runs a compiled model (the compile
driver, the backends, verification against the reference), the subcommands and the CLI.

Where the two sides sit:

- `snncc.torch`, the reference semantics, is the oracle the compiled program is checked
  against, so it reads only the spec and the IR: it may import spec and ir (and neutral
  parts), no compiler stage, so that nothing the compiler decides can leak into the oracle.
  What runs or compares against it (the backends, the driver, verification, the commands)
  may import it; the compiler stages and codegen may not.
- `snncc.nir` translates NIR graphs to and from models: the importer writes a spec, the
  exporter writes a model's weights, the initial ones (from the reference's initialisation)
  or a checkpoint's. It reads the reference, so it sits with what runs a compiled model;
  only the commands use it.
- `snncc.runtime` builds the C++ host runtime and the generated build directories (CMake);
  it runs what codegen writes and sits with codegen.
- The package root (`snncc/__init__.py`, the version) is neutral; `__main__` is the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import snncc

ROOT = Path(snncc.__file__).resolve().parent

#: the stages in pipeline order: a part may import parts of its own stage or earlier ones
STAGES: tuple[tuple[str, ...], ...] = (
    ("spec",),
    ("ir",),
    ("vertices",),
    ("partition",),
    ("lower",),
    ("codegen", "runtime"),
    ("backends", "driver", "verify", "nir"),
    ("commands",),
    ("cli", "__main__"),
)
#: parts any stage may import
NEUTRAL = frozenset({"", "errors", "fsutil", "textfmt", "resources", "machine", "data", "runs", "tensorfile"})
#: the reference semantics: what it may import, and the first stage that may import it
REFERENCE = "torch"
REFERENCE_READS = frozenset({"spec", "ir"})
REFERENCE_READERS_FROM = "backends"

RANK = {part: i for i, stage in enumerate(STAGES) for part in stage}


def _part(module: str) -> str:
    """The part of snncc a dotted module name (under snncc) belongs to; "" for the root."""
    parts = module.split(".")
    assert parts[0] == "snncc", module
    return parts[1] if len(parts) > 1 else ""


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    names = list(rel.parts)
    if names[-1] == "__init__":
        names.pop()
    return ".".join(names)


def _imports(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported snncc module) for every import in a module's source, inside functions too."""
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(source)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "snncc"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "snncc":
                continue
            if node.module is None or target == "snncc":  # `from .. import vertices`: each name may be a part
                out += [(node.lineno, f"{target}.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, target))
    return out


def _allowed(importer: str, imported: str) -> bool:
    if imported == importer or imported in NEUTRAL:
        return True
    if importer in NEUTRAL:
        return imported in NEUTRAL or RANK.get(imported) == 0  # data and torch-free helpers read the spec
    if importer == REFERENCE:
        return imported in REFERENCE_READS
    if imported == REFERENCE:
        return RANK[importer] >= RANK[REFERENCE_READERS_FROM]
    return RANK[imported] <= RANK[importer]


def _placed(part: str) -> bool:
    return part in RANK or part in NEUTRAL or part == REFERENCE


def test_every_part_of_snncc_is_placed():
    parts = {_part(_module_name(p)) for p in ROOT.rglob("*.py")}
    unplaced = sorted(p for p in parts if not _placed(p))
    assert not unplaced, f"parts of snncc/ not in the stage table of {__file__}: {unplaced}"


def test_no_module_imports_a_later_stage():
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        importer = _part(_module_name(path))
        for line, target in _imports(path.read_text(), _module_name(path), path.name == "__init__.py"):
            imported = _part(target)
            if imported and not (ROOT / imported).exists() and not (ROOT / f"{imported}.py").exists():
                # `from .. import __version__`: a name of the root, not a part
                imported = ""
            if not _placed(imported):
                problems.append(f"{path.relative_to(ROOT.parent)}:{line}: imports {target}, which the table does "
                                f"not place")
            elif _placed(importer) and not _allowed(importer, imported):
                problems.append(f"{path.relative_to(ROOT.parent)}:{line}: {importer} imports {target} "
                                f"({imported}, a later stage)")
    assert not problems, "\n".join(problems)


def test_the_walk_sees_imports_inside_functions():
    source = "import numpy\n\ndef f():\n    from ..lower import lower\n    from .. import vertices as V\n"
    assert _imports(source, "snncc.partition.cost", False) == [(4, "snncc.lower"), (5, "snncc.vertices")]
    assert not _allowed("partition", "lower") and _allowed("lower", "partition")
    assert not _allowed("torch", "partition") and _allowed("verify", "torch") and not _allowed("codegen", "torch")
