"""`conflictnews predict` end to end: classical baselines trained by `run_baseline` on the real 0.1.0
release (into a scratch folder), saved, then run by the CLI on the real seed article's text, on a
folder with broken inputs, in every output format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conflictnews.annotation.records import load_annotation
from conflictnews.cli import app, run
from conflictnews.corpus.records import Article
from conflictnews.models.predict import normalised_surface, same_actor
from conflictnews.paths import ProjectPaths
from tests.support.trained import with_foreign_scheme


def test_predict_on_a_folder_writes_the_good_files_and_names_the_broken_ones(
    trained: Path, seed_article: Article, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "aleppo.txt").write_text(seed_article.text, encoding="utf-8")
    (inputs / "empty.txt").write_text("  \n", encoding="utf-8")
    (inputs / "latin1.txt").write_bytes("Caf\xe9 bombed in Idlib".encode("latin-1"))
    (inputs / "notes.json").write_text("{not json", encoding="utf-8")
    out = tmp_path / "predictions.jsonl"
    code = run(app, ["predict", str(inputs), "--models", str(trained), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1, "a broken input makes the exit code non-zero"
    for name, why in (("empty.txt", "empty"), ("latin1.txt", "not valid UTF-8"), ("notes.json", "malformed JSON")):
        assert any(name in line and why in line for line in err.splitlines()), (name, err)
    docs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(docs) == 1, "the good file is still written"
    (doc,) = docs
    assert doc["text_sha256"] == seed_article.text_sha256, "the corpus's normalisation: same text, same id"
    assert doc["id"] == seed_article.id
    text = doc["text"]
    assert doc["entities"] and doc["sentences"]
    for span in (*doc["entities"], *doc["events"]):
        assert text[span["start"]:span["end"]] == span["text"]
        assert 0.0 <= span["score"] <= 1.0
    for event in doc["events"]:
        assert event["event_type"] and event["label"]
    # every sentence carries a probability for every event type, not only the thresholded ones
    from conflictnews.annotation import scheme

    assert all(set(s["scores"]) == set(scheme.sub_event_labels()) for s in doc["sentences"])
    ids = {e["id"]: e for e in doc["entities"]}
    for relation in doc["stances"]:
        assert relation["holder"] in ids and relation["target"] in ids
        assert not same_actor(ids[relation["holder"]]["text"], ids[relation["target"]]["text"])
        assert relation["score"] == relation["scores"][relation["label"]]
    assert doc["model_version"].startswith("entities=crf+triggers=crf+event_types=tfidf_logreg")


def test_predict_text_in_labelstudio_and_table_formats(
    trained: Path, seed_article: Article, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "records"
    assert run(app, ["predict", "--text", seed_article.text, "--models", str(trained),
                     "--format", "labelstudio", "--out", str(folder)]) == 0
    (path,) = folder.glob("*.json")
    record = load_annotation(path)
    assert record.annotator.startswith("model:entities=crf") and record.entities
    assert run(app, ["predict", "--text", "Rebels shelled Aleppo on Friday.", "--models", str(trained),
                     "--format", "table"]) == 0
    assert "entity" in capsys.readouterr().out


def test_bad_models_and_formats_are_one_clear_line(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    assert run(app, ["predict", "--text", "x y", "--models", str(tmp_path / "none")]) == 1
    assert "no saved model for task 'entities'" in capsys.readouterr().err
    other = tmp_path / "other"
    with_foreign_scheme(trained, other, "stance", "tfidf_logreg_markers")
    assert run(app, ["predict", "--text", "x y", "--models", str(other)]) == 1
    err = capsys.readouterr().err
    assert "model.json" in err and "annotation scheme" in err
    assert run(app, ["predict", "--text", "x y", "--models", str(trained), "--format", "xml"]) == 1
    assert "--format 'xml': unknown" in capsys.readouterr().err
    assert run(app, ["predict", str(tmp_path / "a.docx"), "--models", str(trained)]) == 1
    assert "a.docx" in capsys.readouterr().err


def test_same_actor_is_the_normalised_surface() -> None:
    assert same_actor("rebels", "Rebels") and same_actor("the rebels", "rebels")
    assert same_actor("Syrian  army", "the syrian army")
    assert not same_actor("rebels", "the Syrian army")
    assert normalised_surface("The  HTS") == "hts"


def test_worker_processes_predict_what_one_process_predicts_in_input_order(
    trained: Path, hydrated_repo: ProjectPaths
) -> None:
    """Real FA-KES articles (hydrated), 4 per batch over 2 forked workers: the same documents, in the
    same order, as one process."""
    from conflictnews.corpus.hydrate import TextCache
    from conflictnews.corpus.store import load_articles
    from conflictnews.models.predict import load_predictor, predict_stream

    articles = [a for a in load_articles(hydrated_repo.articles, hydrate_from=TextCache.for_project(hydrated_repo.root))
                if a.text][:30]
    predictor = load_predictor(trained)
    one = [d.to_json(predictor.model_version) for d in predict_stream(articles, predictor, batch_size=4)]
    two = [d.to_json(predictor.model_version) for d in predict_stream(articles, predictor, batch_size=4, workers=2)]
    assert [d["id"] for d in two] == [a.id for a in articles]
    assert two == one
    assert sum(len(d["stances"]) for d in one) > 0


def test_worker_processes_refuse_neural_models_and_the_version_names_the_precision(
    trained: Path, tmp_path: Path
) -> None:
    from conflictnews.io import ConflictNewsError
    from conflictnews.models.predict import LoadedModel, Predictor, load_predictor, predict_stream
    from conflictnews.models.registry import get_baseline

    classical = load_predictor(trained)
    tagger = get_baseline("minilm_tagger")("entities")  # unfitted: refused before it would run
    models = {**classical.models, "entities": LoadedModel(tagger, classical.models["entities"].info, tmp_path)}
    with pytest.raises(ConflictNewsError, match=r"only the classical models run in worker processes.*entities"):
        next(predict_stream([], Predictor(models), workers=2))
    # the version string names a precision other than the published float32, so predictions made in it
    # are told apart (Label Studio's model_version)
    assert not Predictor(models).model_version.endswith("+bfloat16")
    assert tagger.use_precision("bfloat16")
    assert Predictor(models).model_version.endswith("+bfloat16")
    with pytest.raises(ConflictNewsError, match="precision 'float16': unknown"):
        load_predictor(trained, precision="float16")


def test_bfloat16_on_a_cpu_without_it_is_warned_and_family_picks_the_models(
    trained: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CPU flags are stand-ins (an AVX2-only CPU, then an AMX one); the models are real."""
    import conflictnews.cpu as cpu

    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    args = ["predict", "--text", "Rebels shelled Aleppo on Friday.", "--models", str(trained)]
    assert run(app, [*args, "--precision", "bfloat16", "--family", "classical"]) == 0
    assert "no native bfloat16 arithmetic" in capsys.readouterr().err
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    assert run(app, [*args, "--precision", "bfloat16"]) == 0
    assert "bfloat16" not in capsys.readouterr().err.split("models:")[0]
    assert run(app, [*args, "--family", "neural"]) == 1
    assert "no saved model of family 'neural' for task 'entities'" in capsys.readouterr().err


def test_cpu_flags_say_whether_bfloat16_is_native() -> None:
    from conflictnews.cpu import cpu_flags, has_native_bfloat16, is_x86_64

    assert has_native_bfloat16(frozenset({"avx2", "fma"})) is False
    assert has_native_bfloat16(frozenset({"avx512f", "avx512_bf16"})) is True
    assert has_native_bfloat16(frozenset()) is None, "unknown flags: nothing assumed"
    if is_x86_64() and Path("/proc/cpuinfo").exists():
        assert "sse2" in cpu_flags(), "every x86-64 CPU has SSE2"


def test_the_predict_command_batches_as_the_library_does() -> None:
    """The CLI keeps its default literal (it must not import datasets to print --help); this keeps it equal."""
    import inspect

    from conflictnews.models.predict import DEFAULT_BATCH_SIZE, predict_stream
    from conflictnews.models.predict_cli import predict

    cli_default = inspect.signature(predict).parameters["batch_size"].default
    assert cli_default == DEFAULT_BATCH_SIZE
    assert inspect.signature(predict_stream).parameters["batch_size"].default == DEFAULT_BATCH_SIZE
