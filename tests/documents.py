"""JSON documents for the spec, property and fuzz tests: documents as trees, and a model
with an arrays file."""

from __future__ import annotations

import numpy as np


def paths(node, prefix=()):
    """The path (keys and indices) of every value of a JSON document, the root's () first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, prefix + (i,))


#: placed by hand in a document before the value an error must point at; removed before writing
MARK = "«»"
#: a valid model whose per-neuron parameters and weights are the arrays of ARRAYS, in arr.npz
ARRAYS_MODEL = """{
  "name": "arr",
  "timesteps": 10,
  "arrays": "arr.npz",
  "populations": [
    {"kind": "input", "id": "inp", "size": 4},
    {"kind": "neuron", "id": "hid", "size": 3, "neuron": {"model": "lif", "beta": {"array": "beta_hid"}, "threshold": {"array": "theta_hid"}}},
    {"kind": "neuron", "id": "out", "size": 2, "neuron": {"model": "cuba_lif", "beta": 0.9, "alpha": {"array": "alpha_out"}}}
  ],
  "projections": [
    {"id": "p1", "source": "inp", "target": "hid", "initial_weights": {"array": "w1"}, "initial_bias": {"array": "b1"}},
    {"id": "p2", "source": "hid", "target": "out", "bias": false, "initial_weights": {"array": "w2"}}
  ],
  "readout": {"population": "out", "decoding": "spike_count"},
  "data": {"kind": "synthetic", "num_classes": 2, "num_samples": 8}
}
"""

ARRAYS = {
    "beta_hid": np.array([0.5, 0.9, 1.0]),
    "theta_hid": np.array([0.45, 1.0, 1.7]),
    "alpha_out": np.array([0.2, 0.7]),
    "w1": np.arange(12, dtype=np.float32).reshape(4, 3) / 10,
    "b1": np.array([0.1, -0.2, 0.3]),
    "w2": np.ones((3, 2)),
}
