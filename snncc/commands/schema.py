"""`snncc schema`: print the JSON Schema of model files (equal to the committed schemas/ file)."""

from __future__ import annotations

import argparse
import sys

from ..fsutil import JSON_SCHEMA, check_output_file, write_errors, write_text_atomic
from ..spec import schema_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


def run(args: argparse.Namespace) -> int:
    if args.output is not None:
        # an earlier schema (the committed file) is replaced; any other file is refused
        check_output_file(args.output, "-o", JSON_SCHEMA)
    text = schema_text()
    if args.output is not None:
        with write_errors(args.output, "-o"):
            write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
