"""`snncc train FILE`: train a model and write its run directory.

Backends (snncc.backends): host (the default: the generated program on snncc's host runtime,
planned for this machine's CPU-shaped target or, with --emulate-target, the spec's IPU tiles),
poplar (the same program built with the Poplar SDK, on the spec's IPU target; refused when
the SDK is absent) and torch (snncc.torch, the reference semantics). `--replicas R` asks any
backend for R data-parallel replicas; the torch backend starts R processes under torchrun
(snncc.backends.torch.launch_replicas), and `run` is also what each of them runs.
"""

from __future__ import annotations

import argparse
import json
import os
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
    parser.add_argument("--replicas", type=int, metavar="R",
                        help="data-parallel replicas, each on its share of every batch (R must divide "
                        "training.batch_size; default: the spec's target.replication_factor). torch: R processes "
                        "started with torchrun (under torchrun: its WORLD_SIZE)")
    parser.add_argument("--hosts", metavar="H1,H2,...",
                        help="host and poplar backends with replicas: the machines of the MPI job, as mpirun's "
                        "--host takes them (e.g. node1:2,node2:2); default: this machine")


def _check_data_memory(spec, base_dir: Path) -> None:
    """Refuse a data set that is missing or cannot fit in memory now, not after the host backend's compile."""
    from ..data import spec_data_problems

    for _where, message in spec_data_problems(spec, base_dir):
        raise UserError(message)


def _replicas(args: argparse.Namespace, spec) -> int:
    """The data-parallel replicas: --replicas (dividing the batch), torchrun's WORLD_SIZE under
    torchrun (torch backend), else the spec's target.replication_factor."""
    batch = spec.training.batch_size
    if args.replicas is not None and batch % args.replicas:
        raise UserError(f"--replicas {args.replicas} does not divide training.batch_size {batch} "
                        "(every replica takes an equal share of each batch)")
    if args.backend == "torch":
        from ..backends.torch import torchrun_world, under_torchrun

        if under_torchrun():
            world = torchrun_world()
            if args.replicas is not None and args.replicas != world:
                raise UserError(f"--replicas {args.replicas} under torchrun, whose WORLD_SIZE is {world}: "
                                f"give --replicas {world} or leave it out")
            return world
    return args.replicas if args.replicas is not None else spec.target.replication_factor


def run(args: argparse.Namespace) -> int:
    """`snncc train`; in a worker that `--replicas` started (torch backend), as rank RANK of its
    launch: rank 0's console goes back to the launcher, and an error line goes to a file for it."""
    from ..backends.torch import CONSOLE_ENV, under_torchrun, worker_started

    console = os.environ.get(CONSOLE_ENV) if under_torchrun() else None
    if not console:
        return _run(args)
    worker_started()
    rank = int(os.environ.get("RANK", "0"))
    if rank == 0:  # line-buffered: the launcher shows each line as it comes
        sys.stdout = open(os.path.join(console, "stdout"), "w", buffering=1, encoding="utf-8", errors="replace")
        sys.stderr = open(os.path.join(console, "stderr"), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        return _run(args, console, rank)
    except UserError as exc:
        Path(console, f"error.{rank}").write_text(str(exc) + "\n")
        return 1
    except KeyboardInterrupt:  # the launcher's Ctrl-C, passed on by torchrun: the launcher reports it
        return 130
    except Exception:  # e.g. gloo's error when another replica died: into torchrun's log, not the console
        import traceback

        traceback.print_exc(file=sys.__stderr__)
        return 1


def _run(args: argparse.Namespace, console: str | None = None, rank: int = 0) -> int:
    if args.epochs is not None and args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, not {args.epochs}")
    if args.replicas is not None and args.replicas < 1:
        raise UserError(f"--replicas must be at least 1, not {args.replicas}")
    checked_threads(args)
    spec = load_spec(args.file)
    replicas = _replicas(args, spec)
    _check_data_memory(spec, Path(args.file).resolve().parent)

    from ..backends import train
    from ..backends.torch import PROGRESS_ENV
    from ..data import DataError
    from ..ir import spec_to_ir
    from ..runs import RunDir, TrainOptions

    if args.backend == "poplar":
        from ..backends.poplar import check_sdk

        check_sdk()
    if args.device == "cuda" and args.backend != "torch":
        raise UserError("--device is for --backend torch (host and poplar run the generated program)")
    if args.hosts is not None and args.backend == "torch":
        raise UserError("--hosts is for the host and poplar backends (MPI); for torch on several machines "
                        "start torchrun on each with --nnodes")
    if args.hosts is not None and not args.hosts.strip():
        raise UserError("--hosts: give the machines as H1,H2,... (mpirun's --host)")
    if args.emulate_target and args.backend != "host":
        raise UserError("--emulate-target is for --backend host (poplar runs the spec's target anyway)")
    ir = spec_to_ir(spec)
    options = TrainOptions(
        run_dir=Path(args.run_dir) if args.run_dir else Path("runs") / ir.name,
        epochs=args.epochs,
        device=args.device,
        resume=args.resume,
        base_dir=Path(args.file).resolve().parent,
        show_progress=not args.quiet and (os.environ.get(PROGRESS_ENV) == "1" if console else sys.stderr.isatty()),
    )
    from ..runs.rundir import check_run_dir

    # before any work: a run directory is new, empty or one that snncc train wrote
    check_run_dir(options.run_dir, "--run-dir" if args.run_dir else "run directory", reads=[args.file])
    log = (lambda _line: None) if args.quiet else print
    try:
        summary = train(args.backend, ir, Path(args.file), options, log, emulate_target=args.emulate_target,
                        threads=args.threads, replicas=replicas, hosts=args.hosts)
    except DataError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        kept = RunDir(options.run_dir).checkpoint_epoch()
        raise KeyboardInterrupt(f"the last checkpoint (epoch {kept}) is in {options.run_dir}: --resume continues "
                                "from it" if kept else "no epoch finished, so there is no checkpoint") from None
    if console:  # a replica: the launcher prints the summary
        if summary.rank == 0:
            Path(console, "summary.json").write_text(json.dumps({"wall_s": summary.wall_s}))
    elif summary.rank == 0:
        print(summary.line())
    return 0
