"""`snncc export-nir FILE [--checkpoint CKPT] -o OUT.nir`: a model as NIR, with trained weights.

Neurons are written in snnTorch's convention (LIF tau = dt/(1 - beta), r = tau/dt) with
the spec's dt, or 1e-4 s without one. See docs/nir.md.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the model file (JSON)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.nir", help="the NIR file to write")
    parser.add_argument("--checkpoint", metavar="CKPT",
                        help="checkpoint.bin written by snncc train (or its run directory); default: the "
                        "model's initial weights")
    parser.add_argument("--dt", type=float, default=None, metavar="SECONDS",
                        help="timestep for the time constants (default: the spec's dt, else 1e-4 as snnTorch)")


def _checkpoint_weights(path: Path, name: str) -> dict:
    import torch

    from ..torch.trainer import CHECKPOINT_FORMAT

    if path.is_dir():
        path = path / "checkpoint.bin"
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"{path}: cannot read the checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT or not isinstance(state.get("weights"), dict):
        raise UserError(f"{path}: not a checkpoint written by snncc train")
    if state.get("model") != name:
        raise UserError(f"{path}: the checkpoint belongs to model '{state.get('model')}', not '{name}'")
    weights = {}
    for key, value in state["weights"].items():
        # weights_only admits any tensor-free structure too: strings, lists, integer tensors
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise UserError(f"{path}: checkpoint entry '{key}' is not a floating-point tensor "
                            "(not a checkpoint written by snncc train)")
        if not bool(torch.isfinite(value).all()):
            raise UserError(f"{path}: checkpoint weight '{key}' holds NaN or infinite values")
        weights[key] = value.detach().to(torch.float32).numpy()
    return weights


def run(args: argparse.Namespace) -> int:
    from .. import nir as snn_nir
    from ..ir import spec_to_ir
    from ..spec import load_spec
    from ..fsutil import NIR, check_output_file
    from ..torch import build_model

    # before any work: a new file or an earlier NIR output, not the model or checkpoint it reads
    check_output_file(args.output, "-o", NIR, reads=[args.file, *([args.checkpoint] if args.checkpoint else [])])
    if args.dt is not None and not (math.isfinite(args.dt) and args.dt > 0):
        raise UserError(f"--dt must be a finite number of seconds > 0, not {args.dt:g}")
    spec = load_spec(args.file)
    ir = spec_to_ir(spec)
    from ..torch.memory import export_bytes, memory_problem

    # before build_model allocates the weights
    if (message := memory_problem(export_bytes(ir, bool(args.checkpoint)), f"exporting model '{ir.name}'")) is not None:
        raise UserError(message)
    own = {k: v.detach().numpy() for k, v in build_model(ir).weights().items()}
    weights = own
    if args.checkpoint:
        weights = _checkpoint_weights(Path(args.checkpoint), ir.name)
        if set(weights) != set(own) or any(weights[k].shape != own[k].shape for k in own):
            raise UserError(f"{args.checkpoint}: the checkpoint's weights do not match model '{ir.name}' (the model changed?)")
    graph, notes = snn_nir.export_graph(ir, weights, args.dt)
    snn_nir.write_export(graph, args.output)
    dt = args.dt or ir.settings.dt or snn_nir.SNNTORCH_DT
    print(f"wrote {args.output} ({len(ir.populations)} populations, {len(ir.projections)} projections, "
          f"dt = {dt:g} s, {'checkpoint weights' if args.checkpoint else 'initial weights'})")
    for note in notes:
        print(f"  note: {note}")
    return 0
