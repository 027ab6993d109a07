"""NIR import and export (the Neuromorphic Intermediate Representation, `pip install nir`).

- `graph`: reading a NIR file and checking its graph (nested graphs inlined, one Input,
  one Output, only node kinds snncc converts).
- `importer`: a NIR graph as a spec document and its arrays file (`snncc import-nir`).
- `exporter`: a model with its initial or a checkpoint's weights as a NIR graph
  (`snncc export-nir`).

The `nir` library is imported only by the functions that read or build NIR nodes.
"""

from .exporter import export_dt, export_graph, model_weights, write_export
from .graph import NORSE_DT, SNNTORCH_DT, FlatGraph, NIRError, flat_graph, read_graph
from .importer import ImportOptions, Imported, assumptions, import_graph, validate_import, write_import

__all__ = [
    "NORSE_DT", "SNNTORCH_DT", "FlatGraph", "ImportOptions", "Imported", "NIRError", "assumptions", "export_dt",
    "export_graph", "flat_graph", "import_graph", "model_weights", "read_graph", "validate_import",
    "write_export", "write_import",
]
