"""`snncc inspect FILE`: a readable summary of the graph IR; GraphML or DOT on request."""

from __future__ import annotations

import argparse

from ..ir import spec_to_ir
from ..ir.export import write_dot, write_graphml
from ..ir.report import summary
from ..spec import load_spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="model file (JSON)")
    parser.add_argument("--graphml", metavar="OUT", help="also write the IR as GraphML to OUT")
    parser.add_argument("--dot", metavar="OUT", help="also write the IR as Graphviz DOT to OUT")


def run(args: argparse.Namespace) -> int:
    ir = spec_to_ir(load_spec(args.file))
    print(summary(ir), end="")
    if args.graphml:
        write_graphml(ir, args.graphml)
        print(f"wrote {args.graphml}")
    if args.dot:
        write_dot(ir, args.dot)
        print(f"wrote {args.dot}")
    return 0
