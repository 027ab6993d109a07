"""Where the package's data directories (templates/, schemas/) are.

They live at the top of the repository and are copied into the package by the wheel
build; an editable install or a source checkout reads them from the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The installed copy of a top-level data directory, else the repository's."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"snncc's {name}/ directory is missing from this installation")
