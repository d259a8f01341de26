"""JSON Lines parsing whose errors name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from stance.errors import StanceError, problem


def iter_json_lines(lines: Iterable[str], where: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, value)`` for each non-blank line; bad JSON raises StanceError."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            what = f"not valid JSON ({err.msg})"
            raise StanceError(problem(f"{where}:{number}", what, "fix or remove the line")) from err
        yield number, value
