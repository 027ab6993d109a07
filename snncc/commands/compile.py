"""`snncc compile FILE -o DIR [--layout ipu|cpu]`: write the build directory of a model."""

from __future__ import annotations

import argparse

from ..codegen.pipeline import compile_to
from ..errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="model file (JSON)")
    parser.add_argument("-o", "--output", metavar="DIR", required=True, help="build directory to write")
    parser.add_argument("--layout", choices=("ipu", "cpu"), default="ipu",
                        help="tiles of the spec's IPU target (default) or of this machine's CPU-shaped target, "
                        "which `snncc train` runs by default")
    parser.add_argument("--threads", type=int, metavar="N", help="--layout cpu: runtime threads (default: the CPUs)")


def run(args: argparse.Namespace) -> int:
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads must be at least 1, not {args.threads}")
    out = compile_to(args.file, args.output, args.layout, args.threads)
    print(f"wrote {out}")
    return 0
