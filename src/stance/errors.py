"""One exception type for problems a user can fix; its message says where, what and how."""

from __future__ import annotations


class StanceError(Exception):
    """A user-fixable problem: bad input file, wrong path, mismatched labels, bad config.

    Build the message with :func:`problem` so every error names the place, the problem and the fix.
    Entry points print it without a traceback and exit with status 2.
    """


def problem(where: str, what: str, fix: str) -> str:
    """Format an error message: ``<where>: <what>. Fix: <fix>``."""
    return f"{where}: {what}\n  fix: {fix}"
