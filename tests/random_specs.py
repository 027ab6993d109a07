"""A hypothesis strategy of small random models, shared by the tests that take random specs
through the stages (tests/verify/test_random_specs.py builds and verifies them against
snncc.torch; the codelet-class and stage-verifier tests compile them).

It draws 1-3 hidden populations (lif, if, cuba_lif; every reset) and a readout (li or
lif), sizes 1-12, delays 0-2, recurrent self-projections, skip projections, gradient
thresholds and capacities small enough to overflow, Adam or SGD (with or without
momentum), cross-entropy or mse_count, every decoding and surrogate, and 4-16 tiles per
IPU. An example is (spec document, training steps 1-2)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import strategies as st

from codegen_helpers import small_spec

SURROGATES = [{"kind": "fast_sigmoid", "slope": 5.0}, {"kind": "atan", "alpha": 2.0},
              {"kind": "sigmoid", "slope": 4.0}, {"kind": "triangle", "width": 1.0},
              {"kind": "boxcar", "width": 0.5}]


def _sparsity(draw, size: int) -> dict | None:
    out = {}
    if draw(st.booleans()):
        out["max_spikes"] = draw(st.integers(1, max(1, size // 2)))
        out["overflow"] = "drop"
    if draw(st.booleans()):
        out["gradient_threshold"] = draw(st.sampled_from([0.3, 0.5, 0.8]))
    return out or None


def _neuron(draw, model: str) -> dict:
    n = {"model": model}
    if model in ("lif", "cuba_lif", "li"):
        n["beta"] = draw(st.sampled_from([0.6, 0.8, 0.9, 0.95]))
    if model == "cuba_lif":
        n["alpha"] = draw(st.sampled_from([0.3, 0.5, 0.7]))
    if model != "li":
        n["reset"] = draw(st.sampled_from(["subtract", "zero", "zero_updated", "none"]))
        n["threshold"] = draw(st.sampled_from([0.5, 1.0, 1.5]))
    return n


@st.composite
def small_specs(draw):
    inputs = draw(st.integers(1, 12))
    hidden = []
    for k in range(draw(st.integers(1, 3))):
        size = draw(st.integers(1, 12))
        pop = {"kind": "neuron", "id": f"h{k}", "size": size,
               "neuron": _neuron(draw, draw(st.sampled_from(["lif", "if", "cuba_lif"])))}
        sp = _sparsity(draw, size)
        if sp:
            pop["sparsity"] = sp
        hidden.append(pop)
    loss = draw(st.sampled_from(["cross_entropy", "mse_count"]))
    decoding = "spike_count" if loss == "mse_count" else draw(st.sampled_from(["spike_count", "membrane_sum",
                                                                                 "membrane_max"]))
    spiking_readout = loss == "mse_count" or decoding == "spike_count" or draw(st.booleans())
    classes = draw(st.integers(2, 6))
    readout = {"kind": "neuron", "id": "out", "size": classes,
               "neuron": _neuron(draw, "lif" if spiking_readout else "li")}
    if spiking_readout:
        readout["neuron"]["reset"] = draw(st.sampled_from(["subtract", "zero"]))
        sp = _sparsity(draw, classes)
        if sp:
            readout["sparsity"] = sp
    chain = ["x"] + [h["id"] for h in hidden] + ["out"]
    scale = lambda: draw(st.sampled_from([2.0, 3.0, 4.0]))  # noqa: E731
    projections = [{"id": f"p_{a}_{b}", "source": a, "target": b, "delay": draw(st.integers(0, 2)),
                    "bias": draw(st.booleans()), "weight_init": {"scale": scale()}}
                   for a, b in zip(chain, chain[1:])]
    if draw(st.booleans()):  # a recurrent self-projection
        h = draw(st.sampled_from(hidden))["id"]
        projections.append({"id": f"rec_{h}", "source": h, "target": h, "delay": draw(st.integers(1, 2)),
                            "weight_init": {"scale": 1.0}})
    if len(chain) > 3 and draw(st.booleans()):  # a skip projection into the readout
        projections.append({"id": "skip", "source": draw(st.sampled_from(chain[:-2])), "target": "out",
                            "delay": draw(st.integers(0, 2)), "weight_init": {"scale": scale()}})
    optimizer = draw(st.sampled_from([{"kind": "adam", "lr": 0.01}, {"kind": "sgd", "lr": 0.05},
                                      {"kind": "sgd", "lr": 0.05, "momentum": 0.9}]))
    input_sparsity = ({"max_spikes": draw(st.integers(1, max(1, inputs // 2))), "overflow": "drop"}
                      if draw(st.booleans()) else None)
    spec = small_spec("random", hidden=hidden, readout=readout, projections=projections, optimizer=optimizer,
                      loss={"kind": loss}, decoding=decoding, surrogate=draw(st.sampled_from(SURROGATES)),
                      timesteps=draw(st.integers(3, 8)), batch=draw(st.integers(1, 5)), inputs=inputs,
                      input_sparsity=input_sparsity, tiles=draw(st.integers(max(4, len(chain) + 1), 16)))
    return spec, draw(st.integers(1, 2))


@contextlib.contextmanager
def spec_file(spec: dict) -> Iterator[Path]:
    """The spec document written as a model file in a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.json"
        path.write_text(json.dumps(spec))
        yield path
