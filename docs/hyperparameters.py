"""The README's table of every family's hyperparameters: `python docs/hyperparameters.py`.

One table per file in configs/model/: each `model.<key>` its family's constructor takes, the value
that config gives it, and its help line. The help line is written once, in the family's schema:
the comment on the constructor's parameter (or on its `self.<key> = <key>` line), or, for the
transformer's training settings, the field's comment in `TrainSettings`. tests/test_architecture.py
fails when the README's block is not what this prints, or when a hyperparameter has no help line.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.utils import get_class
from omegaconf import OmegaConf
from page_blocks import current, wrap, write

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PARAM = re.compile(r"\s+(\w+): [^#]*?(?:#\s*(.*))?$")  # `name: type = default,  # help`
ASSIGN = re.compile(r"\s+self\.(\w+) = \1\s*#\s*(.*)$")  # `self.name = name  # help`


def param_help(cls: type) -> dict[str, str]:
    """Each constructor parameter's help line, from the source of ``cls`` and its bases (a
    subclass's own comment wins), and for the transformer from its schema dataclass
    (``stance.cli.field_help``), which wins."""
    from stance.cli import field_help
    from stance.config_schemas import TransformerModelConfig

    found: dict[str, str] = {}
    for klass in reversed([k for k in cls.__mro__ if "__init__" in vars(k)][:-1]):
        pending: list[str] = []
        for line in inspect.getsource(klass.__init__).splitlines()[1:]:
            if line.strip().startswith("#"):
                pending.append(line.strip().lstrip("# "))
                continue
            match = ASSIGN.match(line) or PARAM.match(line)
            text = " ".join([*pending, (match.group(2) or "") if match else ""]).strip()
            if match and text:
                found[match.group(1)] = text
            pending = []
    if any(k.__name__ == "TransformerStanceModel" for k in cls.__mro__):  # its schema first
        found.update({k: h for k, _, h in field_help(TransformerModelConfig) if h})
    return found


def family_rows(name: str) -> list[tuple[str, str, str]]:
    """(key, value in configs/model/<name>.yaml, help) of every hyperparameter of that config."""
    import stance.config_schemas
    import stance.runs  # noqa: F401  (the train config's schemas and resolvers)

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose("train", [f"model={name}"])
    node = OmegaConf.to_container(cfg.model, resolve=False)
    cls = get_class(node["_target_"])
    helps = param_help(cls)
    rows = []
    for key in cls.param_names():
        value = node.get(key, inspect.signature(cls.__init__).parameters[key].default)
        shown = value if isinstance(value, str) and value.startswith("${") else json.dumps(value)
        rows.append((key, shown, helps.get(key, "")))
    return rows


def block() -> str:
    """The generated Markdown: one collapsible table per model config."""
    parts = []
    for path in sorted((ROOT / "configs" / "model").glob("*.yaml")):
        rows = family_rows(path.stem)
        parts += [
            f"<details><summary><code>model={path.stem}</code> ({len(rows)} settings)</summary>",
            "",
            "| `model.<key>` | value | what it does |",
            "|---|---|---|",
            *(f"| `{k}` | `{v}` | {h.replace('|', '/')} |" for k, v, h in rows),
            "",
            "</details>",
        ]
    return wrap("hyperparameters", parts)


def readme_block() -> str:
    """The block as it stands in the README."""
    return current(README, "hyperparameters")


def main() -> None:
    write(README, "hyperparameters", block())
    print(f"wrote the hyperparameters block of {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
