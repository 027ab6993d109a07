"""Small specs built in code for the snncc.torch tests (a plain module: child processes import it too)."""

from __future__ import annotations

import json

from snncc.ir import spec_to_ir
from snncc.spec import parse_spec


def spec_text(populations, projections, *, timesteps=30, readout=None, surrogate=None, loss=None,
              optimizer=None, batch_size=4, epochs=1, data=None, seed=0) -> str:
    readout = readout or {"population": populations[-1]["id"], "decoding": "spike_count"}
    classes = next(p["size"] for p in populations if p["id"] == readout["population"])
    training = {"batch_size": batch_size, "epochs": epochs, "seed": seed,
                "surrogate": surrogate or {"kind": "fast_sigmoid", "slope": 25.0},
                "optimizer": optimizer or {"kind": "adam", "lr": 0.01}}
    if loss:
        training["loss"] = loss
    doc = {
        "name": "t", "timesteps": timesteps, "populations": populations, "projections": projections,
        "readout": readout, "training": training,
        "data": data or {"kind": "synthetic", "num_classes": classes, "num_samples": 40, "spikes_per_step": 3.0},
    }
    return json.dumps(doc)


def make_ir(*args, **kwargs):
    return spec_to_ir(parse_spec(spec_text(*args, **kwargs)))
