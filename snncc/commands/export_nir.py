"""`snncc export-nir FILE [--checkpoint CKPT] -o OUT.nir`: a model as NIR, with trained weights.

Neurons are written in snnTorch's convention (LIF tau = dt/(1 - beta), r = tau/dt) with
the spec's dt, or 1e-4 s without one. See docs/nir.md.
"""

from __future__ import annotations

import argparse
import math

from ..errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the model file (JSON)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.nir", help="the NIR file to write")
    parser.add_argument("--checkpoint", metavar="CKPT",
                        help="checkpoint.bin written by snncc train (or its run directory); default: the "
                        "model's initial weights")
    parser.add_argument("--dt", type=float, default=None, metavar="SECONDS",
                        help="timestep for the time constants (default: the spec's dt, else 1e-4 as snnTorch)")


def run(args: argparse.Namespace) -> int:
    from .. import nir as snn_nir
    from ..fsutil import NIR, check_output_file
    from ..ir import spec_to_ir
    from ..spec import load_spec

    # before any work: a new file or an earlier NIR output, not the model or checkpoint it reads
    check_output_file(args.output, "-o", NIR, reads=[args.file, *([args.checkpoint] if args.checkpoint else [])])
    if args.dt is not None and not (math.isfinite(args.dt) and args.dt > 0):
        raise UserError(f"--dt must be a finite number of seconds > 0, not {args.dt:g}")
    spec = load_spec(args.file)
    ir = spec_to_ir(spec)
    weights = snn_nir.model_weights(ir, args.checkpoint)
    graph, notes = snn_nir.export_graph(ir, weights, args.dt)
    snn_nir.write_export(graph, args.output)
    dt = snn_nir.export_dt(ir, args.dt)
    print(f"wrote {args.output} ({len(ir.populations)} populations, {len(ir.projections)} projections, "
          f"dt = {dt:g} s, {'checkpoint weights' if args.checkpoint else 'initial weights'})")
    for note in notes:
        print(f"  note: {note}")
    return 0
