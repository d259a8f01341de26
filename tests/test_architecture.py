"""The shape of the code: layers that import only downwards, short modules, a current map."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 300


def test_no_module_imports_from_a_layer_above_it() -> None:
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert linter, "import-linter is a dev dependency: pip install -e '.[dev]'"
    done = subprocess.run([linter], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 kept, 0 broken" in done.stdout


def test_every_module_is_at_most_300_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "src").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long


def test_the_architecture_page_shows_the_layers_as_the_code_has_them() -> None:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import architecture
    finally:
        sys.path.pop(0)
    assert architecture.page_block() == architecture.block(), "run: python docs/architecture.py"


def test_the_readme_lists_every_familys_hyperparameters_with_a_help_line() -> None:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hyperparameters
    finally:
        sys.path.remove(str(ROOT / "docs"))
    configs = sorted(p.stem for p in (ROOT / "configs" / "model").glob("*.yaml"))
    silent = {
        name: [key for key, _, text in hyperparameters.family_rows(name) if not text]
        for name in configs
    }
    assert not any(silent.values()), f"settings without a help line: {silent}"
    assert hyperparameters.readme_block() == hyperparameters.block(), (
        "run: python docs/hyperparameters.py"
    )
