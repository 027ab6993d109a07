"""Rendering and atomic writing of a build directory."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import jinja2
import numpy as np

from .. import __version__
from ..lower import BIAS_NAMES
from ..lower.program import Program
from ..partition.plan import Plan
from ..resources import resource_dir
from .modelfile import MODEL_FILE

MANIFEST = "manifest.json"

#: templates rendered per model: template -> output path
RENDERED = {
    "program.cpp.j2": "program.cpp",
    "host_vertices.cpp.j2": "host_vertices.cpp",
    "CMakeLists.txt.j2": "CMakeLists.txt",
    "codelets/model.cpp.j2": "codelets/model.cpp",
    "build_README.md.j2": "README.md",
    "train.py.j2": "train.py",
}
#: model-independent sources copied verbatim: template path -> output path
COPIED = {
    "codelets/snncc_generic.cpp": "codelets/snncc_generic.cpp",
    "host/program_support.hpp": "program_support.hpp",
    "host/program_driver.hpp": "program_driver.hpp",
}


def f32_literal(x: float) -> str:
    """An exact C++ float literal (hexadecimal) of x rounded to float32, with its decimal value."""
    v = float(np.float32(x))
    return f"{v.hex()}f /* {np.float32(v)} */"


def f64_literal(x: float) -> str:
    """An exact C++ double literal of x."""
    return repr(float(x))


def _raise(message: str):
    raise jinja2.TemplateError(message)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["f32"] = f32_literal
    env.filters["f64"] = f64_literal
    env.globals["raise"] = _raise
    env.globals["ctype"] = lambda d: {"float": "FLOAT", "unsigned": "UNSIGNED_INT"}[d]
    env.globals["bias_names"] = BIAS_NAMES
    env.filters["cs_index"] = lambda name, prog: prog.compute_set_index(name)
    env.filters["index_of"] = lambda items, x: list(items).index(x)
    return env


def render(program: Program, plan: Plan, model: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Every file of the build directory (relative path -> content), manifest included.
    model: the model file train.py reads and its arrays (snncc.codegen.modelfile.model_files)."""
    env = environment()
    files: dict[str, bytes] = dict(model or {})
    for name, out in sorted(RENDERED.items()):
        files[out] = env.get_template(name).render(prog=program, model_file=MODEL_FILE).encode()
    root = resource_dir("templates")
    for name, out in sorted(COPIED.items()):
        files[out] = (root / name).read_bytes()
    files["plan.json"] = plan.to_json().encode()
    manifest = {
        "snncc": __version__,
        "model": program.name,
        "files": {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())},
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return files


def write_build_dir(files: dict[str, bytes], out_dir: str | os.PathLike) -> Path:
    """Write files into out_dir atomically: a sibling temporary directory renamed over it.

    A build subdirectory ("build/") of a previous output is kept (moved across), so that
    an unchanged model does not rebuild. Files whose content did not change keep their
    modification time (they are hard-copied with copy2 from the old directory).
    """
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for rel, data in sorted(files.items()):
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            old = out / rel
            if old.is_file() and old.read_bytes() == data:
                shutil.copy2(old, path)  # unchanged: keep its timestamp
            else:
                path.write_bytes(data)
        if (out / "build").is_dir():
            os.replace(out / "build", tmp / "build")
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, trash / "old")
            os.replace(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        if (tmp / "build").is_dir() and out.is_dir() and not (out / "build").exists():
            os.replace(tmp / "build", out / "build")
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
