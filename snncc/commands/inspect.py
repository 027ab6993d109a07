"""`snncc inspect FILE`: a readable summary of the graph IR and the memory the plan's model
gives each population; GraphML or DOT on request."""

from __future__ import annotations

import argparse
import os

from ..errors import UserError
from ..fsutil import DOT, GRAPHML, check_output_file, write_errors
from ..ir import spec_to_ir
from ..ir.export import write_dot, write_graphml
from ..ir.report import summary
from ..partition import PlanError, make_plan
from ..partition.report import population_text
from ..spec import load_spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="model file (JSON)")
    parser.add_argument("--graphml", metavar="OUT", help="also write the IR as GraphML to OUT")
    parser.add_argument("--dot", metavar="OUT", help="also write the IR as Graphviz DOT to OUT")


def run(args: argparse.Namespace) -> int:
    # before any work: each output is new or an earlier output of its format
    if args.graphml is not None:
        check_output_file(args.graphml, "--graphml", GRAPHML, reads=[args.file])
    if args.dot is not None:
        check_output_file(args.dot, "--dot", DOT, reads=[args.file])
        if args.graphml is not None and os.path.abspath(args.graphml) == os.path.abspath(args.dot):
            raise UserError(f"--graphml and --dot are the same file ({args.dot}); give two names")
    ir = spec_to_ir(load_spec(args.file))
    print(summary(ir), end="")
    try:
        memory = population_text(ir, make_plan(ir, pipelined=False))
    except PlanError as exc:
        memory = f"memory: the model does not fit its target: {exc}\n"
    print("\n" + memory, end="")
    if args.graphml is not None:
        with write_errors(args.graphml, "--graphml"):
            write_graphml(ir, args.graphml)
        print(f"wrote {args.graphml}")
    if args.dot is not None:
        with write_errors(args.dot, "--dot"):
            write_dot(ir, args.dot)
        print(f"wrote {args.dot}")
    return 0
