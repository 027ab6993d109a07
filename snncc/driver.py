"""The compile driver: a spec file through every stage to a build directory, building it,
and the INIT tensors the built program starts from.

`compile_model` is the one way from a spec file to a program: spec -> IR -> plan -> program
-> rendered files, for a target shape (LAYOUTS). The compile, build and verify commands
and the host backend all obtain their programs here, and their INIT files from init_tensors.

Environment: `POPLAR_SDK_ENABLED` (any non-empty value) says the Poplar SDK is enabled even
when `popc` is not on PATH (poplar_sdk_available); `build(..., "poplar")` and
`snncc train --backend poplar` are refused without either.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .codegen import build_dir_problem, model_files, render, write_build_dir
from .errors import UserError
from .fsutil import check_output_dir, write_errors
from .ir import ModelGraph, spec_to_ir
from .lower import LoweringError, lower, neuron_parameters
from .partition import PlanError, make_plan
from .partition.target import host_ir, with_target
from .runtime.build import BuildError, build_cmake_project
from .spec import load_spec

if TYPE_CHECKING:
    import numpy as np

    from .lower import Program
    from .partition import Plan

#: what a program's tiles are: the spec's IPU target exactly, or this machine's CPU-shaped
#: target (snncc.partition.target), which the host backend trains on by default
LAYOUTS = ("ipu", "cpu")

#: why a model has no program on a target: it does not fit, or the generator cannot lower it
COMPILE_ERRORS = (PlanError, LoweringError)


@dataclass(frozen=True)
class Compiled:
    """A spec file's program on one target shape and the build directory's files."""

    ir: ModelGraph  # on the layout's target
    plan: Plan
    program: Program
    files: dict[str, bytes]


def compile_model(path: str | os.PathLike, layout: str = "ipu", threads: int | None = None,
                  replicas: int | None = None) -> Compiled:
    """The spec file at path, planned, lowered and rendered for the layout's target: "ipu",
    the spec's target exactly; "cpu", this machine's CPU-shaped target with `threads`
    runtime threads (default: its CPUs). replicas overrides the spec's replication_factor.
    Raises COMPILE_ERRORS for a model without a program on that target; the caller says where."""
    spec = load_spec(path)
    ir = spec_to_ir(spec)
    if replicas is not None:
        ir = with_target(ir, ir.settings.target.model_copy(update={"replication_factor": replicas}))
    if layout == "cpu":
        ir = host_ir(ir, threads)
    elif layout != "ipu":
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    plan = make_plan(ir, layout=layout)
    program = lower(ir, plan)
    return Compiled(ir, plan, program, render(program, plan, model_files(spec, Path(path).parent)))


def compile_spec(path: str | os.PathLike, layout: str = "ipu",
                 threads: int | None = None) -> tuple[ModelGraph, dict[str, bytes]]:
    """The IR and the rendered build directory of a spec file (UserError for a model that
    does not fit or that the generator cannot lower)."""
    try:
        compiled = compile_model(path, layout, threads)
    except COMPILE_ERRORS as exc:
        raise UserError(f"{path}: {exc}") from None
    return compiled.ir, compiled.files


def check_build_dir_output(path: str | os.PathLike, out_dir: str | os.PathLike, option: str = "-o") -> Path:
    """out_dir, checked as the build directory of the spec file at path: new, or one that
    snncc compile wrote (render.build_dir_problem), and not holding the spec (UserError)."""
    return check_output_dir(out_dir, option, build_dir_problem, reads=[path])


def compile_to(path: str | os.PathLike, out_dir: str | os.PathLike, layout: str = "ipu",
               threads: int | None = None, option: str = "-o") -> Path:
    """Compile the spec file at path into out_dir (checked before and again at the swap)."""
    check_build_dir_output(path, out_dir, option)
    _, files = compile_spec(path, layout, threads)
    with write_errors(out_dir, option):
        return write_build_dir(files, out_dir, option)


def poplar_sdk_available() -> bool:
    """Whether the Poplar SDK is enabled in this environment: its enable.sh puts popc on
    PATH, or POPLAR_SDK_ENABLED is set (non-empty) where the SDK is enabled another way."""
    return bool(shutil.which("popc") or os.environ.get("POPLAR_SDK_ENABLED"))


def build(build_dir: str | os.PathLike, runtime: str = "host", cache_root: str | os.PathLike | None = None) -> Path:
    """Build a compiled directory; return the path of its `train` binary.

    host: against snncc's host runtime, cached by content under cache_root (default
    DIR/build). poplar: against the Poplar SDK, refused when it is not installed.
    """
    d = Path(build_dir)
    # the build writes DIR/build: only into a directory snncc compile wrote (its manifest lists it)
    if not d.is_dir() or build_dir_problem(d) is not None or not (d / "program.cpp").is_file():
        raise UserError(f"{d}: not a directory written by `snncc compile`")
    if runtime == "poplar":
        if not poplar_sdk_available():
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


def init_tensors(ir: ModelGraph) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(weights, INIT file contents): the initial weights and biases (snncc.torch.init, which
    the reference uses too) and the per-neuron parameters (snncc.lower.neuron_parameters)."""
    from .torch.init import initial_weights  # imports torch: only when a program is run

    weights = {k: v.numpy() for k, v in initial_weights(ir).items()}
    return weights, {**weights, **neuron_parameters(ir)}
