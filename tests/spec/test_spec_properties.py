"""Property tests: any document, from the schema or mutated from an example, either loads or is
rejected with located problems; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from documents import paths
from snncc.ir import spec_to_ir
from snncc.spec import SpecError, parse_spec, schema_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(schema_text())
EXAMPLE = json.loads((ROOT / "examples" / "digits.json").read_text())


def resolve_pointer(document, pointer: str):
    """The value at an RFC 6901 pointer, or KeyError."""
    node = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def check_outcome(document, text: str) -> None:
    try:
        spec = parse_spec(text, "model.json")
    except SpecError as exc:
        assert exc.problems
        lines = text.split("\n")
        for problem in exc.problems:
            assert problem.file == "model.json"
            assert 1 <= problem.line <= len(lines) and 1 <= problem.column <= len(lines[problem.line - 1]) + 1
            assert problem.pointer == "" or problem.pointer.startswith("/")
            # the pointer names the offending value, or a field missing below an existing object
            parent = problem.pointer.rsplit("/", 1)[0]
            try:
                resolve_pointer(document, problem.pointer)
            except (KeyError, IndexError, TypeError, ValueError):
                resolve_pointer(document, parent)
            assert str(problem).startswith(f"model.json:{problem.line}:{problem.column}: ")
    else:
        spec_to_ir(spec, check=True)  # a valid spec always builds a valid IR


@settings(max_examples=30)  # generating from this schema costs about 0.5 s per document
@given(from_schema(SCHEMA))
def test_schema_documents_load_or_fail_located(document):
    check_outcome(document, json.dumps(document, indent=2))


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 3000), st.floats(-2, 2, allow_nan=False),
                    st.sampled_from(["", "lif", "hidden", "x y", "input", "digits"]))


ALL_PATHS = [p for p in paths(EXAMPLE) if p]


@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), st.one_of(scalars, st.just("__delete__"))), min_size=1, max_size=4))
def test_mutated_examples_load_or_fail_located(mutations):
    document = json.loads(json.dumps(EXAMPLE))
    for path, value in mutations:
        node = document
        try:
            for token in path[:-1]:
                node = node[token]
            if value == "__delete__":
                del node[path[-1]]
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    check_outcome(document, json.dumps(document, indent=1))
