"""The annotation report's Markdown: the agreement summary, the confusion table, the data card's
count tables, and the generated blocks they refresh in a README (stance.labelling.annotation)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from stance.errors import StanceError, problem
from stance.pages import markdown_table

if TYPE_CHECKING:  # the result type only; annotation imports this module
    from stance.labelling.annotation import Agreement


def confusion_markdown(result: Agreement) -> str:
    """The confusion matrix as a Markdown table (rows first pass, columns second pass)."""
    header = ["first \\ second", *result.labels, "total"]
    rows = [
        [label, *(int(v) for v in counts), int(counts.sum())]
        for label, counts in zip(result.labels, result.confusion, strict=True)
    ]
    rows.append(["total", *(int(v) for v in result.confusion.sum(axis=0)), result.n])
    return markdown_table(header, rows)


def agreement_markdown(result: Agreement, first_name: str, second_name: str) -> str:
    """A short Markdown report: n, raw agreement, Cohen's kappa, confusion matrix, disagreements."""
    return "\n".join(
        [
            "# Agreement between annotation passes",
            "",
            f"First pass: `{first_name}`; second pass (blind): `{second_name}`.",
            "",
            f"- paragraphs compared: {result.n}",
            f"- raw agreement: {result.raw_agreement:.3f}",
            f"- Cohen's kappa: {result.kappa:.3f}",
            f"- disagreements: {len(result.disagreements)}",
            "",
            "Confusion (rows: first pass, columns: second pass):",
            "",
            confusion_markdown(result),
            "",
            "## Disagreements",
            "",
            markdown_table(["id", "first", "second"], result.disagreements),
            "",
        ]
    )


def count_rows(rows: Iterable[dict], key: str, labels: Sequence[str]) -> list[list[object]]:
    """Rows of a `key` x label count table (sorted by key) with a total column and a total row."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(labels, 0))
    for row in rows:
        value = str(row["date"])[:4] if key == "year" else str(row[key])
        counts[value][row["label"]] += 1
    table: list[list[object]] = [
        [value, *counts[value].values(), sum(counts[value].values())] for value in sorted(counts)
    ]
    totals = [sum(int(line[1 + i]) for line in table) for i in range(len(labels))]
    table.append(["total", *totals, sum(totals)])
    return table


CROSS_TABLES = {
    "target": "Topic (target) x label",
    "register": "Register x label",
    "year": "Year x label",
}


def corpus_tables_markdown(rows: Sequence[dict], labels: Sequence[str]) -> str:
    """Data-card count tables: paragraphs per label, then target, register and year x label."""
    totals = {label: sum(row["label"] == label for row in rows) for label in labels}
    label_rows = [[label, count, f"{count / len(rows):.1%}"] for label, count in totals.items()]
    label_rows.append(["total", len(rows), "100.0%"])
    sizes = Counter(row["doc_id"] for row in rows).values()
    dates = sorted(str(row["date"]) for row in rows)
    summary = (
        f"{len(rows)} paragraphs in {len(sizes)} documents ({min(sizes)}-{max(sizes)} paragraphs "
        f"each), {len({row['target'] for row in rows})} targets, dated {dates[0]} to {dates[-1]}."
    )
    parts = [
        summary,
        "",
        "**Label**",
        "",
        markdown_table(["label", "paragraphs", "share"], label_rows),
        "",
    ]
    for key, title in CROSS_TABLES.items():
        parts += [
            f"**{title}**",
            "",
            markdown_table([key, *labels, "total"], count_rows(rows, key, labels)),
            "",
        ]
    return "\n".join(parts)


def replace_block(text: str, name: str, content: str, where: str) -> str:
    """Replace what lies between `<!-- BEGIN name -->` and `<!-- END name -->` in `text`."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise StanceError(
            problem(where, f"needs exactly one `{begin}` ... `{end}` pair", "add the two markers")
        )
    head, rest = text.split(begin)
    return f"{head}{begin}\n{content.strip()}\n{end}{rest.split(end, 1)[1]}"
