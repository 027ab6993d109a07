"""`snncc verify FILE [--steps N]`: the generated program against the torch reference."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from ..codegen.pipeline import build, compile_spec
from ..codegen.render import write_build_dir
from ..errors import UserError
from ..runtime.build import default_cache_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="model file (JSON)")
    parser.add_argument("--steps", type=int, default=1, metavar="N", help="training steps (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random batch (default 0)")


def run(args: argparse.Namespace) -> int:
    from ..codegen.verify import TOLERANCE, verify  # imports torch: only when verifying

    if args.steps < 1:
        raise UserError("--steps must be at least 1")
    ir, files = compile_spec(args.file)
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
    print(f"verify {ir.name}: {args.steps} step(s), batch {ir.settings.batch_size}, {ir.settings.timesteps} timesteps "
          f"(build {built:.1f} s, run and compare {ran:.1f} s); tolerance: relative {TOLERANCE:g}")
    print(report.text(), end="")
    if not report.ok:
        print(f"snncc verify: {args.file}: the generated program differs from the reference", file=sys.stderr)
        return 1
    return 0
