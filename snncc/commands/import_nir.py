"""`snncc import-nir FILE.nir -o model.json`: a NIR graph as a spec and its arrays file.

What a NIR file does not say (dt, discretisation, reset, timesteps) comes from options,
with defaults that reproduce snnTorch's export (or Norse's with --convention norse); the
command prints what it assumed. See docs/nir.md.
"""

from __future__ import annotations

import argparse
import math
import re

from ..errors import UserError
from ..spec import load_spec
from ..spec.models import ID_PATTERN, ModelSpec
from ..spec.schema import spec_limit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.nir", help="the NIR file (HDF5, as nir.write writes it)")
    parser.add_argument("-o", "--output", required=True, metavar="MODEL.json",
                        help="the model file to write; its arrays go beside it as MODEL.arrays.npz")
    parser.add_argument("--dt", type=float, default=None, metavar="SECONDS",
                        help="timestep (default: 1e-4, snnTorch's; 1e-6 with --convention norse)")
    parser.add_argument("--discretisation", choices=("euler", "exact"), default="euler",
                        help="time constant to decay factor: euler 1 - dt/tau (default), exact exp(-dt/tau)")
    parser.add_argument("--reset", action="append", default=None, metavar="[POP=]MECH",
                        help="reset mechanism, as the exporter names it: subtract, zero or none (snnTorch's "
                        "reset_mechanism; zero becomes snncc's zero for Leaky and zero_updated for RLeaky, "
                        "Synaptic and RSynaptic), or snncc's zero_updated, or snncc:NAME for a spec name as it is. "
                        "MECH alone sets every spiking population; POP=MECH (repeatable) one population, by its "
                        "NIR node name or its id (default: subtract, snnTorch's; zero with --convention norse)")
    parser.add_argument("--convention", choices=("snntorch", "norse"), default="snntorch",
                        help="which exporter wrote the file, for what NIR leaves open (default snntorch)")
    parser.add_argument("--timesteps", type=int, default=100, metavar="T", help="timesteps per sample (default 100)")
    parser.add_argument("--name", default=None, help="model name (default: from the output file name)")


def run(args: argparse.Namespace) -> int:
    from .. import nir as snn_nir
    from ..fsutil import check_import_outputs

    check_import_outputs(args.output, "-o", reads=[args.file])  # before any work
    if args.dt is not None and not (math.isfinite(args.dt) and args.dt > 0):
        raise UserError(f"--dt must be a finite number of seconds > 0, not {args.dt:g}")
    max_timesteps = spec_limit(ModelSpec, "timesteps")
    if not 1 <= args.timesteps <= max_timesteps:
        raise UserError(f"--timesteps must be in [1, {max_timesteps}], not {args.timesteps}")
    stem = re.sub(r"\.json$", "", args.output.replace("\\", "/").rsplit("/", 1)[-1])
    name = args.name or re.sub(r"[^A-Za-z0-9_]", "_", stem)
    # fullmatch: re.match's $ also matches before a final newline
    if not re.fullmatch(ID_PATTERN, name):
        name = f"m_{name}"[:64]
        if not re.fullmatch(ID_PATTERN, name):
            raise UserError(f"--name {args.name!r} is not an identifier (a letter or underscore, then letters, digits, _)")
    reset, overrides = _reset_options(args.reset or [])
    options = snn_nir.ImportOptions(dt=args.dt, discretisation=args.discretisation, reset=reset,
                                    name=name, timesteps=args.timesteps, convention=args.convention,
                                    reset_overrides=overrides)
    graph = snn_nir.read_graph(args.file)
    imported = snn_nir.import_graph(graph, options)
    snn_nir.validate_import(imported, args.output, args.file)  # before anything is written
    model_path, arrays_path = snn_nir.write_import(imported, args.output)
    load_spec(model_path)  # what was written must be valid too; a SpecError here is a bug, shown located
    print(f"wrote {model_path} and {arrays_path}")
    print("assumed (a NIR file does not say):")
    for line in snn_nir.assumptions(options):
        print(f"  {line}")
        if line.startswith("reset = "):
            for reset_line in imported.resets:
                print(f"    {reset_line}")
    print("notes:")
    print("  the data block is synthetic, sized to the network: replace it with your data")
    for note in imported.notes:
        print(f"  {note}")
    return 0


def _reset_options(values: list[str]) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """--reset MECH and --reset POP=MECH (repeatable) as (mechanism for all or None, overrides)."""
    from ..nir.importer import check_reset_mechanism

    reset, overrides, seen = None, [], set()
    for value in values:
        pop, sep, mechanism = value.rpartition("=")
        if not sep:
            if reset is not None and reset != value:
                raise UserError(f"--reset {reset} and --reset {value}: give one mechanism for every population, "
                                "and POP=MECH for a single one")
            reset = check_reset_mechanism(value, f"--reset {value}")
            continue
        if not pop or pop in seen:
            raise UserError(f"--reset {value}: " + ("POP=MECH needs a population before '='" if not pop else
                                                   f"population '{pop}' is given twice"))
        seen.add(pop)
        overrides.append((pop, check_reset_mechanism(mechanism, f"--reset {value}")))
    return reset, tuple(overrides)
