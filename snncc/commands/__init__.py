"""The `snncc` subcommands, one module each (see snncc.cli)."""

from __future__ import annotations

import argparse

from ..errors import UserError


def add_layout_arguments(parser: argparse.ArgumentParser, layout_help: str) -> None:
    """--layout ipu|cpu and --threads N: the spec's IPU tiles or this machine's CPU-shaped
    target (snncc.partition.target), as plan and compile take them."""
    parser.add_argument("--layout", choices=("ipu", "cpu"), default="ipu", help=layout_help)
    parser.add_argument("--threads", type=int, metavar="N", help="--layout cpu: runtime threads (default: the CPUs)")


#: --threads above this many times the CPUs is refused: every runtime thread (and, with
#: --layout cpu, its TILES_PER_THREAD tiles with their share of memory) is allocated up
#: front, so 10^9 threads asks for over 100 GiB, while past a few threads per CPU a run only
#: gets slower. 64x leaves room to oversubscribe a small machine on purpose.
THREADS_PER_CPU_LIMIT = 64


def checked_threads(args: argparse.Namespace) -> int | None:
    """args.threads, refused below 1 and above THREADS_PER_CPU_LIMIT x this process's CPUs."""
    if args.threads is None:
        return None
    if args.threads < 1:
        raise UserError(f"--threads must be at least 1, not {args.threads}")
    from ..machine import host_threads

    cpus = host_threads()
    if args.threads > THREADS_PER_CPU_LIMIT * cpus:
        raise UserError(f"--threads {args.threads} is more than {THREADS_PER_CPU_LIMIT} x the {cpus} CPUs this "
                        f"process may use (at most {THREADS_PER_CPU_LIMIT * cpus})")
    return args.threads
