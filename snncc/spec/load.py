"""Read a model file into a validated ModelSpec, or into every located problem it has.

Three rounds, each reporting all its problems: the JSON text (the parser's line and
column, and what snncc.spec.jsonloc's scan finds: duplicate keys, non-finite or oversized
numbers, deep nesting), the schema (pydantic, strict types), and the checks across fields
(snncc.spec.semantic) with those of the arrays file (snncc.spec.arrays). Positions come
from snncc.spec.jsonloc, so every problem points at the offending value in the text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic

from ..machine import collection_paused
from . import jsonloc
from .arrays import load_arrays
from .errors import Problem, SpecError, pointer
from .models import VALUE_TAGS, ModelSpec
from .semantic import check_semantics


# pydantic puts the tag of a discriminated union into the error location; the
# JSON document has no such level. These are the discriminator keys we use.
_DISCRIMINATORS = ("kind", "model")


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


def _schema_problems(error: pydantic.ValidationError, document: Any, smap: jsonloc.Located) -> list[Problem]:
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
    with collection_paused():
        return _parse_spec(text, file, base_dir)


def _parse_spec(text: str, file: str, base_dir: Path | None) -> ModelSpec:

    def located(problems: list[Problem]) -> SpecError:
        return SpecError([Problem(p.line, p.column, p.pointer, p.message, file) for p in problems])

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise located([Problem(exc.lineno, exc.colno, "", f"invalid JSON: {exc.msg}")]) from None
    except (RecursionError, ValueError) as exc:
        # too deep for json.loads, or an integer too long for Python: the scan locates it
        document, parse_failure = None, exc
    else:
        parse_failure = None

    try:
        smap = jsonloc.scan(text)
    except jsonloc.ScanError as exc:
        line, col = jsonloc.line_column(text, exc.offset)
        raise located([Problem(line, col, pointer(*exc.path), exc.message)]) from None
    problems = []
    for found in smap.findings:
        line, col = smap.position(found.offset)
        problems.append(Problem(line, col, pointer(*found.path), found.message))
    if problems:
        raise located(problems)
    if parse_failure is not None:  # not expected once the scan passed; still one line
        message = "nested too deeply" if isinstance(parse_failure, RecursionError) else str(parse_failure)
        raise located([Problem(1, 1, "", f"invalid JSON: {message}")])
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
