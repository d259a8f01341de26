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


class Interrupted(BaseException):
    """A run stopped by SIGTERM (a scheduler's time limit, `kill`) or Ctrl-C: not an error of the
    run's, so not an ``Exception``; its record says ``interrupted`` and the same command resumes."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
