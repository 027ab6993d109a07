"""Code generation: renders templates/ from a Program into a build directory.

`render(program, plan) -> dict[relative path, bytes]` is pure and deterministic;
`write_build_dir(files, out_dir)` writes them into a new directory or over one that
`snncc compile` wrote (recognised by its manifest), atomically: a temporary directory
beside the target exchanged with it in one step, so the old or the new directory is
always in place.
"""

from __future__ import annotations

from .render import MANIFEST, render, write_build_dir

__all__ = ["MANIFEST", "render", "write_build_dir"]
