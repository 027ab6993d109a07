"""`snncc compile FILE -o DIR`: write the build directory of a model."""

from __future__ import annotations

import argparse

from ..codegen.pipeline import compile_to


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="model file (JSON)")
    parser.add_argument("-o", "--output", metavar="DIR", required=True, help="build directory to write")


def run(args: argparse.Namespace) -> int:
    out = compile_to(args.file, args.output)
    print(f"wrote {out}")
    return 0
