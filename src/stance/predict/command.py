"""``scripts/predict.py``: label a file, a folder or a glob of inputs into one output, resumably
(or one shard of them, ``shard=i num_shards=N``; ``merge=true`` joins the shards)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from omegaconf import OmegaConf
from tqdm.auto import tqdm

from stance.config_schemas import DocumentConfig
from stance.errors import StanceError, problem
from stance.predict.destinations import output_file, refuse_inputs
from stance.predict.documents import WHERE, describe, label_units, unit_key
from stance.predict.inputs import InputSpec, Source, sources, units
from stance.predict.loading import Predictor, load_model
from stance.predict.outputs import META_SUFFIX, Writer, output_format
from stance.predict.policies import missing_target
from stance.predict.shards import SHARD_KEYS, check_sharding, merge_shards, shard_of, shard_path


def input_spec(cfg: Any) -> InputSpec:
    """The ``input`` keys of a predict-like config as an ``InputSpec``."""
    columns = OmegaConf.to_container(cfg.columns) if cfg.columns is not None else {}
    return InputSpec(cfg.input, cfg.input_format, columns, cfg.delimiter, cfg.sheet)


def predict_command(cfg: Any) -> int:
    """Label ``cfg.input`` with ``cfg.model_path`` into ``cfg.output`` (shard ``cfg.shard`` of
    ``cfg.num_shards`` into its shard output); returns the rows written."""
    if cfg.merge:
        return merge_command(cfg)
    sharded = cfg.num_shards > 1
    output_file("output", cfg.output)  # a folder: said before its format is asked
    check_sharding(
        cfg.shard, cfg.num_shards, cfg.output, output_format(cfg.output, cfg.output_format)
    )
    output = str(shard_path(cfg.output, cfg.shard, cfg.num_shards)) if sharded else cfg.output
    predictor = load_model(cfg.model_path)
    spec = input_spec(cfg)
    found = sources(spec)
    rule = DocumentConfig(**OmegaConf.to_container(cfg.document))
    output_file("output", output)
    fmt = output_format(output, cfg.output_format)
    if output not in (None, "-"):  # nothing is written before this check
        written = [output, f"{output}{META_SUFFIX}"]
        refuse_inputs("output", written, [spec.path, *(s.path for s in found), predictor.path])
    meta = {"model": str(predictor.path.resolve()), "classes": predictor.classes_,
            "document": OmegaConf.to_container(cfg.document), "rule": describe(rule),
            "label_words": predictor.label_words, "excel": cfg.excel}  # fmt: skip
    if sharded:
        meta |= dict(zip(SHARD_KEYS, (cfg.shard, cfg.num_shards), strict=True))
    needs_target = predictor.requires_target and not cfg.target
    writer = Writer(output, fmt, predictor.classes_, meta, cfg.resume, predictor.label_words,
                    cfg.excel)  # fmt: skip
    bar = tqdm(total=len(found), unit="file", disable=not cfg.progress, file=sys.stderr)
    skipped = 0

    def todo() -> Iterator[list[dict[str, Any]]]:
        nonlocal skipped
        for source in found:
            if source.format == "txt" and not mine(source.name):
                pass  # another shard's, known without reading the file
            elif source.format == "txt" and source.name in writer.done:
                skipped += 1  # known without reading the file
            else:
                for unit in units(source, spec):
                    key = unit_key(unit)
                    if not mine(key):
                        continue
                    if key in writer.done:
                        skipped += 1
                        continue
                    untargeted = [row for row in unit if not row.get("target")]
                    if needs_target and untargeted:
                        where, known = untargeted[0].get(WHERE), predictor.seen_targets
                        raise missing_target(source.path, source.root, where, known)
                    yield unit
            bar.update(1)
            bar.set_postfix(skipped=skipped, rows=writer.rows, refresh=False)

    def mine(key: str) -> bool:
        return not sharded or shard_of(key, cfg.num_shards) == cfg.shard

    unseen: dict[str | None, int] = {}  # target (None: none given) -> paragraphs
    try:
        for out in label_units(predictor, todo(), cfg.target, cfg.batch_size, rule):
            writer.write(out)
            for row in out:
                if row.get("unseen_target"):
                    target = row.get("target")
                    unseen[target] = unseen.get(target, 0) + 1
    except BaseException:
        writer.abandon()  # the rows written so far stay in its work file, for the rerun
        raise
    finally:
        bar.close()
    writer.close()
    _report(writer, found, skipped)
    if unseen:
        print(unseen_warning(predictor, unseen), file=sys.stderr)
    return writer.rows


def merge_command(cfg: Any) -> int:
    """``merge=true``: write ``cfg.output`` from its shard outputs, in the order of ``cfg.input``'s
    units (read again, the model is not loaded); returns the units written."""
    if cfg.output in (None, "-"):
        fix = "give the output= the shards were run with"
        raise StanceError(problem("merge=true", "merging needs output=FILE", fix))
    output_file("output", cfg.output)
    spec = input_spec(cfg)
    found = sources(spec)
    written = [cfg.output, f"{cfg.output}{META_SUFFIX}"]
    refuse_inputs("output", written, [spec.path, *(s.path for s in found)])
    fmt = output_format(cfg.output, cfg.output_format)

    def order() -> Iterator[str]:
        for source in found:
            if source.format == "txt":
                yield source.name
            else:
                yield from (unit_key(unit) for unit in units(source, spec))

    count = merge_shards(cfg.output, fmt, cfg.num_shards, order())
    print(f"merged {count} documents and lone paragraphs into {cfg.output}", file=sys.stderr)
    return count


def unseen_warning(predictor: Predictor, unseen: dict[str | None, int]) -> str:
    """One line naming the targets the model never saw, with the known one each may misspell
    (None: paragraphs given no target)."""
    named = []
    for target, count in unseen.items():
        if target is None:
            named.append(f"no target ({count} paragraphs; give target=<policy>)")
            continue
        close = predictor.closest_target(target)
        hint = f", did you mean {close!r}?" if close else ""
        named.append(f"{target!r} ({count} paragraphs{hint})")
    return (
        f"warning: targets this model never saw in training: {'; '.join(named)}. Their rows are "
        "labelled by the weights shared by all targets and flagged unseen_target=true; known "
        f"targets are in {predictor.path}/stance_model.json (seen_targets)"
    )


def _report(writer: Writer, found: list[Source], skipped: int) -> None:
    if writer.path is None:
        return
    kept = f"; {skipped} documents were already there (resumed)" if skipped else ""
    print(f"wrote {writer.rows} rows from {len(found)} files to {writer.path}{kept}",
          file=sys.stderr)  # fmt: skip
