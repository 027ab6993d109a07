"""Helpers: small specs, compile + build (cached by content) + verify against snncc.torch."""

from __future__ import annotations

from pathlib import Path

from snncc.driver import build, compile_spec
from snncc.codegen.render import write_build_dir
from snncc.verify.compare import verify
from snncc.runtime.build import default_cache_root

ROOT = Path(__file__).resolve().parents[1]


def small_spec(name="small", *, hidden=None, readout=None, projections=None, optimizer=None, loss=None,
               decoding="spike_count", surrogate=None, timesteps=6, batch=5, inputs=12, input_sparsity=None,
               tiles=16) -> dict:
    """A small model: input 'x' [inputs], the given hidden populations and readout 'out'."""
    hidden = hidden if hidden is not None else [
        {"kind": "neuron", "id": "h", "size": 9, "neuron": {"model": "lif", "beta": 0.9}}]
    readout = readout or {"kind": "neuron", "id": "out", "size": 3, "neuron": {"model": "lif", "beta": 0.9}}
    inp = {"kind": "input", "id": "x", "size": inputs}
    if input_sparsity:
        inp["sparsity"] = input_sparsity
    if projections is None:
        chain = ["x"] + [h["id"] for h in hidden] + [readout["id"]]
        projections = [{"id": f"{a}_to_{b}", "source": a, "target": b, "weight_init": {"scale": 3.0}}
                       for a, b in zip(chain, chain[1:])]
    training = {"optimizer": optimizer or {"kind": "adam", "lr": 0.01}, "batch_size": batch, "epochs": 1,
                "surrogate": surrogate or {"kind": "fast_sigmoid", "slope": 5}, "seed": 3}
    if loss:
        training["loss"] = loss
    return {
        "name": name, "timesteps": timesteps,
        "populations": [inp, *hidden, readout], "projections": projections,
        "readout": {"population": readout["id"], "decoding": decoding},
        "training": training,
        "data": {"kind": "synthetic", "num_classes": readout["size"], "num_samples": 20,
                 "spikes_per_step": max(1, inputs // 3), "test_fraction": 0.2, "seed": 0},
        "target": {"tiles_per_ipu": tiles},
    }


def run_verify(spec_path: Path, tmp_path: Path, steps: int = 1):
    """(report, IR) of `snncc verify` on a spec file, in-process; builds are cached."""
    ir, files = compile_spec(spec_path)
    src = write_build_dir(files, tmp_path / "build_dir")
    binary = build(src, "host", cache_root=default_cache_root())
    return verify(ir, binary, tmp_path / "run", steps), ir

