"""Plain-text helpers: byte counts and tables for the reports of `snncc inspect` and
`snncc plan`, memory sizes for one-line messages."""

from __future__ import annotations


def format_bytes(n: float) -> str:
    """A byte count for a report: B, KiB, MiB or GiB (the largest that keeps it under 1024)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def format_memory(n: float) -> str:
    """A memory size for a message (how much an input needs, how much the machine has):
    KiB to TiB with thousands separators, whole bytes below 1 KiB."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{int(n)} bytes"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, indented by two spaces, one string per line."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()

    return [line(header), *(line(r) for r in rows)]
