"""spec file -> build directory, and building it: what the compile, build and verify commands share."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import UserError
from ..ir import ModelGraph, spec_to_ir
from ..lower import LoweringError, lower
from ..partition import PlanError, make_plan
from ..runtime.build import BuildError, build_cmake_project
from ..spec import load_spec
from .render import render, write_build_dir


def compile_spec(path: str | os.PathLike) -> tuple[ModelGraph, dict[str, bytes]]:
    """The IR and the rendered build directory of a spec file (UserError for a model that
    does not fit or that the generator cannot lower)."""
    ir = spec_to_ir(load_spec(path))
    try:
        plan = make_plan(ir)
        program = lower(ir, plan)
    except (PlanError, LoweringError) as exc:
        raise UserError(f"{path}: {exc}") from None
    return ir, render(program, plan)


def compile_to(path: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    _, files = compile_spec(path)
    try:
        return write_build_dir(files, out_dir)
    except OSError as exc:
        raise UserError(f"cannot write {out_dir}: {exc.strerror or exc}") from None


def build(build_dir: str | os.PathLike, runtime: str = "host", cache_root: str | os.PathLike | None = None) -> Path:
    """Build a compiled directory; return the path of its `train` binary.

    host: against snncc's host runtime, cached by content under cache_root (default
    DIR/build). poplar: against the Poplar SDK, refused when it is not installed.
    """
    d = Path(build_dir)
    if not (d / "CMakeLists.txt").is_file() or not (d / "program.cpp").is_file():
        raise UserError(f"{d}: not a directory written by `snncc compile`")
    if runtime == "poplar":
        if not shutil.which("popc") and not os.environ.get("POPLAR_SDK_ENABLED"):
            raise UserError("--runtime poplar: the Poplar SDK is not installed or not enabled (no popc on PATH; "
                            "source the SDK's enable.sh), use --runtime host")
        args = ["-DSNNCC_RUNTIME=poplar"]
    else:
        args = ["-DSNNCC_RUNTIME=host"]
    try:
        out = build_cmake_project(d, cache_root=cache_root if cache_root is not None else d / "build",
                                  cmake_args=args, prebuilt_runtime=runtime == "host")
    except BuildError as exc:
        raise UserError(f"{exc.stage} of {d} failed: {exc.first_error} (full log: {exc.log_path})") from None
    return out / "train"
