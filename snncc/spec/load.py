"""Read a model file into a validated ModelSpec, or into every located problem it has.

Three rounds, each reporting all its problems: the JSON text (the parser's line and
column, duplicate keys), the schema (pydantic, strict types), and the semantic checks
across fields (snncc.spec.semantic). Positions come from a JSON source map, so every
problem points at the offending value in the text.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pydantic
from json_source_map import handle as source_map_handle
from json_source_map import types as source_map_types

from .errors import Problem, SpecError, pointer
from .arrays import load_arrays
from .models import VALUE_TAGS, ModelSpec
from .semantic import check_semantics

# pydantic puts the tag of a discriminated union into the error location; the
# JSON document has no such level. These are the discriminator keys we use.
_DISCRIMINATORS = ("kind", "model")


class _SourceMap:
    """Line and column (1-based) of every value in a JSON text, by unescaped pointer."""

    def __init__(self, text: str):
        entries = source_map_handle.value(source=text, current_location=source_map_types.Location(0, 0, 0))
        self._entries: dict[str, Any] = {}
        self.duplicates: list[str] = []
        for ptr, entry in entries:
            if ptr in self._entries:
                self.duplicates.append(ptr)
            self._entries[ptr] = entry

    def locate(self, tokens: tuple[str | int, ...]) -> tuple[int, int]:
        """Position of the value at tokens, or of its nearest ancestor that is in the text."""
        tokens = tuple(tokens)
        while True:
            entry = self._entries.get("".join(f"/{t}" for t in tokens))
            if entry is not None:
                return entry.value_start.line + 1, entry.value_start.column + 1
            if not tokens:
                return 1, 1
            tokens = tokens[:-1]

    def key_position(self, tokens: tuple[str | int, ...]) -> tuple[int, int]:
        entry = self._entries.get("".join(f"/{t}" for t in tokens))
        if entry is not None and entry.key_start is not None:
            return entry.key_start.line + 1, entry.key_start.column + 1
        return self.locate(tokens)


def _non_finite(node: Any, path: tuple[str | int, ...] = ()):
    """Paths of NaN and Infinity, which Python's parser accepts but JSON does not have."""
    if isinstance(node, float) and not math.isfinite(node):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _non_finite(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _non_finite(value, path + (i,))


def _document_path(loc: tuple[str | int, ...], document: Any) -> tuple[str | int, ...]:
    """Map a pydantic error location onto the document, dropping union-tag levels.

    pydantic inserts a union member's tag right after the location of the union value,
    before any of its field names. So on entering an object, a token equal to its tag is
    the tag, even when a field has the same name ("neuron" is a kind and a field).
    """
    path: list[str | int] = []
    node: Any = document
    entered = True  # node was just reached, so a tag may follow
    for token in loc:
        if entered and isinstance(node, dict) and any(node.get(key) == token for key in _DISCRIMINATORS):
            entered = False
            continue
        if entered and token in VALUE_TAGS and not (isinstance(node, dict) and token in node):
            entered = False  # the tag of a number-or-ArrayRef value
            continue
        path.append(token)
        if isinstance(node, dict) and isinstance(token, str) and token in node:
            node = node[token]
        elif isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node):
            node = node[token]
        else:
            node = None  # a missing or unknown field: nothing below it in the document
        entered = True
    return tuple(path)


def _schema_problems(error: pydantic.ValidationError, document: Any, smap: _SourceMap) -> list[Problem]:
    problems = []
    for err in error.errors(include_url=False):
        path = _document_path(tuple(err["loc"]), document)
        kind = err["type"]
        message = err["msg"]
        if kind == "missing":
            message = f"missing required field '{path[-1]}'"
            line, col = smap.locate(path[:-1])
        elif kind == "extra_forbidden":
            message = f"unknown field '{path[-1]}'"
            line, col = smap.key_position(path)
        elif kind == "union_tag_invalid":
            tag = err["ctx"]["discriminator"].strip("'")
            path = path + (tag,)
            expected = err["ctx"]["expected_tags"]
            message = f"unknown {tag} {err['ctx']['tag']!r}: expected one of {expected}"
            line, col = smap.locate(path)
        elif kind == "union_tag_not_found":
            tag = err["ctx"]["discriminator"].strip("'")
            message = f"missing required field '{tag}'"
            line, col = smap.locate(path)
            path = path + (tag,)
        else:
            if kind == "string_pattern_mismatch" and path and path[-1] in ("id", "name", "source", "target", "population"):
                message = (
                    "not a valid identifier: use a letter or underscore, then up to 63 letters, digits or "
                    "underscores"
                )
            line, col = smap.locate(path)
        problems.append(Problem(line, col, pointer(*path), message))
    return problems


def parse_spec(text: str, file: str = "<string>", base_dir: Path | None = None) -> ModelSpec:
    """Validate a model file's text. Raises SpecError with every located problem."""

    def located(problems: list[Problem]) -> SpecError:
        return SpecError([Problem(p.line, p.column, p.pointer, p.message, file) for p in problems])

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise located([Problem(exc.lineno, exc.colno, "", f"invalid JSON: {exc.msg}")]) from None
    except RecursionError:
        raise located([Problem(1, 1, "", "invalid JSON: nested too deeply")]) from None

    smap = _SourceMap(text)
    problems = []
    for ptr in smap.duplicates:
        tokens = tuple(ptr.split("/")[1:])
        line, col = smap.key_position(tokens)
        problems.append(Problem(line, col, pointer(*tokens), f"duplicate key '{tokens[-1]}'"))
    for path, value in _non_finite(document):
        line, col = smap.locate(path)
        problems.append(Problem(line, col, pointer(*path), f"invalid JSON: {value} is not a JSON number"))
    if problems:
        raise located(problems)
    if not isinstance(document, dict):
        raise located([Problem(1, 1, "", "a model file must be a JSON object")])

    try:
        spec = ModelSpec.model_validate_json(text)
    except pydantic.ValidationError as exc:
        raise located(_schema_problems(exc, document, smap)) from None

    problems = []
    found = list(check_semantics(spec, base_dir))
    arrays, array_problems = load_arrays(spec, base_dir)
    for tokens, message in found + array_problems:
        line, col = smap.locate(tokens)
        problems.append(Problem(line, col, pointer(*tokens), message))
    if problems:
        raise located(problems)
    if arrays is not None:
        spec._arrays = arrays
    return spec


def load_spec(path: str | Path) -> ModelSpec:
    """Read and validate a model file. Raises SpecError with every located problem."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Problem(0, 0, "", "no such file", name)]) from None
    except IsADirectoryError:
        raise SpecError([Problem(0, 0, "", "is a directory, not a model file", name)]) from None
    except UnicodeDecodeError as exc:
        raise SpecError([Problem(0, 0, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})", name)]) from None
    except OSError as exc:
        raise SpecError([Problem(0, 0, "", f"cannot read: {exc.strerror}", name)]) from None
    return parse_spec(text, name, path.parent)
