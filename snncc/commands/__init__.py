"""The `snncc` subcommands, one module each (see snncc.cli)."""
