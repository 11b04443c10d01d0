"""Submission bundles: `submission.json` metadata plus one `<task>.jsonl` predictions file per task.

A bundle is a zip archive or a folder. `read_bundle` parses either with the same limits and
checks (the CLI's offline `validate` and the server call the same functions); `validate_bundle`
then checks every predictions file against the gold split of the targeted dataset version with
the evaluation code's own validator. Archives are read defensively: no absolute or `..` paths,
no links, no encrypted or duplicate entries, a cap on entries and on the uncompressed size that
is enforced while decompressing (headers can lie), so a zip bomb stops at the cap.

Rejection is cheap: the declared sizes and each entry's compression ratio are checked before
anything is inflated, and each predictions file is inflated against its own cap, derived from the
size of the gold split it targets (`task_caps`), so a failing check never holds more than that.

Length (about 460 lines), one cohesive thing: the reader and its limits are one defence (every check runs
in the same pass over the archive, before anything is inflated past its cap).
"""

from __future__ import annotations

import io
import json
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from conflictnews.io import ConflictNewsError, canonical_json, sha256_bytes, sha256_text

METADATA_FILE = "submission.json"
PREDICTIONS_SUFFIX = ".jsonl"
_IGNORED = {".DS_Store"}
_IGNORED_DIRS = {"__MACOSX"}
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class BundleError(ConflictNewsError):
    """The bundle is not acceptable; `status` is the HTTP status the server answers with."""

    status: int = 422

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class UnsafeArchiveError(BundleError):
    status = 400


class BundleTooLargeError(BundleError):
    status = 413


class SubmissionMeta(BaseModel):
    """`submission.json`: who submits what, declared once (the server, CLI and page all use it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, protected_namespaces=())

    model_name: str = Field(
        min_length=1, max_length=120, description="Name shown on the leaderboard."
    )
    team: str = Field(min_length=1, max_length=120, description="Team or author(s).")
    contact: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        max_length=254,
        description="E-mail of a contact person.",
    )
    url: HttpUrl | None = Field(None, description="Code, model card or project page.")
    paper: str | None = Field(None, max_length=500, description="Paper URL, DOI or citation.")
    parameters: int | None = Field(None, ge=0, description="Number of model parameters.")
    training_data: list[str] = Field(
        min_length=1,
        description="Every data set the model was trained or tuned on (declared, for contamination review).",
    )
    external_data: bool = Field(
        description="Whether data beyond the conflictnews train/validation splits was used."
    )
    dataset_version: str = Field(
        pattern=r"^\d+\.\d+\.\d+$",
        description="The conflictnews dataset version (X.Y.Z) the predictions target.",
    )
    description: str | None = Field(
        None, max_length=2000, description="A sentence or two on the method."
    )
    model_version: str | None = Field(
        None,
        max_length=40,
        description="Declared model version; team + model name + model version identify one "
        "leaderboard row (several submissions of one model share it).",
    )
    leaderboard_entry: Literal["best", "latest"] = Field(
        "best",
        description="Which submission of the model the leaderboard row shows: the best (overall) "
        "or the latest. The latest submission's choice applies.",
    )


# Fields added after bundles were first stored: left out of the canonical metadata while they
# hold their defaults, so that the content hash of an older bundle does not change.
_OPTIONAL_SINCE_V2 = {"model_version": None, "leaderboard_entry": "best"}


@dataclass(frozen=True)
class Limits:
    """Limits applied when reading a bundle (the server takes them from its Settings)."""

    max_bytes: int = 50 * 1024 * 1024  # the archive (or folder) as uploaded
    max_uncompressed_bytes: int = 256 * 1024 * 1024
    max_entries: int = 32
    max_compression_ratio: float = 200.0  # declared size / compressed size of one entry


MIN_TASK_CAP = 1 << 20
BYTES_PER_GOLD_ROW = 2 * 1024  # real predictions rows are 70-200 bytes; 2 KiB is generous
MAX_LINE_BYTES = 64 * 1024  # one predictions row; longer lines are refused before JSON parsing


def _longest_line(data: bytes) -> tuple[int, int]:
    """(length, 1-based line number) of the longest line, without copying the data."""
    longest, where, start, number = 0, 0, 0, 0
    while start <= len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        number += 1
        if end - start > longest:
            longest, where = end - start, number
        start = end + 1
    return longest, where


@dataclass(frozen=True)
class Bundle:
    """A parsed bundle: metadata and the raw bytes of each predictions file, by task name."""

    meta: SubmissionMeta
    predictions: dict[str, bytes]

    @property
    def tasks(self) -> list[str]:
        return sorted(self.predictions)

    def files(self) -> dict[str, bytes]:
        """File name -> content, metadata in canonical JSON."""
        files = {f"{task}{PREDICTIONS_SUFFIX}": data for task, data in self.predictions.items()}
        meta = self.meta.model_dump(mode="json")
        for name, default in _OPTIONAL_SINCE_V2.items():
            if meta.get(name) == default:
                meta.pop(name, None)
        files[METADATA_FILE] = canonical_json(meta).encode("utf-8")
        return dict(sorted(files.items()))

    @property
    def predictions_sha256(self) -> str:
        """Hash of the predictions alone (metadata excluded): the same predictions under another
        name hash the same. Rows are canonicalised, so re-serialising them changes nothing."""
        return sha256_text("".join(f"{d}\n" for d in sorted(self.row_digests())))

    def row_digests(self) -> list[str]:
        """One short digest per predictions row: task + the row's canonical JSON."""
        digests = []
        for task, data in sorted(self.predictions.items()):
            for line in data.splitlines():
                if not line.strip():
                    continue
                try:
                    text = canonical_json(json.loads(line))
                except ValueError:
                    text = line.decode("utf-8", errors="replace")
                digests.append(sha256_text(f"{task}\t{text}")[:16])
        return digests

    @property
    def sha256(self) -> str:
        """Content hash: over the sorted (file name, file sha256) list, independent of zip details."""
        return sha256_text(
            "".join(f"{name} {sha256_bytes(data)}\n" for name, data in self.files().items())
        )

    def to_zip(self) -> bytes:
        """A deterministic zip archive of the bundle (sorted names, fixed timestamps)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(
            buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
        ) as archive:
            for name, data in self.files().items():
                info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return buffer.getvalue()


def _task_names() -> list[str]:
    from conflictnews.eval.tasks import TASKS

    return TASKS.names()


def _check_name(name: str, origin: str) -> PurePosixPath:
    """A safe relative path inside an archive, or UnsafeArchiveError."""
    if "\\" in name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"{origin}: unsafe path {name!r} in the archive")
    path = PurePosixPath(name)
    if any(part in ("..", "") for part in path.parts) or path.is_absolute():
        raise UnsafeArchiveError(f"{origin}: unsafe path {name!r} in the archive")
    return path


def _strip_common_folder(files: dict[PurePosixPath, Any]) -> dict[PurePosixPath, Any]:
    """`model/submission.json` etc. -> `submission.json` when every file sits in one top folder."""
    tops = {p.parts[0] for p in files}
    if len(tops) == 1 and all(len(p.parts) > 1 for p in files):
        return {PurePosixPath(*p.parts[1:]): v for p, v in files.items()}
    return files


def _assemble(files: dict[str, bytes], origin: str) -> Bundle:
    tasks = _task_names()
    expected = {METADATA_FILE, *(f"{t}{PREDICTIONS_SUFFIX}" for t in tasks)}
    unexpected = [n for n in files if n not in expected]
    if unexpected:
        raise BundleError(
            f"{origin}: unexpected file(s) {', '.join(sorted(set(unexpected)))}; a bundle holds "
            f"{METADATA_FILE} and <task>{PREDICTIONS_SUFFIX} files for tasks: {', '.join(tasks)}"
        )
    if METADATA_FILE not in files:
        raise BundleError(f"{origin}: no {METADATA_FILE}")
    predictions = {
        n.removesuffix(PREDICTIONS_SUFFIX): d for n, d in files.items() if n != METADATA_FILE
    }
    if not predictions:
        raise BundleError(
            f"{origin}: no predictions file; add one or more of "
            + ", ".join(f"{t}.jsonl" for t in tasks)
        )
    return Bundle(parse_metadata(files[METADATA_FILE], f"{origin}/{METADATA_FILE}"), predictions)


def parse_metadata(data: bytes, origin: str) -> SubmissionMeta:
    """`submission.json` bytes -> SubmissionMeta; every problem in one BundleError (422)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{origin}: not valid UTF-8 (byte {exc.start})") from None
    try:
        return SubmissionMeta.model_validate_json(text)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "(document)"
            if error["type"] == "json_invalid":
                problems.append(f"malformed JSON: {error['msg']}")
            else:
                problems.append(f"{where}: {error['msg']}")
        raise BundleError(f"{origin}: " + "; ".join(problems)) from None


TaskCaps = Callable[[SubmissionMeta], dict[str, int]]


def task_cap(n_gold_rows: int) -> int:
    """Most bytes a predictions file for a gold split of `n_gold_rows` rows may expand to."""
    return max(MIN_TASK_CAP, n_gold_rows * BYTES_PER_GOLD_ROW)


def _inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, origin: str, what: str
) -> bytes:
    """An entry's bytes, inflated in 1 MiB chunks and stopped as soon as they pass `cap`."""
    chunks: list[bytes] = []
    left = cap
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(1 << 20):
                left -= len(chunk)
                if left < 0:
                    raise BundleTooLargeError(f"{origin}: {info.filename!r} expands to more than {what}")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise BundleError(f"{origin}: cannot read {info.filename!r} ({exc})", status=400) from None
    return b"".join(chunks)


def _check_declared(members: dict[PurePosixPath, zipfile.ZipInfo], limits: Limits, origin: str) -> None:
    """Reject by the central directory alone (nothing inflated yet): total size and ratio."""
    declared = sum(info.file_size for info in members.values())
    if declared > limits.max_uncompressed_bytes:
        raise BundleTooLargeError(
            f"{origin}: the archive expands to {declared} bytes, more than the limit of "
            f"{limits.max_uncompressed_bytes}"
        )
    for info in members.values():
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 64 * 1024 and ratio > limits.max_compression_ratio:
            raise BundleTooLargeError(
                f"{origin}: {info.filename!r} expands to {info.file_size} bytes from "
                f"{info.compress_size}, a compression ratio of {ratio:.0f}:1, more than the limit "
                f"of {limits.max_compression_ratio:.0f}:1 (rejected before inflating)"
            )


def read_zip(
    data: bytes, limits: Limits, origin: str = "bundle", task_caps: TaskCaps | None = None
) -> Bundle:
    """Parse a zip archive's bytes into a Bundle, safely (see module docstring).

    `task_caps(meta)` -> {task: bytes}: how far each predictions file may expand (the server
    derives it from the gold split's size, `task_cap`); submission.json is read first for it.
    """
    if len(data) > limits.max_bytes:
        raise BundleTooLargeError(
            f"{origin}: {len(data)} bytes, more than the limit of {limits.max_bytes}"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise BundleError(f"{origin}: not a zip archive", status=400)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise BundleError(f"{origin}: corrupt zip archive ({exc})", status=400) from None
    if len(infos) > limits.max_entries:
        raise UnsafeArchiveError(
            f"{origin}: {len(infos)} entries in the archive, more than {limits.max_entries}"
        )
    members: dict[PurePosixPath, zipfile.ZipInfo] = {}
    for info in infos:
        path = _check_name(info.filename, origin)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UnsafeArchiveError(f"{origin}: {info.filename!r} is a link")
        if info.flag_bits & 0x1:
            raise UnsafeArchiveError(f"{origin}: {info.filename!r} is encrypted")
        if info.is_dir() or path.name in _IGNORED or path.parts[0] in _IGNORED_DIRS:
            continue
        if path in members:
            raise UnsafeArchiveError(f"{origin}: {info.filename!r} appears twice in the archive")
        members[path] = info
    _check_declared(members, limits, origin)
    members = _strip_common_folder(members)
    if any(len(p.parts) > 1 for p in members):
        nested = sorted(str(p) for p in members if len(p.parts) > 1)
        raise BundleError(
            f"{origin}: files must sit at the top of the archive, found {', '.join(nested[:5])}"
        )
    names = {str(path): info for path, info in members.items()}
    caps: dict[str, int] = {}
    files: dict[str, bytes] = {}
    if task_caps is not None and METADATA_FILE in names:
        files[METADATA_FILE] = _inflate(
            archive, names[METADATA_FILE], 1 << 20, origin, f"{1 << 20} bytes"
        )
        meta = parse_metadata(files[METADATA_FILE], f"{origin}/{METADATA_FILE}")
        caps = {f"{t}{PREDICTIONS_SUFFIX}": c for t, c in task_caps(meta).items()}
    budget = limits.max_uncompressed_bytes
    for name, info in names.items():
        if name in files:
            continue
        cap = min(budget, caps.get(name, budget))
        what = (
            f"{cap} bytes, the limit for this task's test split"
            if name in caps
            else f"{limits.max_uncompressed_bytes} bytes"
        )
        files[name] = _inflate(archive, info, cap, origin, what)
        budget -= len(files[name])
    return _assemble(files, origin)


def read_folder(folder: Path, limits: Limits) -> Bundle:
    """Parse a bundle folder (same names and limits as an archive)."""
    folder = Path(folder)
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.iterdir()):
        if path.name in _IGNORED:
            continue
        if path.is_symlink() or not path.is_file():
            raise BundleError(f"{path}: a bundle folder holds plain files only")
        total += path.stat().st_size
        if total > limits.max_uncompressed_bytes:
            raise BundleTooLargeError(f"{folder}: more than {limits.max_uncompressed_bytes} bytes")
        files[path.name] = path.read_bytes()
    return _assemble(files, str(folder))


def read_bundle(path: Path, limits: Limits | None = None) -> Bundle:
    """A bundle from a zip file or a folder."""
    limits = limits or Limits()
    path = Path(path)
    if path.is_dir():
        return read_folder(path, limits)
    if not path.is_file():
        raise BundleError(f"{path}: no such file or folder")
    if path.stat().st_size > limits.max_bytes:
        raise BundleTooLargeError(
            f"{path}: {path.stat().st_size} bytes, more than the limit of {limits.max_bytes}"
        )
    return read_zip(path.read_bytes(), limits, str(path))


def count_predictions_bytes(task: str, split: Any, data: bytes, origin: str) -> tuple[Any, Any]:
    """Validate one predictions file against a gold split and reduce it to per-article counts.

    This is the evaluation code's own `count_table` (what `score_predictions` runs before its
    bootstrap), so a file that passes here is scored without a second validation (see
    `CheckedBundle.counts`). The file goes in as a file so that messages carry line numbers.
    """
    from conflictnews.eval.predictions import PredictionError
    from conflictnews.eval.scoring import count_table

    longest, line = _longest_line(data)
    if longest > MAX_LINE_BYTES:
        raise BundleError(
            f"{origin}: line {line} is {longest} bytes, more than {MAX_LINE_BYTES} for one "
            "predictions row"
        )
    with tempfile.TemporaryDirectory(prefix="cnlb-") as tmp:
        path = Path(tmp) / f"{task}{PREDICTIONS_SUFFIX}"
        path.write_bytes(data)
        try:
            return count_table(task, split, path)
        except PredictionError as exc:
            raise BundleError(str(exc).replace(str(path), origin)) from None


@dataclass(frozen=True)
class CheckedBundle:
    """A bundle that passed validation: the dataset version it targets and, per task, the
    evaluation code's (Gold, CountTable) for it — the input of `score_counts`."""

    version: str
    counts: dict[str, tuple[Any, Any]]


def check_bundle(bundle: Bundle, gold: Any, origin: str = "bundle") -> CheckedBundle:
    """Check `bundle` against the gold of the version it targets (`gold`: a GoldStore).

    Errors (BundleError, 422) name the file and ids, never gold labels.
    """
    from conflictnews.eval.tasks import TASKS

    version = bundle.meta.dataset_version
    try:
        source = gold.source(version)
    except ConflictNewsError as exc:
        raise BundleError(f"{origin}/{METADATA_FILE}: {exc}") from None
    counts = {}
    for task in bundle.tasks:
        config = TASKS.get(task).config
        where = f"{origin}/{task}{PREDICTIONS_SUFFIX}"
        if config not in source.configs:
            raise BundleError(f"{where}: dataset version {version} has no {config!r} config")
        counts[task] = count_predictions_bytes(
            task, gold.split(version, config), bundle.predictions[task], where
        )
    return CheckedBundle(version, counts)


def validate_bundle(bundle: Bundle, gold: Any, origin: str = "bundle") -> str:
    """`check_bundle`, returning only the dataset version."""
    return check_bundle(bundle, gold, origin).version
