"""`snncc plan FILE [--json] [--plot FILE.png] [--layout ipu|cpu]`: the tile/IPU plan and the predicted step time."""

from __future__ import annotations

import argparse

from ..errors import UserError
from ..fsutil import PNG, check_output_file, write_bytes_atomic, write_errors
from ..ir import spec_to_ir
from ..partition import PlanError, make_plan
from ..partition.report import plot_png, text
from ..partition.target import host_ir
from ..spec import load_spec
from . import add_layout_arguments, checked_threads


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="model file (JSON)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON (plan.json) instead of a report")
    parser.add_argument("--plot", metavar="FILE.png", help="also draw the memory per tile into FILE.png")
    add_layout_arguments(parser, "plan for the spec's IPU target (default) or for this machine's CPU-shaped "
                         "target, which `snncc train` uses by default (its times are IPU cycles, not CPU times)")


def run(args: argparse.Namespace) -> int:
    threads = checked_threads(args)
    if args.plot is not None:
        check_output_file(args.plot, "--plot", PNG, reads=[args.file])
    ir = spec_to_ir(load_spec(args.file))
    if args.layout == "cpu":
        ir = host_ir(ir, threads)
    try:
        plan = make_plan(ir, layout=args.layout)
    except PlanError as exc:
        raise UserError(f"{args.file}: {exc}") from None
    print(plan.to_json() if args.json else text(plan), end="")
    if args.plot is not None:
        with write_errors(args.plot, "--plot"):
            write_bytes_atomic(args.plot, plot_png(plan))
    return 0
