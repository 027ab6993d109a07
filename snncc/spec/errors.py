"""Located problems in a model file: what the user sees instead of a traceback."""

from __future__ import annotations

from dataclasses import dataclass


def escape_token(token: str | int) -> str:
    """One JSON Pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    """The JSON Pointer of a path, '' for the document root."""
    return "".join("/" + escape_token(t) for t in tokens)


def one_line(text: str) -> str:
    """text with every character that is not printable (line breaks, controls) escaped as in a
    Python string literal, so that a key, a path or a file name from the user cannot break the
    one line per problem."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass(frozen=True, order=True)
class Problem:
    """One problem, located by line and column (1-based) of the offending value and its JSON Pointer."""

    line: int
    column: int
    pointer: str
    message: str
    file: str = ""

    def __str__(self) -> str:
        if self.line == 0:  # about the file as a whole (missing, unreadable)
            return one_line(f"{self.file}: {self.message}")
        return one_line(f"{self.file}:{self.line}:{self.column}: {self.pointer or '/'}: {self.message}")


class SpecError(Exception):
    """A model file that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
