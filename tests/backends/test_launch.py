"""How replicated programs are started and how a failed job is told in one line
(snncc.backends.launch): PopRun for an SDK build where the SDK has it, else the installed
MPI's mpirun, with the flags each needs."""

from __future__ import annotations

import os
import stat

from snncc.backends import launch


def fake_tool(directory, name: str, output: str = "") -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{output}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_poprun_for_sdk_builds_mpirun_otherwise(tmp_path, monkeypatch):
    for tool, out in (("poprun", ""), ("mpirun", "mpirun (Open MPI) 5.0.11"), ("mpicxx", "")):
        fake_tool(tmp_path, tool, out)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    pop = launch.launcher("poplar", 2)
    assert pop.command(4, "train", "n1,n2") == [str(tmp_path / "poprun"), "--host", "n1,n2", "--num-instances", "4",
                                                "--num-replicas", "4", "--ipus-per-replica", "2", "train"]
    mpi = launch.launcher("host", 1)
    assert mpi.command(2, "train") == [str(tmp_path / "mpirun"), "--oversubscribe", "--bind-to", "none",
                                       "--allow-run-as-root", "-n", "2", "train"]
    assert mpi.command(2, "train", "a:1,b:1")[-5:] == ["--host", "a:1,b:1", "-n", "2", "train"]


def test_mpich_gets_no_open_mpi_flags(tmp_path, monkeypatch):
    fake_tool(tmp_path, "mpirun", "HYDRA build details: Version: 4.1.2")
    fake_tool(tmp_path, "mpicxx")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert launch.mpi_launcher().command(3, "train", "a,b") == [str(tmp_path / "mpirun"), "-hosts", "a,b", "-n", "3",
                                                                "train"]


def test_a_failed_job_is_one_line():
    killed = ("prterun noticed that process rank 1 with PID 4242 on node vm exited on\nsignal 9 (Killed).\n"
              "--------------------------------------------------------------------------\n")
    assert launch.failure(killed, 137, 2).startswith("replica 1 of 2 was killed by signal 9;")
    assert launch.failure("noise\nerror: data.bin: label 7 is not below 3\nmore noise\n", 1, 2) == \
        "data.bin: label 7 is not below 3"
    assert launch.failure("", 3, 1) == "exit status 3"
