"""The committed JSON Schema equals the generated one, and every example follows it."""

from __future__ import annotations

from pathlib import Path

import json

import jsonschema
import pytest

from snncc.cli import main
from snncc.spec import load_spec, schema_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))

SCHEMA_PATH = ROOT / "schemas" / "snncc-model.schema.json"


def test_committed_schema_is_current():
    assert SCHEMA_PATH.read_text() == schema_text(), (
        "schemas/snncc-model.schema.json is stale: run `snncc schema -o schemas/snncc-model.schema.json`"
    )


def test_schema_command_prints_the_committed_file(capsys):
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == SCHEMA_PATH.read_text()


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_field_is_described():
    """Editors show descriptions on hover: no property may lack one."""
    schema = json.loads(SCHEMA_PATH.read_text())
    undocumented = []
    for name, definition in [("(root)", schema), *schema["$defs"].items()]:
        for prop, body in definition.get("properties", {}).items():
            if "description" not in body:
                undocumented.append(f"{name}.{prop}")
    assert undocumented == []


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_validates_with_jsonschema_and_snncc(example):
    document = json.loads(example.read_text())
    # the "$schema" key is a relative path to the committed schema, as editors resolve it
    assert (example.parent / document["$schema"]).resolve() == SCHEMA_PATH.resolve()
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).validate(document)
    load_spec(example)


def test_validate_all_examples_exits_zero(capsys):
    assert main(["validate", *map(str, EXAMPLES)]) == 0
    # no problems; only the note that examples/shd.json's data set is not in the repository
    notes = capsys.readouterr().err.splitlines()
    assert all(": note: the data is not here yet: " in line for line in notes), notes
    assert {line.split(": note:")[0] for line in notes} <= {str(p) for p in EXAMPLES if p.stem == "shd"}


def test_required_examples_exist():
    names = {e.stem for e in EXAMPLES}
    assert {"digits", "shd_mlp", "recurrent", "cuba", "pipelined"} <= names


def test_jsonschema_rejects_what_snncc_rejects_structurally():
    """A schema-level error (not a semantic one) is also caught by the independent validator."""
    document = json.loads((ROOT / "examples" / "digits.json").read_text())
    document["populations"][1]["neuron"]["beta"] = 1.5
    errors = list(jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).iter_errors(document))
    assert errors
