"""The `snncc` command.

Each subcommand is a pair of functions, `add_arguments(parser)` and `run(args) -> int`,
in its own module; this file only wires them up. Expected failures (bad input, a model
that does not fit) reach the user as one line per problem and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import UserError
from .spec import SpecError

#: name -> (module with add_arguments/run, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("snncc.commands.validate", "check model files against the schema and the semantic rules"),
    "schema": ("snncc.commands.schema", "print the JSON Schema of model files"),
    "inspect": ("snncc.commands.inspect", "summarise a model's graph IR; write it as GraphML or DOT"),
    "plan": ("snncc.commands.plan", "partition a model over tiles and IPUs; report memory and predicted step time"),
    "train": ("snncc.commands.train", "train a model and write metrics, checkpoints and plots to a run directory"),
    "compile": ("snncc.commands.compile", "write a model's build directory: codelets, Poplar host program, CMake"),
    "build": ("snncc.commands.build", "build a compiled model against the host runtime or the Poplar SDK"),
    "verify": ("snncc.commands.verify", "run training steps through the generated program and the torch reference; compare"),
    "import-nir": ("snncc.commands.import_nir", "convert a NIR graph into a model file and its arrays file"),
    "export-nir": ("snncc.commands.export_nir", "write a model, with trained weights from a checkpoint, as a NIR graph"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snncc",
        description="Compile a spiking neural network spec (model.json) into a training program.",
    )
    parser.add_argument("--version", action="version", version=f"snncc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        cmd = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args._run(args)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except UserError as exc:
        print(f"snncc {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:  # a command may say what was kept
        print(f"snncc {args.command}: interrupted" + (f"; {exc}" if str(exc) else ""), file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
