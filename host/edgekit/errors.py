"""Errors the CLI turns into one-line messages.

`UserError` is bad input (a malformed model, an unsupported op, a bad YAML field): exit code 2.
`ToolError` is a failure of the environment or a device (missing toolchain, board not answering):
exit code 1. Anything else is a bug and shows a traceback.
"""
from __future__ import annotations


class EdgekitError(Exception):
    exit_code = 1


class UserError(EdgekitError):
    """Bad input from the user: one line, exit code 2, no traceback unless --debug."""

    exit_code = 2


class ToolError(EdgekitError):
    """A missing tool, a failed build, a device that does not answer: exit code 1."""

    exit_code = 1
