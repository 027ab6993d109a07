"""Rendering and atomic writing of a build directory."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import jinja2
import numpy as np

from .. import __version__
from ..fsutil import check_output_dir, exchange_paths, rename_noreplace
from ..lower import classes
from ..lower.host import host_program
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
    return env


def render(program: Program, plan: Plan, model: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Every file of the build directory (relative path -> content), manifest included.
    model: the model file train.py reads and its arrays (snncc.codegen.modelfile.model_files)."""
    env = environment()
    files: dict[str, bytes] = dict(model or {})
    context = {"prog": program, "model_file": MODEL_FILE, "codelets": classes.codelets(program),
               "loss": classes.loss_codelet(program), "host": host_program(program)}
    for name, out in sorted(RENDERED.items()):
        files[out] = env.get_template(name).render(**context).encode()
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


#: the build directory's subdirectory that `snncc build` caches its build in: moved across
#: when the directory is rewritten, so an unchanged model does not rebuild
BUILD_CACHE = "build"
#: a manifest larger than this is not an snncc manifest (a real one is a few kilobytes)
MANIFEST_MAX_BYTES = 16 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


def build_dir_problem(path: Path) -> str | None:
    """Why the non-empty directory path is not a build directory that `snncc compile` wrote
    and may replace, or None when it is one: it holds a manifest in render()'s format and
    nothing but the files that manifest lists, their directories and the build cache."""
    manifest = path / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return f"is not empty and was not written by snncc compile (no {MANIFEST}); choose a new directory"
    try:
        doc = json.loads(manifest.read_bytes()) if manifest.stat().st_size <= MANIFEST_MAX_BYTES else None
    except (OSError, ValueError):
        doc = None
    listed = doc.get("files") if isinstance(doc, dict) else None
    if not (isinstance(doc, dict) and isinstance(doc.get("snncc"), str) and isinstance(doc.get("model"), str)
            and isinstance(listed, dict) and all(isinstance(k, str) and isinstance(v, str) and _SHA256.fullmatch(v)
                                                 for k, v in listed.items())):
        return f"has a {MANIFEST} that is not one snncc compile writes; choose a new directory"
    files = set(listed) | {MANIFEST}
    dirs = {str(parent) for name in files for parent in Path(name).parents if str(parent) != "."}
    for root, subdirs, names in os.walk(path):  # does not follow links
        rel_root = Path(root).relative_to(path)
        for name in subdirs + names:
            rel = (rel_root / name).as_posix()
            if rel == BUILD_CACHE and os.path.isdir(path / rel):
                continue
            if _is_python_cache(rel, path):  # Python compiled train.py: derived, not a user's
                continue
            if rel not in (dirs if name in subdirs and not os.path.islink(path / rel) else files):
                return (f"holds {rel}, which snncc compile did not write (its {MANIFEST} does not list it); "
                        "choose a new directory or remove it")
        subdirs[:] = [d for d in subdirs if (rel_root / d).as_posix() != BUILD_CACHE]
    return None


def _is_python_cache(rel: str, root: Path) -> bool:
    """rel is a __pycache__ directory or a .pyc file in one."""
    parts = rel.split("/")
    if parts[-1] == "__pycache__":
        return os.path.isdir(root / rel) and not os.path.islink(root / rel)
    return len(parts) >= 2 and parts[-2] == "__pycache__" and parts[-1].endswith(".pyc")


def write_build_dir(files: dict[str, bytes], out_dir: str | os.PathLike, option: str = "build directory") -> Path:
    """Write files into out_dir, atomically: a new directory, or one that build_dir_problem
    accepts (anything else is refused with a UserError naming `option`).

    The files go into a temporary directory beside out_dir; a previous output's build cache
    ("build/") is moved into it; then the two are exchanged in one step (renameat2
    RENAME_EXCHANGE) and the old tree, now under the temporary name, is deleted. An
    interrupt or error at any point leaves the old or the new tree at out_dir, each with
    the cache. Files whose content did not change keep their modification time (copied
    with copy2 from the old directory).
    """
    out = check_output_dir(out_dir, option, build_dir_problem).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    # where the old tree waits, without RENAME_EXCHANGE, until the new one is in place
    aside = tmp.with_name(tmp.name + ".old")
    new_tree = os.lstat(tmp)
    had_old = out.is_dir()
    try:
        for rel, data in sorted(files.items()):
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            old = out / rel
            if had_old and old.is_file() and not old.is_symlink() and old.read_bytes() == data:
                shutil.copy2(old, path)  # unchanged: keep its timestamp
            else:
                path.write_bytes(data)
        if had_old and (out / BUILD_CACHE).is_dir():
            os.rename(out / BUILD_CACHE, tmp / BUILD_CACHE)
        if not had_old:
            rename_noreplace(tmp, out)
        elif not exchange_paths(tmp, out):
            # No atomic exchange here (not Linux, or a filesystem without it): the old tree
            # is moved aside, not deleted, until the new one is in place; out_dir is missing
            # for the moment between the two renames, and a failure there moves it back.
            if os.path.lexists(aside):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(aside))
            os.rename(out, aside)
            os.rename(tmp, out)
    except BaseException as exc:
        placed = _roll_back(out, tmp, aside, new_tree)
        if isinstance(exc, KeyboardInterrupt):
            kept = "the new build directory" if placed else "the previous build directory" if had_old else "nothing"
            raise KeyboardInterrupt(f"{out} holds {kept}") from None
        raise
    # the old tree, under whichever name it now has (an interrupt here leaves it hidden there)
    for path in (tmp, aside):
        shutil.rmtree(path, ignore_errors=True)
    return out


def _roll_back(out: Path, tmp: Path, aside: Path, new_tree: os.stat_result) -> bool:
    """After a failed write_build_dir: leave the old tree with its cache at out, or the new one
    if it is already there (True); delete the other one."""
    try:
        now = os.lstat(out)
        placed = (now.st_ino, now.st_dev) == (new_tree.st_ino, new_tree.st_dev)
    except FileNotFoundError:
        placed = False
    if placed:
        for path in (tmp, aside):
            shutil.rmtree(path, ignore_errors=True)
        return True
    if not os.path.lexists(out) and os.path.isdir(aside):
        os.rename(aside, out)
    if (tmp / BUILD_CACHE).is_dir() and out.is_dir() and not os.path.lexists(out / BUILD_CACHE):
        os.rename(tmp / BUILD_CACHE, out / BUILD_CACHE)
    shutil.rmtree(tmp, ignore_errors=True)
    return False
