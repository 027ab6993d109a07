"""`snncc build DIR [--runtime host|poplar]`: build the training binary of a compiled model."""

from __future__ import annotations

import argparse
import time

from ..driver import build


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR", help="directory written by `snncc compile`")
    parser.add_argument("--runtime", choices=("host", "poplar"), default="host",
                        help="build against snncc's host runtime (default) or the Poplar SDK")


def run(args: argparse.Namespace) -> int:
    start = time.monotonic()
    binary = build(args.dir, args.runtime)
    print(f"built {binary} in {time.monotonic() - start:.1f} s")
    return 0
