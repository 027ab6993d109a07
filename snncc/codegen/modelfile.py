"""The model a build directory was compiled from, written into it for its train.py.

A build directory is self-contained: `model.json` is the validated spec as JSON (every
default spelled out, so it says exactly what is trained), and a spec's arrays file is
copied beside it as `arrays.npz`, so `python train.py` needs nothing from where the spec
came from and the directory can be moved. The one exception is an npz data set: data
can be large (hundreds of MB for SHD) and is not copied; its path becomes absolute.

Deterministic: the same spec file (at the same place, for an npz data path) gives
byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..spec.models import ModelSpec, NpzData

#: the model file train.py trains, in the build directory
MODEL_FILE = "model.json"
#: the spec's arrays file ({"array": NAME} values), copied verbatim
ARRAYS_FILE = "arrays.npz"


def model_files(spec: ModelSpec, base_dir: Path) -> dict[str, bytes]:
    """model.json (and arrays.npz) of a spec loaded from a file in base_dir."""
    doc = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    doc.pop("$schema", None)  # a path relative to the original file
    files: dict[str, bytes] = {}
    if spec.arrays is not None:
        files[ARRAYS_FILE] = (base_dir / spec.arrays).read_bytes()
        doc["arrays"] = ARRAYS_FILE
    if isinstance(spec.data, NpzData):
        doc["data"]["path"] = str((base_dir / spec.data.path).resolve())
    files[MODEL_FILE] = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    return files
