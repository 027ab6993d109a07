"""The `snncc` subcommands, one module each (see snncc.cli)."""

from __future__ import annotations

import argparse

from ..errors import UserError


def add_layout_arguments(parser: argparse.ArgumentParser, layout_help: str) -> None:
    """--layout ipu|cpu and --threads N: the spec's IPU tiles or this machine's CPU-shaped
    target (snncc.partition.target), as plan and compile take them."""
    parser.add_argument("--layout", choices=("ipu", "cpu"), default="ipu", help=layout_help)
    parser.add_argument("--threads", type=int, metavar="N", help="--layout cpu: runtime threads (default: the CPUs)")


def checked_threads(args: argparse.Namespace) -> int | None:
    """args.threads, refused below 1."""
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads must be at least 1, not {args.threads}")
    return args.threads
