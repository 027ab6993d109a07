"""The JSON Schema of model.json, generated from the pydantic models.

The committed copy (schemas/snncc-model.schema.json) is what editors read through a
model file's "$schema" key; a test keeps it equal to this output.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from .models import ModelSpec

SCHEMA_FILE = "snncc-model.schema.json"


class _Draft202012(GenerateJsonSchema):
    """pydantic's generator, with the dialect named so that editors pick the right draft."""

    def generate(self, schema, mode="validation"):
        generated = super().generate(schema, mode=mode)
        return {"$schema": self.schema_dialect, **generated}


def model_schema() -> dict[str, Any]:
    """The JSON Schema of a model file, as a dict."""
    return ModelSpec.model_json_schema(by_alias=True, schema_generator=_Draft202012)


def schema_text() -> str:
    """The JSON Schema as the committed file holds it (stable formatting, final newline)."""
    return json.dumps(model_schema(), indent=2, ensure_ascii=False) + "\n"


def spec_limit(model: type[BaseModel], field: str) -> int:
    """The upper bound (le) of an integer field of the schema, e.g. a population's size."""
    for rule in model.model_fields[field].metadata:
        if getattr(rule, "le", None) is not None:
            return int(rule.le)
    raise LookupError(f"{model.__name__}.{field} has no upper bound")
