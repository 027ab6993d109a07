"""`snncc schema`: print the JSON Schema of model files (equal to the committed schemas/ file)."""

from __future__ import annotations

import argparse
import sys

from ..spec import schema_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def run(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.output:
        from ..fsutil import write_text_atomic

        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
