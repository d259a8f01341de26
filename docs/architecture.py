"""Regenerate the layout block of docs/architecture.md from the code: `python docs/architecture.py`.

Each layer of the import-linter contract in pyproject.toml (top to bottom), and in it each package
or module with the first sentence of its docstring and the modules it holds.
tests/test_architecture.py fails when the block in the page is not what this prints.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

from page_blocks import current, wrap, write

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"


def _summary(path: Path) -> str:
    """The first sentence of a module's (or package's __init__) docstring."""
    file = path / "__init__.py" if path.is_dir() else path
    doc = ast.get_docstring(ast.parse(file.read_text())) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return re.split(r"(?<!\bal)\.\s+(?=[A-Z(`])", first)[0].rstrip(".")


def _members(dotted: str) -> list[str]:
    """``stance.x``: the package's modules (``x/a.py``) or the module itself."""
    path = ROOT / "src" / Path(*dotted.split("."))
    if path.is_dir():
        return sorted(f"{dotted}.{p.stem}" for p in path.glob("*.py") if p.stem != "__init__") + [
            f"{dotted}.{p.name}" for p in sorted(path.iterdir()) if (p / "__init__.py").is_file()
        ]
    return []


def block() -> str:
    """The generated Markdown: one row per package or top-level module, layer by layer, with the
    modules it holds (their own docstrings say what each is)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    rows = ["| layer | package | what it is | modules |", "|---|---|---|---|"]
    for number, layer in enumerate(contract["layers"], start=1):
        for name in (n.strip() for n in layer.replace(":", "|").split("|")):
            path = ROOT / "src" / Path(*name.split("."))
            path = path if path.is_dir() else path.with_suffix(".py")
            members = ", ".join(m.removeprefix(name + ".") for m in _members(name))
            rows.append(f"| {number} | `{name}` | {_summary(path)} | {members} |")
    return wrap("layers", rows)


def page_block() -> str:
    """The block as it stands in docs/architecture.md."""
    return current(PAGE, "layers")


if __name__ == "__main__":
    write(PAGE, "layers", block())
    print(f"wrote the layers block of {PAGE}", file=sys.stderr)
