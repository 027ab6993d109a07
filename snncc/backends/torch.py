"""`snncc train --backend torch`: snncc.torch's portable trainer (snncc.torch.trainer, the
reference semantics, which a build directory's train.py runs too), on the CPU or CUDA.

Data parallelism (`--replicas R`, R > 1): outside torchrun, `launch_replicas` starts R
processes with torchrun's module form, `python -m torch.distributed.run --standalone
--nproc_per_node R -m snncc train FILE --backend torch ...` (the same run directory), each
training on its share of every batch (snncc.torch.trainer). torchrun's own output (and
that of ranks other than 0) goes to RUN_DIR/work/torchrun.log; rank 0's console output
comes back through two FIFOs in a temporary directory (CONSOLE_ENV) and is shown as a
single process would show it: its lines through `log`, its progress bars on stderr. A
worker's one-line error comes back as a file in that directory; a worker that dies
(a signal, a crash) makes the launch fail with one line naming the log and the last checkpoint.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..ir import ModelGraph
from ..runs import RunDir, TrainOptions, TrainSummary

#: Set by launch_replicas for its workers: a directory holding the FIFOs "stdout" and
#: "stderr" that rank 0 writes its console output to, and where a worker leaves its error
#: line ("error.RANK") and rank 0 the run's summary ("summary.json").
CONSOLE_ENV = "SNNCC_REPLICA_CONSOLE"
#: "1" when rank 0 shows progress bars (the launcher's would: its stderr is a terminal).
PROGRESS_ENV = "SNNCC_REPLICA_PROGRESS"
#: torchrun's output, in the run directory's work/ (a name snncc train owns)
TORCHRUN_LOG = Path("work") / "torchrun.log"
#: after Ctrl-C or an error in the launcher: how long torchrun may take to stop its workers (its own limit is 30 s)
STOP_TIMEOUT_S = 40


def under_torchrun() -> bool:
    """This process was started by torchrun (or another launcher that sets its variables)."""
    return "WORLD_SIZE" in os.environ or "LOCAL_RANK" in os.environ


def torchrun_world() -> int:
    """torchrun's WORLD_SIZE (1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def train_torch(ir: ModelGraph, options: TrainOptions, log: Callable[[str], None] = print,
                threads: int | None = None, replicas: int = 1, spec_path: Path | None = None) -> TrainSummary:
    """Train with snncc.torch (threads: torch's per process, default its choice). replicas > 1
    outside torchrun starts them (launch_replicas, which needs spec_path); under torchrun,
    replicas is its WORLD_SIZE."""
    if under_torchrun():
        if replicas not in (1, torchrun_world()):
            raise UserError(f"--replicas {replicas} differs from torchrun's WORLD_SIZE {torchrun_world()}")
    elif replicas > 1:
        if spec_path is None:
            raise ValueError("replicas > 1 needs spec_path: the file the replica processes load")
        return launch_replicas(ir, spec_path, options, log, threads, replicas)
    # torch is imported only here (the host backend imports it late, while its build runs)
    import torch

    from ..torch.trainer import TrainingError, train

    if threads:
        torch.set_num_threads(threads)
    try:
        return train(ir, options, log=log)
    except TrainingError as exc:
        raise UserError(str(exc)) from None


def launch_replicas(ir: ModelGraph, spec_path: Path, options: TrainOptions, log: Callable[[str], None],
                    threads: int | None, replicas: int) -> TrainSummary:
    """Train with `replicas` processes under torchrun (threads each: default the CPUs // replicas)."""
    started = time.perf_counter()
    if options.device == "cuda":
        import torch

        if (gpus := torch.cuda.device_count()) < replicas:
            raise UserError(f"--replicas {replicas} with --device cuda needs a GPU per replica; "
                            f"{gpus} {'is' if gpus == 1 else 'are'} available")
    from ..machine import host_threads

    threads = threads or max(1, host_threads() // replicas)
    run = RunDir(options.run_dir)
    log_path = run.path / TORCHRUN_LOG
    from ..fsutil import write_errors

    with write_errors(log_path.parent, ""):
        log_path.parent.mkdir(parents=True, exist_ok=True)
    args = [str(spec_path), "--backend", "torch", "--run-dir", str(options.run_dir), "--device", options.device,
            "--threads", str(threads)]
    if options.epochs is not None:
        args += ["--epochs", str(options.epochs)]
    if options.resume:
        args.append("--resume")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(replicas),
               "-m", "snncc", "train", *args]

    with tempfile.TemporaryDirectory(prefix="snncc-replicas-") as console:
        fifos = {}
        try:
            for name in ("stdout", "stderr"):
                os.mkfifo(os.path.join(console, name))
                # read and write: no EOF while no worker has it open, and a worker's open never blocks
                fifos[name] = os.open(os.path.join(console, name), os.O_RDWR | os.O_NONBLOCK)
            with write_errors(log_path, ""), open(log_path, "wb") as out:
                proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                        env=_worker_env(console, options, threads), preexec_fn=_stop_with_parent)
            try:
                _pump(proc, fifos["stdout"], fifos["stderr"], log)
            except KeyboardInterrupt:  # Ctrl-C reaches only this process group: torchrun passes it on
                _stop(proc, signal.SIGINT)
                raise
            except BaseException:
                _stop(proc, signal.SIGTERM)
                raise
        finally:
            for fd in fifos.values():
                os.close(fd)
        error = _worker_error(Path(console))
        wall = _summary_wall(Path(console))

    if proc.returncode != 0:
        if error is not None:  # a worker's one-line error (every rank has the same one, usually)
            raise UserError(error)
        kept = run.checkpoint_epoch()
        raise UserError(f"{_what_failed(log_path, proc.returncode)}; torchrun's log: {log_path}; "
                        + (f"the last checkpoint (epoch {kept}) is in {run.path}: --resume continues from it"
                           if kept else "no epoch finished, so there is no checkpoint"))
    wall = wall if wall is not None else time.perf_counter() - started
    return TrainSummary(ir.name, options.epochs or ir.settings.epochs, run.metrics(), run.path, wall, 0)


def _worker_env(console: str, options: TrainOptions, threads: int) -> dict[str, str]:
    env = {**os.environ, CONSOLE_ENV: console, PROGRESS_ENV: "1" if options.show_progress else "0",
           # torchrun sets 1 (and says so) when unset; the workers set their threads anyway
           "OMP_NUM_THREADS": str(threads)}
    if options.show_progress:  # the bars' width: the workers write to a FIFO, not the terminal
        try:
            size = os.get_terminal_size(sys.stderr.fileno())
            env.setdefault("COLUMNS", str(size.columns))
            env.setdefault("LINES", str(size.lines))
        except (OSError, ValueError, AttributeError):
            pass
    # the workers import this snncc, also when it is not installed (a source tree on sys.path)
    root = str(Path(__file__).resolve().parents[2])
    import site

    site_dirs = set(getattr(site, "getsitepackages", lambda: [])()) | {site.getusersitepackages()}
    if root not in site_dirs:
        env["PYTHONPATH"] = os.pathsep.join([root, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    return env


def _pump(proc: subprocess.Popen, out_fd: int, err_fd: int, log: Callable[[str], None]) -> None:
    """Until torchrun exits: rank 0's stdout lines to log, its stderr (progress bars) to ours."""
    decoders = {fd: codecs.getincrementaldecoder("utf-8")("replace") for fd in (out_fd, err_fd)}
    pending = ""

    def forward(fd: int) -> None:
        nonlocal pending
        while True:
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            if not data:
                return
            text = decoders[fd].decode(data)
            if fd == out_fd:
                *lines, pending = (pending + text).split("\n")
                for line in lines:
                    log(line)
            else:
                sys.stderr.write(text)
                sys.stderr.flush()

    while proc.poll() is None:
        ready, _, _ = select.select([out_fd, err_fd], [], [], 0.2)
        for fd in (err_fd, out_fd):  # a bar's last refresh before the line that follows it
            if fd in ready:
                forward(fd)
    for fd in (err_fd, out_fd):  # what rank 0 wrote just before it exited
        forward(fd)
    if pending:
        log(pending)


def _stop(proc: subprocess.Popen, sig: signal.Signals) -> None:
    """Stop torchrun with one signal (it stops its workers, within its own 30 s); SIGKILL after
    STOP_TIMEOUT_S or a second Ctrl-C (the workers then die with it: worker_started)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(STOP_TIMEOUT_S)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        proc.kill()
        proc.wait()


def _stop_with_parent() -> None:
    """In torchrun, before it starts: a process group of its own (a Ctrl-C in the terminal reaches
    the launcher only, which passes one SIGINT on), and SIGTERM when the launcher dies (even by
    SIGKILL), so that it stops its workers (Linux; elsewhere only the process group)."""
    os.setpgid(0, 0)
    _death_signal(signal.SIGTERM)


def _death_signal(sig: signal.Signals) -> None:
    """This process gets sig when its parent dies (Linux's PR_SET_PDEATHSIG; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def worker_started() -> None:
    """In a replica that launch_replicas started (under torchrun): die with torchrun, even when it
    is killed with SIGKILL (its workers run in sessions of their own and would otherwise train on)."""
    parent = os.getppid()
    _death_signal(signal.SIGKILL)
    if os.getppid() != parent:  # torchrun died before the signal was set
        os._exit(1)


def _worker_error(console: Path) -> str | None:
    """The lowest rank's one-line error, if a worker left one."""
    found = sorted((int(p.name.split(".")[1]), p) for p in console.glob("error.*") if p.name.split(".")[1].isdigit())
    return found[0][1].read_text().strip() if found else None


def _summary_wall(console: Path) -> float | None:
    try:
        return float(json.loads((console / "summary.json").read_text())["wall_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _what_failed(log_path: Path, returncode: int) -> str:
    """One line from torchrun's failure report: which replica failed and how. A replica killed
    by a signal other than torchrun's own SIGTERM is the cause (the others then fail in gloo or
    get SIGTERM), else the report's root cause."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        text = ""
    # each failure: "rank : 1 (local_rank: 1)" then "exitcode : -9 (pid: 123)"
    failures = [(int(m.group(1)), int(m.group(2)), m.group(3)) for m in re.finditer(
        r"^\s*rank\s*:\s*(\d+).*?^\s*exitcode\s*:\s*(-?\d+)(?:\s*\(pid:\s*(\d+)\))?", text, re.M | re.S)]
    if failures:
        root = text.rfind("Root Cause")
        rooted = [f for m, f in zip(re.finditer(r"^\s*rank\s*:", text, re.M), failures) if m.start() > root]
        killed = [f for f in failures if f[1] < 0 and f[1] != -signal.SIGTERM]
        rank, status, pid = (killed or (rooted if root >= 0 else []) or failures)[0]
        how = f"was killed by {_signal_name(-status)}" if status < 0 else f"exited with status {status}"
        return f"replica process {rank}{f' (pid {pid})' if pid else ''} {how}"
    if returncode < 0:
        return f"torchrun was killed by {_signal_name(-returncode)}"
    return f"torchrun exited with status {returncode}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
