"""The model spec: pydantic models of model.json, its JSON Schema and its checks."""

from .errors import Problem, SpecError
from .load import load_spec, parse_spec
from .models import ModelSpec
from .schema import model_schema, schema_text

__all__ = ["ModelSpec", "Problem", "SpecError", "load_spec", "parse_spec", "model_schema", "schema_text"]
