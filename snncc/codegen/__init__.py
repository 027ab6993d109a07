"""Code generation: renders templates/ from a Program into a build directory.

`render(program, plan, model) -> dict[relative path, bytes]` is pure and deterministic
(`model`: the model file and arrays that train.py reads, modelfile.model_files);
`write_build_dir(files, out_dir)` writes them into a new directory or over one that
`snncc compile` wrote (recognised by its manifest, build_dir_problem), atomically: a
temporary directory beside the target exchanged with it in one step, so the old or the new
directory is always in place. Compiling a spec file and building the directory is the
driver's (snncc.driver).
"""

from __future__ import annotations

from .modelfile import model_files
from .render import MANIFEST, build_dir_problem, render, write_build_dir

__all__ = ["MANIFEST", "build_dir_problem", "model_files", "render", "write_build_dir"]
