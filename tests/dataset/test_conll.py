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
    ("EU B-ORG\nrejects X-ORG\n", r":2: tag 'X-ORG' is not O, B-TYPE or I-TYPE"),
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
