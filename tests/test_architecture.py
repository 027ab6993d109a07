"""docs/architecture.md's list of files for adding a neuron model is complete and current.

The neuron models are the tags of the spec's `Neuron` union (read from snncc.spec.models,
so a new model is seen without editing this test). A source file (under snncc/, templates/
or schemas/) holds something of a model when it names a tag as a string: `"cuba_lif"` in
Python, JSON or a Jinja2 comparison. The documented list must be exactly those files, and
every test file it names must exist and name a model.
"""

from __future__ import annotations

import re
import subprocess
import typing
from pathlib import Path

from snncc.spec import models as m

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
SOURCES = ("snncc", "templates", "schemas")


def model_tags() -> set[str]:
    union = typing.get_args(m.Neuron)[0]
    return {typing.get_args(cls.model_fields["model"].annotation)[0] for cls in typing.get_args(union)}


def section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def documented(title: str) -> tuple[set[str], set[str]]:
    """(source files, test files) named in backticks in a section of the document."""
    paths = set(re.findall(r"`((?:snncc|templates|schemas|tests)/[^`\s]+\.[a-z0-9.]+)`", section(title)))
    return {p for p in paths if not p.startswith("tests/")}, {p for p in paths if p.startswith("tests/")}


def tracked(*roots: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", *roots], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out.split()


def names_a_model(path: str, tags: set[str]) -> bool:
    text = (ROOT / path).read_text(errors="replace")
    return any(re.search(rf"[\"']{re.escape(tag)}[\"']", text) for tag in tags)


def test_the_model_tags_are_the_spec_union():
    assert model_tags() == {"lif", "cuba_lif", "if", "li"}


def test_adding_a_neuron_model_lists_every_file_that_names_one():
    tags = model_tags()
    sources, _ = documented("Adding a neuron model")
    naming = {p for p in tracked(*SOURCES) if p.endswith((".py", ".j2", ".json", ".cpp", ".hpp"))
              and names_a_model(p, tags)}
    assert sources == naming, (f"in the code but not in {DOC.name}: {sorted(naming - sources)}; "
                               f"listed but naming no model: {sorted(sources - naming)}")


def test_the_tests_it_names_exist_and_draw_models():
    tags = model_tags()
    _, tests = documented("Adding a neuron model")
    assert tests, "the section names no tests"
    for path in sorted(tests):
        assert (ROOT / path).is_file(), path
        assert names_a_model(path, tags), f"{path} names no neuron model"


def test_adding_a_vertex_family_names_files_that_exist():
    sources, tests = documented("Adding a vertex family")
    assert sources and tests
    for path in sorted(sources | tests):
        assert (ROOT / path).is_file() or "<family>" in path, path
