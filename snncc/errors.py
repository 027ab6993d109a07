"""Errors meant for the user rather than for a traceback."""


class UserError(Exception):
    """An error for the user: `snncc` prints it as one line and exits with status 1."""
