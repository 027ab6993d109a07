"""Code generation: renders templates/ from a Program into a build directory.

`render(program, plan) -> dict[relative path, bytes]` is pure and deterministic;
`write_build_dir(files, out_dir)` writes them atomically (a temporary directory beside
the target, then a rename; the previous build directory survives any failure).
"""

from __future__ import annotations

from .render import MANIFEST, render, write_build_dir

__all__ = ["MANIFEST", "render", "write_build_dir"]
