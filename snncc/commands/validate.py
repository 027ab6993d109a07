"""`snncc validate FILE...`: one line per problem on stderr, exit 1 if any file has one."""

from __future__ import annotations

import argparse
import sys

from ..spec import SpecError, load_spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="model files (JSON)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing for valid files")


def run(args: argparse.Namespace) -> int:
    status = 0
    for name in args.files:
        try:
            load_spec(name)
        except SpecError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            status = 1
        else:
            if not args.quiet:
                print(f"{name}: valid")
    return status
