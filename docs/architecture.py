"""Regenerate the layout block of docs/architecture.md from the code: `python docs/architecture.py`.

Each layer of the import-linter contract in pyproject.toml (top to bottom), and in it each package
or module with the first sentence of its docstring. tests/test_architecture.py fails when the
block in the page is not what this prints.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- generated: layers -->", "<!-- /generated: layers -->"


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
    """The generated Markdown: one table row per package or module, layer by layer."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    rows = ["| layer (top first) | package or module | what it is |", "|---|---|---|"]
    for number, layer in enumerate(contract["layers"], start=1):
        for name in (n.strip() for n in layer.replace(":", "|").split("|")):
            path = ROOT / "src" / Path(*name.split("."))
            path = path if path.is_dir() else path.with_suffix(".py")
            rows.append(f"| {number} | `{name}` | {_summary(path)} |")
            for member in _members(name):
                sub = ROOT / "src" / Path(*member.split("."))
                sub = sub if sub.is_dir() else sub.with_suffix(".py")
                rows.append(f"|  | `{member.removeprefix(name + '.')}` | {_summary(sub)} |")
    return "\n".join([BEGIN, *rows, END])


def page_block() -> str:
    """The block as it stands in docs/architecture.md."""
    text = PAGE.read_text()
    return text[text.index(BEGIN) : text.index(END) + len(END)]


if __name__ == "__main__":
    text = PAGE.read_text()
    PAGE.write_text(text.replace(page_block(), block()))
    print(f"wrote the layers block of {PAGE}", file=sys.stderr)
