"""The annotator ceiling: the score an independent annotation pass reaches against the adjudicated gold.

A human-level reference for the leaderboard, per benchmark task. Each independent pass record
(`provenance.annotation_pass` set) of a double-annotated article is scored as if it were a model's
predictions, with the project's own pipeline end to end:

1. the adjudicated gold of those articles and, separately, the records of each pass are built into
   scratch releases by the real release builder (same segmentation, rows and row ids);
2. a pass's rows become prediction files in the declared format (entities/triggers: its tags;
   event types: its sentence labels; stance: its label for every gold actor pair, matched by the
   character offsets of holder and target in the same context; NONE where the pass has no relation);
3. `eval.scoring.score_predictions` scores them against the gold rows, all splits pooled.

The ceiling of a task is the mean over passes of the pooled main score. Caveat (stated in the
card): the gold was adjudicated from these very passes, so an annotator is scored against a gold
that partly is their own work; the figure is an upper estimate of human agreement.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conflictnews.annotation import scheme
from conflictnews.annotation.records import AnnotationRecord, GoldRecord, Span, Stance, write_record
from conflictnews.io import ConflictNewsError
from conflictnews.paths import ProjectPaths

TASK_CONFIGS = {"entities": "entities", "triggers": "events", "event_types": "events", "stance": "stance"}


@dataclass
class PassScores:
    annotation_pass: int
    annotators: list[str]
    articles: int
    scores: dict[str, float]  # task -> main score


@dataclass
class CeilingReport:
    articles: list[str]
    passes: list[PassScores]
    skipped: dict[str, str] = field(default_factory=dict)  # article -> why

    @property
    def ceiling(self) -> dict[str, float]:
        tasks = sorted({t for p in self.passes for t in p.scores})
        return {t: round(statistics.fmean(p.scores[t] for p in self.passes if t in p.scores), 4) for t in tasks}

    def as_json(self) -> dict[str, Any]:
        return {
            "articles": len(self.articles),
            "article_ids": self.articles,
            "ceiling": self.ceiling,
            "passes": [{"pass": p.annotation_pass, "annotators": p.annotators, "articles": p.articles,
                        "scores": p.scores} for p in self.passes],
            "skipped": self.skipped,
            "method": "each independent pass scored as predictions against the adjudicated gold with "
                      "eval.scoring (rows built by the release builder; all splits pooled); ceiling = mean "
                      "over passes. The gold was adjudicated from these passes: an upper estimate.",
        }


def as_gold(record: AnnotationRecord) -> GoldRecord:
    """A pass record in gold form (every item sourced to its annotator), to build rows from."""
    def sourced(span: Span) -> Span:
        return span.model_copy(update={"source": record.annotator})

    return GoldRecord(
        article_id=record.article_id, text_sha256=record.text_sha256, scheme_version=record.scheme_version,
        entities=[sourced(s) for s in record.entities], events=[sourced(s) for s in record.events],
        stances=[Stance(holder=r.holder, target=r.target, label=r.label, source=record.annotator)
                 for r in record.stances],
        annotators=[record.annotator], rule="annotator pass (ceiling)", guidelines_version=scheme.GUIDELINES_VERSION,
    )


def _scratch_project(paths: ProjectPaths, root: Path, golds: Sequence[GoldRecord]) -> ProjectPaths:
    """A project whose articles and text cache are the real ones and whose gold is `golds`."""
    scratch = ProjectPaths(root)
    (root / "corpus").mkdir(parents=True)
    (root / "corpus" / "articles").symlink_to(paths.articles.resolve(), target_is_directory=True)
    cache = paths.root / "corpus" / "cache"
    if cache.exists():
        (root / "corpus" / "cache").symlink_to(cache.resolve(), target_is_directory=True)
    for name in ("DATASHEET.md",):
        if (paths.root / name).exists():
            (root / name).write_bytes((paths.root / name).read_bytes())
    for gold in golds:
        write_record(scratch.gold / f"{gold.article_id}.json", gold)
    return scratch


def pooled_split(release: Path, config: str, cache_dir: Path) -> Any:
    """Every row of a config of a built release folder, all splits pooled, as one `datasets.Dataset`
    (the data files are the manifest's; they carry their Features)."""
    import datasets

    from conflictnews.dataset.manifest import load_manifest

    manifest = load_manifest(release / "MANIFEST.json")
    files = [str(release / data.file) for data in manifest.configs[config].values()]
    return datasets.Dataset.from_parquet(files, cache_dir=str(cache_dir))


Builder = Callable[..., Any]  # dataset.build.build_release (passed in: the build also calls this module)


def _rows(
    paths: ProjectPaths, root: Path, golds: Sequence[GoldRecord], build_release: Builder
) -> dict[str, list[dict[str, Any]]]:
    """Rows of each config (all splits) of a scratch release built from `golds`."""
    scratch = _scratch_project(paths, root, golds)
    report = build_release(scratch, "0.0.0", out=root / "release", check_existing=False,
                           only_articles={g.article_id for g in golds})
    return {config: list(pooled_split(report.out, config, root / "hf-cache"))
            for config in sorted(set(TASK_CONFIGS.values()))}


def _stance_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    context = str(row["id"]).rsplit("-", 2)[0]
    return (context, row["holder_start"], row["holder_end"], row["target_start"], row["target_end"])


def predictions_from_rows(task: str, gold_rows: Sequence[Mapping[str, Any]],
                          pass_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A pass's rows as predictions for the gold rows, in the declared prediction format."""
    from conflictnews.dataset import features as F

    if task == "stance":
        names = F.STANCE_CLASS_LABEL.names
        by_key = {_stance_key(r): names[r["label"]] for r in pass_rows}
        return [{"id": r["id"], "label": by_key.get(_stance_key(r), scheme.STANCE_NONE)} for r in gold_rows]
    by_id = {r["id"]: r for r in pass_rows}
    missing = [r["id"] for r in gold_rows if r["id"] not in by_id]
    if missing:
        raise ConflictNewsError(
            f"{task}: {len(missing)} sentence row(s) of the gold have no row in the pass: {missing[:3]}"
        )
    if task == "event_types":
        label = F.CONFIGS["events"]["event_types"].feature
        return [{"id": r["id"], "labels": [label.int2str(i) for i in by_id[r["id"]]["event_types"]]} for r in gold_rows]
    column = "ner_tags" if task == "entities" else "trigger_tags"
    feature = F.CONFIGS[TASK_CONFIGS[task]][column].feature
    return [{"id": r["id"], "tags": [feature.int2str(i) for i in by_id[r["id"]][column]]} for r in gold_rows]


def _score(task: str, gold_root: Path, predictions: list[dict[str, Any]], articles: set[str]) -> float:
    from conflictnews.eval.scoring import score_predictions
    from conflictnews.eval.tasks import TASKS

    pooled = pooled_split(gold_root / "release", TASK_CONFIGS[task], gold_root / "hf-cache")
    pooled = pooled.filter(lambda article_id: article_id in articles, input_columns="article_id")
    result = score_predictions(task, pooled, predictions, n_resamples=0)
    return round(float(result.scores[TASKS[task].main_score]), 4)




def _convertible_rows(paths: ProjectPaths, root: Path, records: list[AnnotationRecord], build_release: Builder,
                      skipped: dict[str, str], annotation_pass: int) -> tuple[list[AnnotationRecord], dict]:
    """The pass's rows, leaving out (into `skipped`, with the builder's reason) each record the builder
    refuses (a span off the token boundaries, overlapping spans): a pass is scored on the articles it
    can be converted for, and the report says which were left out."""
    from conflictnews.dataset.convert import GoldRecordError  # the builder's refusal of one record
    while True:
        if root.exists():
            shutil.rmtree(root)
        try:
            return records, _rows(paths, root, [as_gold(r) for r in records], build_release)
        except GoldRecordError as exc:
            if exc.article_id not in {r.article_id for r in records}:
                raise
            skipped[f"{exc.article_id} (pass {annotation_pass})"] = str(exc).split(": ", 1)[-1]
            records = [r for r in records if r.article_id != exc.article_id]


def compute_ceiling(paths: ProjectPaths, gold: Mapping[str, GoldRecord],
                    passes: Mapping[str, Mapping[int, AnnotationRecord]], build_release: Builder) -> CeilingReport:
    """Score every pass of the articles in `passes` (article -> pass -> record) against `gold`.

    `build_release` is `conflictnews.dataset.build.build_release` (the builder of the scratch releases).
    """
    import datasets

    datasets.disable_progress_bars()  # scratch releases: their loading is not the user's progress
    articles = sorted(a for a, by_pass in passes.items() if a in gold and len(by_pass) >= 2)
    if not articles:
        raise ConflictNewsError("no article has two independent passes and an adjudicated gold record")
    report = CeilingReport(articles, [])
    with tempfile.TemporaryDirectory(prefix="ceiling-") as tmp:
        gold_root = Path(tmp) / "gold"
        gold_rows = _rows(paths, gold_root, [gold[a] for a in articles], build_release)
        for annotation_pass in sorted({k for a in articles for k in passes[a]}):
            records = [passes[a][annotation_pass] for a in articles if annotation_pass in passes[a]]
            root = Path(tmp) / f"pass-{annotation_pass}"
            records, pass_rows = _convertible_rows(paths, root, records, build_release, report.skipped,
                                                   annotation_pass)
            covered = {r.article_id for r in records}
            scores = {}
            for task, config in TASK_CONFIGS.items():
                rows = [r for r in gold_rows[config] if r["article_id"] in covered]
                predictions = predictions_from_rows(task, rows, pass_rows[config])
                scores[task] = _score(task, gold_root, predictions, covered)  # the articles this pass annotated
            annotators = sorted({r.annotator for r in records})
            report.passes.append(PassScores(annotation_pass, annotators, len(records), scores))
    return report


def independent_passes(
    grouped: Mapping[str, Sequence[AnnotationRecord]], scope: Any
) -> dict[str, dict[int, AnnotationRecord]]:
    """article -> pass -> record, for the records `AgreementScope.apply` keeps (one per blind pass)."""
    kept = scope.apply(grouped)
    return {a: {r.provenance.annotation_pass: r for r in records if r.provenance.annotation_pass is not None}
            for a, records in kept.items()}
