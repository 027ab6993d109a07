"""Facts about this machine and process that several stages read: its memory, the CPUs
this process may use, and a garbage-collector pause for phases that build large
structures. Callers use `machine.machine_memory()` (an attribute lookup), so that tests can
fix the machine's memory in one place."""

from __future__ import annotations

import contextlib
import gc
import os

from .textfmt import format_memory


def machine_memory() -> int:
    """Physical memory in bytes (4 GiB where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return 4 << 30


def host_threads() -> int:
    """Threads the host runtime will use: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def memory_problem(needed: float, what: str, have: int | None = None, where: str = "this machine has",
                   estimate: bool = False) -> str | None:
    """A one-line message when `what` needs more than `have` bytes (default: this machine's
    memory), else None. estimate: `needed` is a lower bound ("needs at least")."""
    if have is None:
        have = machine_memory()
    if needed <= have:
        return None
    return f"{what} needs {'at least ' if estimate else ''}{format_memory(needed)} of memory, {where} {format_memory(have)}"


@contextlib.contextmanager
def collection_paused():
    """Pause Python's cyclic garbage collector for a phase that builds a large, acyclic structure
    (the spec, the IR, the plan). Each collection walks every live object, so with a model of
    thousands of populations the collections took longer than the work; reference counting
    still frees everything, and cycles wait for the next collection after the phase."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["collection_paused", "host_threads", "machine_memory", "memory_problem"]
