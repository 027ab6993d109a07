"""Plain-text report helpers shared by `snncc inspect` and `snncc plan`."""

from __future__ import annotations


def format_bytes(n: float) -> str:
    """A byte count in B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, indented by two spaces, one string per line."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()

    return [line(header), *(line(r) for r in rows)]
