"""`snncc verify FILE [--steps N] [--layout ipu|cpu|both]`: the generated program against the torch reference
(snncc.verify.compare imports torch: only when verifying)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from ..driver import build, compile_spec
from ..codegen.render import write_build_dir
from ..errors import UserError
from ..runtime.build import default_cache_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="model file (JSON)")
    parser.add_argument("--steps", type=int, default=1, metavar="N", help="training steps (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random batch (default 0)")
    parser.add_argument("--layout", choices=("ipu", "cpu", "both"), default="both",
                        help="which program: planned for the spec's IPU target exactly (ipu), for this machine's "
                        "CPU-shaped target that `snncc train` uses by default (cpu), or each in turn (both, default)")


def run(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise UserError("--steps must be at least 1")
    ok = True
    for layout in (("ipu", "cpu") if args.layout == "both" else (args.layout,)):
        ok = _verify_layout(args, layout) and ok
    if not ok:
        print(f"snncc verify: {args.file}: the generated program differs from the reference", file=sys.stderr)
        return 1
    return 0


def _verify_layout(args: argparse.Namespace, layout: str) -> bool:
    from ..verify.compare import TOLERANCE, ULPS_FLOAT16, VERIFY_STEPS_FLOAT16, verify

    ir, files = compile_spec(args.file, layout)
    half = ir.settings.precision == "float16"
    if half and args.steps > VERIFY_STEPS_FLOAT16:
        raise UserError(f"--steps {args.steps}: a float16 model is compared over {VERIFY_STEPS_FLOAT16} step (after "
                        "an update its float16 weight copies may round apart from the reference's: docs/training.md)")
    with tempfile.TemporaryDirectory(prefix="snncc-verify-") as tmp:
        src = write_build_dir(files, Path(tmp) / ir.name)
        start = time.monotonic()
        # Built in the shared cache: the same model is built once.
        binary = build(src, "host", cache_root=default_cache_root())
        built = time.monotonic() - start
        start = time.monotonic()
        try:
            report = verify(ir, binary, Path(tmp) / "run", args.steps, args.seed)
        except RuntimeError as exc:
            raise UserError(str(exc)) from None
        ran = time.monotonic() - start
    tiles = ir.settings.target.num_ipus * ir.settings.target.tiles_per_ipu
    print(f"verify {ir.name}, {layout} layout ({tiles:,} tiles): {args.steps} step(s), batch {ir.settings.batch_size}, "
          f"{ir.settings.timesteps} timesteps (build {built:.1f} s, run and compare {ran:.1f} s); "
          f"tolerance: relative {TOLERANCE:g}" + (f", float16 states {ULPS_FLOAT16:g} ulp" if half else ""))
    print(report.text(), end="")
    return report.ok
