"""The blind-test variant of a release: the same data, with the test split's labels withheld.

`conflictnews dataset build --blind-test` writes it next to the full release, in
``<releases>/blind/<version>/`` (a plain ``<version>-blind`` folder name would parse as a semver
pre-release and be taken for a release by `releases.committed_versions` and the leaderboard's
gold discovery). The full build stays exactly as it is: this is an extra output derived from it,
and `leaderboard make-key` turns the full build's test split into the server's private key.

Which columns are withheld is derived, not listed: a column is a label when its feature in
`features.CONFIGS` holds a `ClassLabel`, unless a benchmark task (`eval.tasks.TASKS`) declares it
as a model input (the stance task reads the holder's and target's entity types). The withheld
columns are kept, with the same Features in every split, so `datasets.load_dataset(folder,
config)` reads train and validation with their ClassLabel names and the test split with "no
label" values (the filler registry `_FILLERS`):

* a ClassLabel -> -1 (the `datasets` convention for "no label");
* a token-aligned tag list (a sequence task's label) -> one -1 per token;
* any other list of ClassLabel (a label set) -> ``[-1]``, so it never reads as "no labels";
* a list of annotation structs (the `documents` layers) -> ``[]``.

`eval` refuses to score against -1 gold ("missing gold labels"), so the blind test split cannot
be mistaken for gold. Train and validation files are copied byte for byte.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets import ClassLabel, Features, List, Sequence

from conflictnews.dataset import features as F
from conflictnews.dataset.manifest import (
    MANIFEST_NAME,
    AnyManifest,
    BlindInputs,
    BlindManifest,
    Configs,
    DataFile,
    DerivedFrom,
    ReleaseManifest,
    check_folder,
    load_any_manifest,
)
from conflictnews.eval.tasks import TASKS, TaskKind
from conflictnews.io import (
    ConflictNewsError,
    atomic_write_text,
    sha256_file,
    staged_directory,
)

BLIND_VARIANT = "blind-test"  # the manifest's "variant"; gold readers refuse such a folder
BLIND_FOLDER = "blind"
BLIND_SPLIT = "test"
NO_LABEL = -1
_TEMPLATE = Path(__file__).with_name("blind_card.md.j2")


def blind_folder(release: Path) -> Path:
    """Where the blind variant of the release folder `release` goes: ``<parent>/blind/<name>``."""
    release = Path(release)
    return release.parent / BLIND_FOLDER / release.name


def is_blind_manifest(manifest: AnyManifest) -> bool:
    return isinstance(manifest, BlindManifest)


def _holds_class_label(feature: Any) -> bool:
    if isinstance(feature, ClassLabel):
        return True
    if isinstance(feature, (List, Sequence)):
        return _holds_class_label(feature.feature)
    if isinstance(feature, dict):
        return any(_holds_class_label(f) for f in feature.values())
    if isinstance(feature, list):
        return any(_holds_class_label(f) for f in feature)
    return False


def task_inputs(config: str) -> set[str]:
    """Columns of `config` that some benchmark task reads as model input."""
    return {c for task in TASKS.values() if task.config == config for c in task.input_columns}


def withheld_columns(config: str) -> list[str]:
    """The label columns of `config`: they hold a ClassLabel and no task reads them as input."""
    inputs = task_inputs(config)
    return [
        name
        for name, feature in F.CONFIGS[config].items()
        if _holds_class_label(feature) and name not in inputs
    ]


def _aligned_input(config: str, column: str) -> str | None:
    """The token column a sequence task's label `column` is aligned with (one tag per token)."""
    for task in TASKS.values():
        if task.config == config and task.label_column == column and task.kind is TaskKind.SEQUENCE:
            return task.input_columns[0]
    return None


# --- fillers: (feature, table, config, column) -> the withheld column ----------------------------

Filler = Callable[[pa.Table, pa.DataType, str, str], pa.Array]


def _fill_class_label(table: pa.Table, type_: pa.DataType, config: str, column: str) -> pa.Array:
    return pa.array([NO_LABEL] * table.num_rows, type=type_)


def _fill_label_list(table: pa.Table, type_: pa.DataType, config: str, column: str) -> pa.Array:
    aligned = _aligned_input(config, column)
    if aligned is None:  # a label set: [-1], distinct from [] ("no label applies")
        return pa.array([[NO_LABEL]] * table.num_rows, type=type_)
    tokens = table.column(aligned).combine_chunks()
    lengths = pc.list_value_length(tokens).fill_null(0).to_numpy(zero_copy_only=False)
    offsets = pa.array([0, *lengths.cumsum().tolist()], pa.int32())
    values = pa.array([NO_LABEL] * int(lengths.sum()), type=type_.value_type)
    return pa.ListArray.from_arrays(offsets, values).cast(type_)


def _fill_empty_list(table: pa.Table, type_: pa.DataType, config: str, column: str) -> pa.Array:
    return pa.array([[] for _ in range(table.num_rows)], type=type_)


def _filler_of(feature: Any) -> tuple[str, Filler]:
    """(what the card says, the filler) for a withheld feature, chosen by its shape."""
    if isinstance(feature, ClassLabel):
        return "-1", _fill_class_label
    if isinstance(feature, (List, Sequence)) and isinstance(feature.feature, ClassLabel):
        return "-1 per item", _fill_label_list
    if isinstance(feature, (List, Sequence, list)):
        return "empty list", _fill_empty_list
    raise ConflictNewsError(
        f"no blind-test filler for a feature of type {type(feature).__name__}: {feature!r}"
    )


def withheld_summary() -> dict[str, dict[str, str]]:
    """config -> withheld column -> how its test values read in the blind variant."""
    out: dict[str, dict[str, str]] = {}
    for config, features in F.CONFIGS.items():
        columns = {}
        for column in withheld_columns(config):
            what, _ = _filler_of(features[column])
            if what == "-1 per item":
                what = "one -1 per token" if _aligned_input(config, column) else "[-1]"
            columns[column] = what
        out[config] = columns
    return out


def blind_table(table: pa.Table, config: str) -> pa.Table:
    """`table` (a test split of `config`) with every withheld column replaced by its filler."""
    features: Features = F.CONFIGS[config]
    schema = features.arrow_schema
    table = table.cast(schema)
    for column in withheld_columns(config):
        _, fill = _filler_of(features[column])
        index = schema.get_field_index(column)
        table = table.set_column(
            index, schema.field(index), fill(table, schema.field(index).type, config, column)
        )
    return table.cast(schema)


def remaining_labels(table: pa.Table, config: str) -> list[str]:
    """Withheld columns of `table` that still hold a label value (empty: nothing leaks)."""
    leaks = []
    for column in withheld_columns(config):
        values = table.column(column).combine_chunks()
        while pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
            values = pc.list_flatten(values)
        if pa.types.is_struct(values.type):
            if len(values):
                leaks.append(column)
        elif len(values) and pc.max(values).as_py() != NO_LABEL:
            leaks.append(column)
    return leaks


# --- the folder -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlindReport:
    out: Path
    manifest: BlindManifest
    withheld: dict[str, dict[str, str]]


def _full_manifest(release: Path) -> ReleaseManifest:
    manifest = load_any_manifest(release / MANIFEST_NAME)
    if is_blind_manifest(manifest):
        raise ConflictNewsError(
            f"{release}: is already a blind-test variant; derive it from the full release"
        )
    if not isinstance(manifest, ReleaseManifest):
        raise ConflictNewsError(f"{release}: is not a conflictnews release ({manifest.dataset})")
    problems = check_folder(release, manifest)
    if problems:
        raise ConflictNewsError(
            f"{release}: the data files do not match its {MANIFEST_NAME} ({'; '.join(problems[:3])}); "
            "rebuild the release first"
        )
    return manifest


def _refuse_foreign_folder(out: Path) -> None:
    """Never swap away a folder that is not a blind variant (e.g. a mistyped path)."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    manifest_path = out / MANIFEST_NAME
    if out.is_dir() and manifest_path.is_file() and is_blind_manifest(load_any_manifest(manifest_path)):
        return
    raise ConflictNewsError(
        f"{out}: exists and is not a blind-test variant folder; remove it or choose another"
    )


def _blind_manifest(full: ReleaseManifest, full_sha256: str, configs: Configs) -> BlindManifest:
    """The variant's own manifest: the full one without anything derived from the test labels
    (test label counts, gold file hashes, uncovered stances), plus what it was derived from."""
    from conflictnews.dataset.build import builder_versions

    return BlindManifest(
        dataset=full.dataset,
        version=full.version,
        variant=BLIND_VARIANT,
        manifest_format=full.manifest_format,
        derived_from=DerivedFrom(manifest=MANIFEST_NAME, manifest_sha256=full_sha256),
        inputs=BlindInputs(**full.inputs.model_dump(exclude={"gold"})),
        splits=full.splits,
        withheld={BLIND_SPLIT: withheld_summary()},
        configs=configs,
        label_counts={
            config: {s: counts for s, counts in splits.items() if s != BLIND_SPLIT}
            for config, splits in full.label_counts.items()
        },
        builder=builder_versions(),
    )


def write_blind_variant(release: Path, out: Path | None = None) -> BlindReport:
    """Derive the blind-test variant of the built full release `release` into `out`
    (default `blind_folder(release)`); the release itself is only read."""
    # Imported here: the leaderboard server imports this module for `is_blind_manifest`, and the
    # build stage loads spaCy (seconds) that only writing a variant needs.
    from conflictnews.dataset.arrow import write_parquet
    from conflictnews.dataset.build import data_file
    from conflictnews.dataset.card import ordered_splits

    release = Path(release)
    out = Path(out) if out is not None else blind_folder(release)
    full = _full_manifest(release)
    _refuse_foreign_folder(out)
    configs: Configs = {}
    with staged_directory(out) as stage:
        for config, splits in full.configs.items():
            configs[config] = {}
            for split, entry in ordered_splits(splits):
                target = stage / data_file(config, split)
                target.parent.mkdir(parents=True, exist_ok=True)
                if split == BLIND_SPLIT:
                    table = blind_table(pq.read_table(release / entry.file), config)
                    leaks = remaining_labels(table, config)
                    if leaks:  # pragma: no cover - an invariant of the fillers
                        raise RuntimeError(f"{config}/{split}: labels left in {leaks}")
                    write_parquet(table, target)
                else:
                    shutil.copyfile(release / entry.file, target)
                configs[config][split] = DataFile(file=data_file(config, split), rows=entry.rows,
                                                  sha256=sha256_file(target))
        manifest = _blind_manifest(full, sha256_file(release / MANIFEST_NAME), configs)
        manifest.write(stage / MANIFEST_NAME)
        if (release / "DATASHEET.md").is_file():
            shutil.copyfile(release / "DATASHEET.md", stage / "DATASHEET.md")
        atomic_write_text(
            stage / "README.md",
            render_blind_card(manifest, has_datasheet=(release / "DATASHEET.md").is_file()),
        )
    return BlindReport(out, manifest, manifest.withheld[BLIND_SPLIT])


def render_blind_card(manifest: BlindManifest, has_datasheet: bool) -> str:
    """README.md of the variant: the hub's YAML header (same Features as the full release), then
    what is withheld, how it reads, and how the test split is scored."""
    from conflictnews.dataset.card import card_data, card_environment, field_tables

    env = card_environment()
    stance_task = next(t for t in TASKS.values() if t.config == "stance")
    body = env.get_template(_TEMPLATE.name).render(
        version=manifest.version,
        derived_from=manifest.derived_from.manifest_sha256,
        withheld=manifest.withheld[BLIND_SPLIT],
        stance_inputs=[c for c in stance_task.input_columns if c != "text"],
        row_counts=[
            (config, [splits[s].rows for s in F.SPLITS])
            for config, splits in manifest.configs.items()
        ],
        splits=list(F.SPLITS),
        field_tables=field_tables(F.CONFIGS),
        has_datasheet=has_datasheet,
        builder=manifest.builder,
    )
    header = card_data(manifest, len(manifest.splits.articles)).to_yaml()
    return f"---\n{header}\n---\n\n{body}"


__all__ = [
    "BLIND_FOLDER",
    "BLIND_VARIANT",
    "BlindReport",
    "blind_folder",
    "blind_table",
    "is_blind_manifest",
    "remaining_labels",
    "withheld_columns",
    "withheld_summary",
    "write_blind_variant",
]
