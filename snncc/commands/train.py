"""`snncc train FILE`: train a model and write its run directory.

Backends (snncc.backends): host (the default: the generated program on snncc's host runtime,
planned for this machine's CPU-shaped target or, with --emulate-target, the spec's IPU tiles),
poplar (the same program built with the Poplar SDK, on the spec's IPU target; refused when
the SDK is absent) and torch (snncc.torch, the reference semantics).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..backends import BACKENDS
from ..errors import UserError
from ..spec import load_spec
from . import checked_threads


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="model file (JSON)")
    parser.add_argument("--backend", choices=BACKENDS, default="host",
                        help="what runs the training: host (default: the generated program on snncc's CPU "
                        "runtime), poplar (the generated program on IPUs, with the Poplar SDK), torch (the "
                        "PyTorch reference)")
    parser.add_argument("--emulate-target", action="store_true",
                        help="host backend: run the spec's exact IPU tile layout instead of this machine's "
                        "CPU-shaped target (slower; trains identically up to float rounding)")
    parser.add_argument("--epochs", type=int, metavar="N", help="train N epochs instead of the spec's")
    parser.add_argument("--run-dir", metavar="DIR", help="where metrics, checkpoints and plots go (default runs/NAME)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="torch backend: the device (default cpu)")
    parser.add_argument("--resume", action="store_true", help="continue from the run directory's last checkpoint")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="CPU threads: of the host runtime (default: every CPU this process may use) "
                        "or of torch per process (default: torch's choice)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")


def _check_data_memory(spec, base_dir: Path) -> None:
    """Refuse a data set that is missing or cannot fit in memory now, not after the host backend's compile."""
    from ..data import spec_data_problems

    for _where, message in spec_data_problems(spec, base_dir):
        raise UserError(message)


def run(args: argparse.Namespace) -> int:
    if args.epochs is not None and args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, not {args.epochs}")
    checked_threads(args)
    spec = load_spec(args.file)
    _check_data_memory(spec, Path(args.file).resolve().parent)

    from ..backends import train
    from ..data import DataError
    from ..ir import spec_to_ir
    from ..runs import RunDir, TrainOptions

    if args.backend == "poplar":
        from ..backends.poplar import check_sdk

        check_sdk()
    if args.device == "cuda" and args.backend != "torch":
        raise UserError("--device is for --backend torch (host and poplar run the generated program)")
    if args.emulate_target and args.backend != "host":
        raise UserError("--emulate-target is for --backend host (poplar runs the spec's target anyway)")
    ir = spec_to_ir(spec)
    options = TrainOptions(
        run_dir=Path(args.run_dir) if args.run_dir else Path("runs") / ir.name,
        epochs=args.epochs,
        device=args.device,
        resume=args.resume,
        base_dir=Path(args.file).resolve().parent,
        show_progress=not args.quiet and sys.stderr.isatty(),
    )
    from ..runs.rundir import check_run_dir

    # before any work: a run directory is new, empty or one that snncc train wrote
    check_run_dir(options.run_dir, "--run-dir" if args.run_dir else "run directory", reads=[args.file])
    log = (lambda _line: None) if args.quiet else print
    try:
        summary = train(args.backend, ir, Path(args.file), options, log, emulate_target=args.emulate_target,
                        threads=args.threads)
    except DataError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        kept = RunDir(options.run_dir).checkpoint_epoch()
        raise KeyboardInterrupt(f"the last checkpoint (epoch {kept}) is in {options.run_dir}: --resume continues "
                                "from it" if kept else "no epoch finished, so there is no checkpoint") from None
    if summary.rank == 0:
        print(summary.line())
    return 0
