"""`dataset import-conll` on small SYNTHETIC CoNLL-2003-style files (4 columns, -DOCSTART-, IOB1 and IOB2)."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from conflictnews.dataset import features as F
from conflictnews.dataset.conll import import_conll, read_conll, split_from_name
from conflictnews.dataset.load import load_release
from conflictnews.io import ConflictNewsError

TRAIN = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
1996-08-22 CD I-NP O
"""

# IOB1: an entity may start with I-
DEV = """-DOCSTART- -X- -X- O

Syrian JJ B-NP I-MISC
army NN I-NP O
entered VBD B-VP O
Aleppo NNP B-NP I-LOC
"""

TEST = "Damascus\tB-LOC\nsaid\tO\n\nIran\tB-LOC\n"


@pytest.fixture
def conll_files(tmp_path: Path) -> list[Path]:
    files = []
    for name, text in (("eng.train", TRAIN), ("eng.testa", DEV), ("toy-test.iob", TEST)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


def test_import_and_load(conll_files, tmp_path: Path):
    out = tmp_path / "conll-entities"
    report = import_conll(conll_files, out)
    assert report.rows == {"train": 3, "validation": 1, "test": 2}
    assert report.tag_names == ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    assert report.iob1_fixed == 1
    dataset = load_release(out, "entities", cache_dir=str(tmp_path / "cache"))
    train = dataset["train"]
    names = train.features["ner_tags"].feature.names
    assert names == report.tag_names
    # same Features shape as conflictnews' entities config, only the tag names differ
    assert list(train.features) == list(F.ENTITIES)
    # ids: <file stem>-d<document>-s<sentence>; the split joins the stem where two files share it
    assert list(train["id"]) == ["eng-train-d0000-s000", "eng-train-d0000-s001", "eng-train-d0001-s000"]
    assert list(train["article_id"]) == ["eng-train-d0000", "eng-train-d0000", "eng-train-d0001"]
    assert list(dataset["test"]["id"]) == ["toy-test-d0000-s000", "toy-test-d0000-s001"]
    assert train[0]["tokens"] == ["EU", "rejects", "German", "call", "."]
    assert [names[i] for i in train[0]["ner_tags"]] == ["B-ORG", "O", "B-MISC", "O", "O"]
    dev = dataset["validation"][0]
    assert [names[i] for i in dev["ner_tags"]] == ["B-MISC", "O", "O", "B-LOC"]  # IOB1 -> IOB2
    direct = datasets.load_dataset(str(out), "entities", cache_dir=str(tmp_path / "cache2"))
    assert list(direct["test"]["tokens"]) == [["Damascus", "said"], ["Iran"]]


def test_split_from_file_name_or_option(tmp_path: Path):
    assert split_from_name(Path("eng.train")) == "train"
    assert split_from_name(Path("wnut17-dev.conll")) == "validation"
    assert split_from_name(Path("eng.testb")) == "test"
    assert split_from_name(Path("corpus.txt")) is None
    path = tmp_path / "corpus.txt"
    path.write_text(TEST, encoding="utf-8")
    with pytest.raises(ConflictNewsError, match=r"corpus\.txt: cannot tell the split from the file name; pass --split"):
        read_conll(path)
    assert read_conll(path, split="validation").split == "validation"


@pytest.mark.parametrize(("text", "message"), [
    ("EU B-ORG\nrejects\n", r":2: expected a token and a tag"),
    ("EU B-ORG\nrejects X-ORG\n", r":2: tag 'X-ORG' is not O or PREFIX-TYPE with an IOB/IOBES/BILOU prefix"),
    ("EU B-ORG\n-DOCSTART- -X- O\n", r":2: -DOCSTART- inside a sentence"),
    ("\n\n", r"no sentences"),
])
def test_bad_files_name_file_and_line(tmp_path: Path, text, message):
    path = tmp_path / "bad.train"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConflictNewsError, match=rf"bad\.train{message}" if message.startswith(":") else message):
        import_conll([path], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_two_files_for_one_split(conll_files, tmp_path: Path):
    other = tmp_path / "more.train"
    other.write_text(TEST, encoding="utf-8")
    with pytest.raises(ConflictNewsError, match=r"more than one file for split\(s\) \['train'\]"):
        import_conll([conll_files[0], other], tmp_path / "out")


# SYNTHETIC IOBES (BIOES) file, as CoNLL-2003 is often redistributed, and its BILOU twin.
IOBES = """-DOCSTART- -X- -X- O

EU NNP B-NP S-ORG
rejects VBZ B-VP O
German JJ B-NP S-MISC
call NN I-NP O

Peter NNP B-NP B-PER
van NNP I-NP I-PER
Blackburn NNP I-NP E-PER
"""
IOB2_OF_IOBES = [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER", "I-PER"]]


@pytest.mark.parametrize(
    ("text", "scheme"),
    [(IOBES, "IOBES"), (IOBES.replace("S-", "U-").replace("E-PER", "L-PER"), "BILOU")],
)
def test_iobes_and_bilou_convert_to_iob2(tmp_path: Path, text: str, scheme: str):
    path = tmp_path / "eng.train.bioes"
    path.write_text(text, encoding="utf-8")
    parsed = read_conll(path)
    assert parsed.scheme == scheme and parsed.converted == 2
    assert [s.tags for s in parsed.sentences] == IOB2_OF_IOBES
    report = import_conll([path], tmp_path / "out")
    assert report.conversions == {str(path): (scheme, 2)}
    assert report.manifest.inputs["train"].tag_scheme == scheme
    assert report.tag_names == ["O", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def test_iob1_and_iob2_are_reported(conll_files):
    assert read_conll(conll_files[0]).scheme == "IOB2"
    dev = read_conll(conll_files[1])
    assert dev.scheme == "IOB1" and dev.converted == 1
    assert dev.sentences[0].tags == ["B-MISC", "O", "O", "B-LOC"]


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ("B-PER\nI-PER\nS-ORG\n", "follows an unfinished PER entity"),
        ("S-ORG\nB-PER\nI-PER\n", "ends inside a PER entity"),
        ("B-PER\nS-ORG\n", "follows an unfinished PER entity"),
        ("E-PER\n", "does not continue an open PER entity"),
        ("B-PER\nE-ORG\n", "does not continue an open ORG entity"),
    ],
)
def test_malformed_iobes_names_file_and_line(tmp_path: Path, tags: str, problem: str):
    lines = "".join(f"tok{i} {tag}\n" for i, tag in enumerate(tags.split()))
    path = tmp_path / "x.train"
    path.write_text("a O\n\n" + lines, encoding="utf-8")
    with pytest.raises(ConflictNewsError, match=rf"x\.train:3: malformed IOBES sentence: .*{problem}"):
        read_conll(path)


def test_mixed_iobes_and_bilou_is_refused(tmp_path: Path):
    path = tmp_path / "x.train"
    path.write_text("a S-PER\n\nb U-PER\n", encoding="utf-8")
    with pytest.raises(ConflictNewsError, match=r"mixes IOBES .* and BILOU"):
        read_conll(path)


def test_cli_reports_the_conversion(tmp_path: Path):
    from typer.testing import CliRunner

    from conflictnews.cli import app

    path = tmp_path / "eng.train"
    path.write_text(IOBES, encoding="utf-8")
    result = CliRunner().invoke(app, ["dataset", "import-conll", str(path), "--out", str(tmp_path / "o")],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "IOBES tags, 2 sentence(s) converted to IOB2" in result.output
