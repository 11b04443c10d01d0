"""`conflictnews dataset import-conll`: a CoNLL/IOB file -> a local `entities` dataset folder.

Lets the baselines run on a public NER corpus (CoNLL-2003 style) with the same code paths:
the folder has the `entities` config's Features shape (`id`, `article_id`, `sentence_index`,
`tokens`, `ner_tags`), but the `ner_tags` ClassLabel names are the file's own tag set
(`O`, then B-/I- per entity type in alphabetical order).

Input format: one token per line, whitespace-separated columns, the token first and the tag
last; a blank line ends a sentence; `-DOCSTART-` lines start a new document. Tags in any of the
common distributed schemes are converted to IOB2, and the import reports what it converted:

* IOB2 (`B-` starts every entity) is kept as it is;
* IOB1 (an entity may start with `I-`, the original CoNLL-2003 files) is normalised with spaCy's
  `iob_to_biluo` + `biluo_to_iob`;
* IOBES / BIOES (`S-` single, `E-` end) and BILOU (`U-`, `L-`) are checked for well-formed
  sequences, then converted with `biluo_to_iob` (S = U, E = L).

The scheme is detected per file from its prefixes: any `S-`/`E-` makes it IOBES, any `U-`/`L-`
BILOU (both in one file is an error), otherwise IOB.
Rows: `article_id` = `<file stem>-d<document, 4 digits>`, id = `<article_id>-s<sentence, 3 digits>`.
Split: from `--split`, else from the file name (train / dev, valid, testa -> validation / test, testb).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from datasets import ClassLabel, Features, List
from spacy.training import biluo_to_iob, iob_to_biluo

from conflictnews.dataset import features as F
from conflictnews.dataset.arrow import TableBuilder, write_parquet
from conflictnews.dataset.card import config_data_files, describe_feature, ordered_splits
from conflictnews.dataset.manifest import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    Configs,
    ConllInput,
    ConllManifest,
    DataFile,
)
from conflictnews.io import (
    ConflictNewsError,
    atomic_write_text,
    sha256_file,
    staged_directory,
)

CONFIG = "entities"
DOCSTART = "-DOCSTART-"
_TAG = re.compile(r"^(O|[BIESUL]-\S+)$")
# IOBES prefixes as spaCy's BILOU ones (S = U: a single-token entity, E = L: the last token).
_IOBES_AS_BILOU = {"S": "U", "E": "L", "B": "B", "I": "I"}

# File-name words -> split (checked in order; the first match wins).
SPLIT_WORDS: tuple[tuple[str, str], ...] = (
    ("testa", "validation"), ("testb", "test"), ("train", "train"), ("validation", "validation"),
    ("valid", "validation"), ("dev", "validation"), ("test", "test"),
)


@dataclass
class Sentence:
    document: int
    index: int  # within the document
    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    line: int = 0  # first line, for error messages


@dataclass
class ConllFile:
    path: Path
    split: str
    sentences: list[Sentence]
    iob1_fixed: int  # sentences whose tags were normalised from IOB1 to IOB2
    scheme: str = "IOB2"  # the tag scheme detected in the file: IOB2, IOB1, IOBES or BILOU
    converted: int = 0  # sentences whose tags changed in the conversion to IOB2


def detect_scheme(tags: set[str]) -> str | None:
    """IOBES, BILOU, or None for IOB (IOB1 and IOB2 are told apart after normalising)."""
    prefixes = {tag[0] for tag in tags if tag != "O"}
    iobes, bilou = bool(prefixes & {"S", "E"}), bool(prefixes & {"U", "L"})
    if iobes and bilou:
        raise ValueError("mixes IOBES (S-, E-) and BILOU (U-, L-) prefixes")
    return "IOBES" if iobes else "BILOU" if bilou else None


def bilou_error(tags: list[str]) -> str | None:
    """Why a BILOU tag sequence is malformed (None when it is well formed)."""
    open_type: str | None = None  # the type of the entity an earlier B-/I- left open
    for position, tag in enumerate(tags):
        prefix, label = (tag[0], tag[2:]) if tag != "O" else ("O", "")
        if prefix in "IL" and open_type != label:
            return f"token {position + 1}: {tag} does not continue an open {label} entity"
        if prefix in "BUO" and open_type is not None:
            return f"token {position + 1}: {tag} follows an unfinished {open_type} entity (no E-/L- tag)"
        open_type = label if prefix in "BI" else None
    return f"the sentence ends inside a {open_type} entity (no E-/L- tag)" if open_type else None


def to_iob2(tags: list[str], scheme: str | None) -> list[str]:
    """IOB2 tags of a sentence in `scheme` (None: IOB1 or IOB2)."""
    if scheme is None:
        return biluo_to_iob(iob_to_biluo(tags))
    return biluo_to_iob(as_bilou(tags, scheme))


def split_from_name(path: Path) -> str | None:
    words = re.split(r"[^a-z]+", path.name.lower())
    for word, split in SPLIT_WORDS:
        if word in words:
            return split
    return None


def read_conll(path: Path, split: str | None = None) -> ConllFile:
    """Parse one CoNLL/IOB file; errors name the file and line."""
    path = Path(path)
    resolved = split or split_from_name(path)
    if resolved is None:
        raise ConflictNewsError(f"{path}: cannot tell the split from the file name; pass --split train|validation|test")
    if resolved not in F.SPLITS:
        raise ConflictNewsError(f"--split {resolved!r}: expected one of {', '.join(F.SPLITS)}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ConflictNewsError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    sentences: list[Sentence] = []
    document, index = 0, 0
    current: Sentence | None = None
    seen_docstart = False
    for number, raw in enumerate(lines, start=1):
        columns = raw.split()
        if not columns:
            if current is not None:
                sentences.append(current)
                index += 1
                current = None
            continue
        if columns[0] == DOCSTART:
            if current is not None:
                raise ConflictNewsError(f"{path}:{number}: -DOCSTART- inside a sentence (no blank line before it)")
            if seen_docstart or sentences:
                document += 1
            seen_docstart, index = True, 0
            continue
        if len(columns) < 2:
            raise ConflictNewsError(f"{path}:{number}: expected a token and a tag, got {raw!r}")
        tag = columns[-1]
        if not _TAG.match(tag):
            raise ConflictNewsError(
                f"{path}:{number}: tag {tag!r} is not O or PREFIX-TYPE with an IOB/IOBES/BILOU prefix "
                "(B, I, E, S, L, U)"
            )
        if current is None:
            current = Sentence(document, index, line=number)
        current.tokens.append(columns[0])
        current.tags.append(tag)
    if current is not None:
        sentences.append(current)
    if not sentences:
        raise ConflictNewsError(f"{path}: no sentences")
    try:
        scheme = detect_scheme({tag for sentence in sentences for tag in sentence.tags})
    except ValueError as exc:
        raise ConflictNewsError(f"{path}: {exc}; use one tag scheme per file") from exc
    converted = 0
    for sentence in sentences:
        if scheme is not None and (problem := bilou_error(as_bilou(sentence.tags, scheme))):
            raise ConflictNewsError(f"{path}:{sentence.line}: malformed {scheme} sentence: {problem}")
        iob2 = to_iob2(sentence.tags, scheme)
        if iob2 != sentence.tags:
            sentence.tags = iob2
            converted += 1
    detected = scheme or ("IOB1" if converted else "IOB2")
    return ConllFile(path, resolved, sentences, converted if detected == "IOB1" else 0, detected, converted)


def as_bilou(tags: list[str], scheme: str) -> list[str]:
    """BILOU tags of an IOBES or BILOU sentence."""
    if scheme == "BILOU":
        return tags
    return [tag if tag == "O" else f"{_IOBES_AS_BILOU[tag[0]]}{tag[1:]}" for tag in tags]


def tag_names(files: list[ConllFile]) -> list[str]:
    """`O`, then B-/I- for each entity type found, types in alphabetical order."""
    types = sorted({tag[2:] for f in files for s in f.sentences for tag in s.tags if tag != "O"})
    return ["O"] + [f"{prefix}-{label}" for label in types for prefix in ("B", "I")]


def conll_features(names: list[str]) -> Features:
    """The `entities` Features, with the file's tag set as the ClassLabel names."""
    feats = Features(dict(F.ENTITIES))
    feats["ner_tags"] = List(ClassLabel(names=names))
    return feats


@dataclass
class ImportReport:
    out: Path
    rows: dict[str, int]
    tag_names: list[str]
    iob1_fixed: int
    manifest: ConllManifest
    conversions: dict[str, tuple[str, int]] = field(default_factory=dict)  # file -> (scheme, sentences changed)


def import_conll(paths: list[Path], out: Path, split: str | None = None) -> ImportReport:
    """Write `out/` with `data/entities/<split>-00000-of-00001.parquet`, README.md and MANIFEST.json."""
    if split is not None and len(paths) > 1:
        raise ConflictNewsError("--split applies to a single file; name files by split (train/dev/test) instead")
    files = [read_conll(p, split) for p in paths]
    splits = Counter(f.split for f in files)
    if dupes := [s for s, n in splits.items() if n > 1]:
        raise ConflictNewsError(f"more than one file for split(s) {dupes}: {[str(f.path) for f in files]}")
    stems = Counter(f.path.stem for f in files)
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST_NAME).exists():
        raise ConflictNewsError(f"{out}: exists and is not a dataset folder; choose another --out")
    names = tag_names(files)
    features = conll_features(names)
    index = {name: i for i, name in enumerate(names)}
    tables = {}
    for f in files:
        builder = TableBuilder(features)
        prefix = f.path.stem if stems[f.path.stem] == 1 else f"{f.path.stem}-{f.split}"
        for s in f.sentences:
            article_id = f"{prefix}-d{s.document:04d}"
            builder.append({"id": f"{article_id}-s{s.index:03d}", "article_id": article_id, "sentence_index": s.index,
                            "tokens": s.tokens, "ner_tags": [index[t] for t in s.tags]})
        tables[f.split] = builder.table()
    with staged_directory(out) as stage:
        configs: Configs = {CONFIG: {}}
        for name in F.SPLITS:
            if name not in tables:
                continue
            rel = f"data/{CONFIG}/{name}-00000-of-00001.parquet"
            write_parquet(tables[name], stage / rel)
            configs[CONFIG][name] = DataFile(rows=tables[name].num_rows, file=rel, sha256=sha256_file(stage / rel))
        manifest = ConllManifest(
            dataset="conll-import",
            manifest_format=MANIFEST_FORMAT,
            version="0.0.0",
            inputs={
                f.split: ConllInput(file=f.path.name, sha256=sha256_file(f.path), tag_scheme=f.scheme,
                                    converted_to_iob2=f.converted)
                for f in files
            },
            tag_names=names,
            configs=configs,
        )
        manifest.write(stage / MANIFEST_NAME)
        atomic_write_text(stage / "README.md", _card(manifest, features, files))
    return ImportReport(out, manifest.rows(CONFIG), names,
                        sum(f.iob1_fixed for f in files), manifest,
                        {str(f.path): (f.scheme, f.converted) for f in files})


def _card(manifest: ConllManifest, features: Features, files: list[ConllFile]) -> str:
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    data = DatasetCardData(language=["en"], task_categories=["token-classification"],
                           task_ids=["named-entity-recognition"], configs=config_data_files(manifest))
    splits = manifest.configs[CONFIG]
    DatasetInfosDict(
        {CONFIG: DatasetInfo(features=features, splits=SplitDict(
            {s: SplitInfo(name=s, num_examples=e.rows) for s, e in ordered_splits(splits)}))}
    ).to_dataset_card_data(data)
    sources = "\n".join(f"- `{f.path.name}` -> `{f.split}`: {len(f.sentences)} sentences, "
                        f"SHA-256 `{sha256_file(f.path)[:16]}…`" for f in files)
    fields = "\n".join(f"| `{k}` | {describe_feature(v)} |" for k, v in features.items())
    return (
        f"---\n{data.to_yaml()}\n---\n\n# CoNLL import (local, not a conflictnews release)\n\n"
        "Made by `conflictnews dataset import-conll` so the baselines can be checked on a public corpus. "
        "Same `entities` config shape as conflictnews; the `ner_tags` names are this corpus's own tag set.\n\n"
        f"{sources}\n\n| field | type |\n| --- | --- |\n{fields}\n"
    )
