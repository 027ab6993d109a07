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
            spec = load_spec(name)
        except SpecError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            status = 1
        else:
            if not args.quiet:
                print(f"{name}: valid")
            _data_notes(name, spec)
    return status


def _data_notes(name: str, spec) -> None:
    """A valid model whose data set is not on this machine (SHD, SSC, tonic's: the file is
    valid wherever the data is) gets a note on stderr saying what `snncc train` would miss."""
    from pathlib import Path

    from ..data import spec_data_problems
    from ..spec.models import HeidelbergData, TonicData

    if isinstance(spec.data, (HeidelbergData, TonicData)):
        for _where, message in spec_data_problems(spec, Path(name).resolve().parent):
            print(f"{name}: note: the data is not here yet: {message}", file=sys.stderr)
