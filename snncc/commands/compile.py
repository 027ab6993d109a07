"""`snncc compile FILE -o DIR [--layout ipu|cpu]`: write the build directory of a model."""

from __future__ import annotations

import argparse

from ..driver import compile_to
from . import add_layout_arguments, checked_threads


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="model file (JSON)")
    parser.add_argument("-o", "--output", metavar="DIR", required=True, help="build directory to write")
    add_layout_arguments(parser, "tiles of the spec's IPU target (default) or of this machine's CPU-shaped "
                         "target, which `snncc train` runs by default")


def run(args: argparse.Namespace) -> int:
    # compile_to refuses an -o that is not new or an earlier build directory, before compiling
    out = compile_to(args.file, args.output, args.layout, checked_threads(args))
    print(f"wrote {out}")
    return 0
