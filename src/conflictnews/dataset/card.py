"""The dataset card (README.md of a release): the YAML header the hub reads, then the prose.

The header is built with huggingface_hub's `DatasetCardData` and datasets' `DatasetInfosDict`
(features and split sizes per config), so the hub and `load_dataset` see exactly the Features
of `dataset/features.py`. The prose comes from `card.md.j2`; the label tables from
`annotation.render.render_label_tables`. Generated blocks that other tools fill later are
delimited by `<!-- BEGIN name -->` / `<!-- END name -->` (see `splice_block`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from datasets import ClassLabel, DatasetInfo, Features, List, SplitDict, SplitInfo, Value
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCardData

from conflictnews.annotation import scheme
from conflictnews.annotation.render import render_label_tables
from conflictnews.dataset import features as F
from conflictnews.dataset.manifest import ManifestBase, ReleaseManifest
from conflictnews.dataset.splits import DESIGNED, PARAGRAPH_BLOCKS
from conflictnews.markdown import block_markers, splice_block  # noqa: F401  (re-exported)

BASELINES_BLOCK = "baselines"
PRETTY_NAME = "ConflictNews: conflict news annotated with entities, ACLED event triggers and actor stance"
_TEMPLATE = Path(__file__).with_name("card.md.j2")

# Who made the annotations, stated once: the YAML's `annotations_creators` and the card's sentence.
# The Hub's vocabulary has no "AI agent" value; `machine-generated` is the honest one (DATASHEET.md
# gives the accounts, sessions and review status).
ANNOTATIONS_CREATORS = ["machine-generated"]
ANNOTATORS_STATEMENT = (
    "**Who annotated: AI agent sessions, not humans.** Every annotation was made by AI agent sessions "
    "(instances of one large language model) following `annotation/GUIDELINES.md`, and entered into Label "
    "Studio through its API; no human has reviewed the gold yet. The card's `annotations_creators` is "
    "therefore `machine-generated`. Treat the gold as careful machine annotation under written guidelines."
)


@dataclass(frozen=True)
class AgreementRow:
    layer: str
    f1: str
    alpha: str


@dataclass(frozen=True)
class AgreementSummary:
    articles: int
    rows: list[AgreementRow]
    annotators: list[str] = field(default_factory=list)  # the independent annotators compared
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (article id, why) left out
    confusions: list[str] = field(default_factory=list)  # the most frequent disagreements


@dataclass
class CardContext:
    version: str
    manifest: ReleaseManifest
    articles: list[tuple[str, str, str]]  # (id, source, licence)
    annotators: list[str]
    rules: list[str]
    changelog: str  # the whole CHANGELOG.md (this version's entry is taken from it)
    has_datasheet: bool
    agreement: AgreementSummary | None = None
    tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def size_category(n: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]
    return next((name for bound, name in bounds if n < bound), "1M<n<10M")


def ordered_splits(splits: dict[str, Any]) -> list[tuple[str, Any]]:
    """A config's splits in train/validation/test order (manifests on disk have sorted keys)."""
    known = [s for s in F.SPLITS if s in splits]
    return [(s, splits[s]) for s in known + sorted(set(splits) - set(known))]


def config_data_files(manifest: ManifestBase) -> list[dict[str, Any]]:
    return [
        {
            "config_name": config,
            "data_files": [{"split": split, "path": entry.file} for split, entry in ordered_splits(splits)],
        }
        for config, splits in manifest.configs.items()
    ]


def card_data(manifest: ManifestBase, n_articles: int) -> DatasetCardData:
    """The YAML header: licence, language, tasks, configs with data files, features and split sizes."""
    data = DatasetCardData(
        pretty_name=PRETTY_NAME,
        license="other",
        license_name="conflictnews-mixed",
        license_link="DATASHEET.md",
        language=["en"],
        language_creators=["found"],
        annotations_creators=ANNOTATIONS_CREATORS,
        multilinguality=["monolingual"],
        source_datasets=["original"],
        size_categories=[size_category(n_articles)],
        task_categories=["token-classification", "text-classification"],
        task_ids=["named-entity-recognition", "multi-class-classification", "multi-label-classification"],
        tags=["conflict", "news", "acled", "event-extraction", "stance-detection", "syria"],
        configs=config_data_files(manifest),
    )
    infos = DatasetInfosDict(
        {
            config: DatasetInfo(
                features=F.CONFIGS[config],
                splits=SplitDict(
                    {split: SplitInfo(name=split, num_examples=entry.rows) for split, entry in ordered_splits(splits)}
                ),
            )
            for config, splits in manifest.configs.items()
        }
    )
    infos.to_dataset_card_data(data)
    return data


def describe_feature(feature: Any) -> str:
    """A short type description for the card's field tables."""
    if isinstance(feature, ClassLabel):
        names = ", ".join(f"`{n}`" for n in feature.names[:6])
        return f"class label ({feature.num_classes}: {names}{', …' if feature.num_classes > 6 else ''})"
    if isinstance(feature, Value):
        return feature.dtype
    if isinstance(feature, List):
        return f"list of {describe_feature(feature.feature)}"
    if isinstance(feature, dict):
        inner = ", ".join(f"{k}: {describe_feature(v)}" for k, v in feature.items())
        return f"struct {{{inner}}}"
    return type(feature).__name__


def field_tables(configs: dict[str, Features]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(name, [(k, describe_feature(v)) for k, v in feats.items()]) for name, feats in configs.items()]


def changelog_entry(changelog: str, version: str) -> str:
    """The `## <version>` section of CHANGELOG.md (heading may carry a date: `## 0.1.0 - 2025-01-01`)."""
    pattern = re.compile(rf"^##\s+\[?v?{re.escape(version)}\]?(?:\s.*)?$", re.MULTILINE)
    match = pattern.search(changelog)
    if not match:
        return f"No entry for {version} in `corpus/releases/CHANGELOG.md` yet."
    rest = changelog[match.end():]
    following = re.search(r"^##\s", rest, re.MULTILINE)
    body = rest[: following.start()] if following else rest
    return body.strip() or f"(empty entry for {version})"


def _task_rows() -> list[Any]:
    """The benchmark task registry, when the eval stage is installed (it reads our Features)."""
    try:
        from conflictnews.eval.tasks import TASKS
    except ImportError:  # pragma: no cover - the eval stage ships with the package
        return []
    return TASKS.values()


def card_environment() -> jinja2.Environment:
    """The Jinja environment of the card templates in this package (strict: a missing value is an error)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATE.parent),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def render_card(ctx: CardContext) -> str:
    manifest = ctx.manifest
    splits_info = manifest.splits
    licences = Counter((source, licence) for _id, source, licence in ctx.articles)
    body = card_environment().get_template(_TEMPLATE.name).render(
        version=ctx.version,
        n_articles=len(ctx.articles),
        n_tokens=f"{ctx.tokens:,}",
        fallback=splits_info.mode == PARAGRAPH_BLOCKS,
        min_articles=splits_info.min_articles_for_article_mode,
        designed=splits_info.mode == DESIGNED,
        split_file=splits_info.split_file,
        split_file_sha256=splits_info.split_file_sha256 or "",
        proportions="/".join(f"{round(p * 100)}" for p in (splits_info.proportions or {}).values())
        + " " + "/".join(splits_info.proportions or {}),
        salt=splits_info.salt,
        stance_classes=", ".join(f"`{c}`" for c in scheme.stance_classes()),
        stance_none=scheme.STANCE_NONE,
        actor_types=", ".join(f"`{t}`" for t in scheme.ACTOR_TYPES),
        tasks=_task_rows(),
        coverage=manifest.stance_coverage,
        field_tables=field_tables(F.CONFIGS),
        scheme_version=manifest.inputs.scheme_version,
        scheme_fingerprint=manifest.inputs.scheme_fingerprint,
        label_tables=render_label_tables(),
        splits=list(F.SPLITS),
        row_counts=[
            (config, [splits[s].rows for s in F.SPLITS]) for config, splits in manifest.configs.items()
        ],
        rules=ctx.rules,
        annotators_statement=ANNOTATORS_STATEMENT,
        n_annotators=len(ctx.annotators),
        agreement=ctx.agreement,
        licences=[(source, licence, n) for (source, licence), n in sorted(licences.items())],
        has_datasheet=ctx.has_datasheet,
        builder=manifest.builder,
        changelog=changelog_entry(ctx.changelog, ctx.version),
        standoff=ctx.extra.get("standoff", []),
        statistics=ctx.extra.get("statistics", ""),
        ceiling=ctx.extra.get("ceiling"),
    )
    header = card_data(manifest, len(ctx.articles)).to_yaml()
    return f"---\n{header}\n---\n\n{body}"
