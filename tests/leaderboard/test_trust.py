"""A leaderboard researchers can trust (issue 14), against real uvicorn processes.

Gold: the SYNTHETIC releases of conftest.py (plus one with a stated annotator ceiling).
Paired-test ties are checked against `conflictnews.eval.compare.paired_bootstrap` (what
`conflictnews eval compare` runs) on the same gold and predictions.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from conflictnews.eval.compare import paired_bootstrap
from conflictnews.leaderboard import store
from conflictnews.leaderboard.bundle import Bundle, SubmissionMeta
from conflictnews.leaderboard.db import Evaluation
from conflictnews.leaderboard.gold import GoldStore
from conflictnews.leaderboard.settings import Settings
from conflictnews.leaderboard.worker import Worker
from tests.support.synthetic_release import build_synthetic_release, jsonl, synthetic_metadata

from .conftest import TASK_NAMES, Bundles, metadata_bytes, raw_zip, start_server, unique

N_RESAMPLES = 200  # conftest.start_server's default


def accepted(server, token: str, archive: bytes) -> int:
    response = server.post(token, archive)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def scored(server, token: str, archive: bytes) -> dict:
    view = server.wait(accepted(server, token, archive), token)
    assert view["state"] == "scored", view
    return view


def test_ties_are_the_paired_test_of_eval_compare(
    tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    server = start_server("sqlite", tmp_path, releases)
    try:
        noises = {"leader": 0.05, "close": 0.08, "far": 0.7}
        predictions = {
            name: bundles.predictions("stance", noise, seed=31 + i)
            for i, (name, noise) in enumerate(noises.items())
        }
        for name, preds in predictions.items():
            token = server.user(unique(f"ties-{name}"))
            bundle = Bundle(
                SubmissionMeta.model_validate(synthetic_metadata(name)), {"stance": jsonl(preds)}
            )
            scored(server, token, bundle.to_zip())
        table = server.get("/api/leaderboard", version="0.1.0", task="stance").json()
        assert "paired bootstrap" in table["tie_method"]
        names = [row["model_name"] for row in table["rows"]]
        assert names[0] == "leader" and set(names) == set(noises)
        split = bundles.split("stance")
        p_values = {}
        for row in table["rows"][1:]:
            cell = row["tasks"]["stance"]
            direct = paired_bootstrap(
                "stance",
                split,
                predictions["leader"],
                predictions[row["model_name"]],
                n_resamples=N_RESAMPLES,
                seed=0,
            )
            assert cell["p_value_vs_leader"] == pytest.approx(direct.p_value)
            assert cell["tied_with_leader"] is (direct.p_value >= 0.05)
            p_values[row["model_name"]] = direct.p_value
        assert p_values["far"] < 0.05  # the wide-CI era called almost everything tied
        # Overall, with articles resampled jointly across tasks: for stance-only entries the
        # overall score is stance / 4, so the joint test must give the stance test's p-values.
        overall = server.get("/api/leaderboard", version="0.1.0").json()
        for row in overall["rows"][1:]:
            assert row["overall"]["p_value_vs_leader"] == pytest.approx(p_values[row["model_name"]])
        page = server.get("/", version="0.1.0").text
        assert "paired bootstrap" in page and "jointly across the tasks" in page
    finally:
        server.close()


def test_overall_ties_resample_articles_jointly_across_tasks(
    tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    server = start_server("sqlite", tmp_path, releases)
    try:
        for name, noise in (("all-leader", 0.05), ("all-close", 0.06), ("all-poor", 0.8)):
            scored(server, server.user(unique(name)), bundles.archive(name, noise=noise))
        rows = server.get("/api/leaderboard", version="0.1.0").json()["rows"]
        by_name = {row["model_name"]: row["overall"] for row in rows}
        assert rows[0]["model_name"] == "all-leader"
        assert by_name["all-poor"]["tied_with_leader"] is False
        assert by_name["all-poor"]["p_value_vs_leader"] < 0.05
        assert by_name["all-close"]["p_value_vs_leader"] > by_name["all-poor"]["p_value_vs_leader"]
    finally:
        server.close()


def test_copied_predictions_are_refused_and_near_copies_flagged(
    server, bundles: Bundles
) -> None:
    original = bundles.bundle(unique("original"), noise=0.2, seed=4242)
    owner = server.user(unique("honest"))
    first = scored(server, owner, original.to_zip())
    assert first["flags"] == []
    # another user, the same predictions under another name: 409, naming the original
    thief = server.user(unique("copycat"))
    copy = Bundle(
        SubmissionMeta.model_validate(synthetic_metadata("my own model", team="copycats")),
        original.predictions,
    )
    response = server.post(thief, copy.to_zip())
    assert response.status_code == 409, response.text
    assert response.json()["existing_id"] == first["id"]
    assert "identical to submission" in response.json()["detail"]
    # the owner may resubmit them as a new model version
    again = Bundle(
        SubmissionMeta.model_validate(synthetic_metadata(original.meta.model_name, model_version="2")),
        original.predictions,
    )
    assert server.post(owner, again.to_zip()).status_code == 202
    # one row changed out of 160: >= 98% identical -> accepted but flagged
    changed = dict(original.predictions)
    changed["entities"] = _change_one_row(original.predictions["entities"])
    near = Bundle(
        SubmissionMeta.model_validate(synthetic_metadata("near copy", team="copycats")), changed
    )
    view = scored(server, thief, near.to_zip())
    kinds = {flag["kind"] for flag in view["flags"]}
    assert "near_duplicate" in kinds, view["flags"]
    flag = next(f for f in view["flags"] if f["kind"] == "near_duplicate")
    assert flag["submission_id"] == first["id"] and 0.98 <= flag["share"] < 1.0
    page = server.get(f"/submissions/{view['id']}").text
    assert "near-duplicate" in page
    assert "Training data (declared)" in page and "External data (declared)" in page
    board = server.get("/api/leaderboard", version="0.1.0").json()
    row = next(r for r in board["rows"] if r["submission_id"] == view["id"])
    assert any("near-duplicate" in message for message in row["flags"])


def _change_one_row(data: bytes) -> bytes:
    lines = data.decode().splitlines()
    row = json.loads(lines[0])
    tags = row["tags"]
    row["tags"] = ["O"] * len(tags) if any(t != "O" for t in tags) else ["B-ORG", *tags[1:]]
    lines[0] = json.dumps(row)
    return ("\n".join(lines) + "\n").encode()


def test_scores_above_the_stated_annotator_ceiling_are_flagged(
    tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    stated = tmp_path / "stated"
    build_synthetic_release(
        stated / "0.1.0", "0.1.0", n_test=40, annotator_ceiling={"stance": 0.8, "entities": 0.9}
    )
    server = start_server("sqlite", tmp_path / "db", stated)
    plain = start_server("sqlite", tmp_path / "db-plain", releases)
    try:
        token = server.user(unique("ceiling"))
        perfect = scored(server, token, bundles.archive("too good", noise=0.0, tasks=["stance"]))
        flags = [f for f in perfect["flags"] if f["kind"] == "above_annotator_ceiling"]
        assert [f["task"] for f in flags] == ["stance"]
        assert "above human agreement: check training data" in flags[0]["message"]
        modest = scored(server, token, bundles.archive("modest", noise=0.6, tasks=["stance"]))
        assert modest["flags"] == []
        assert "above human agreement" in server.get("/", version="0.1.0").text
        # a release that states no ceiling: no flag, and the page says so
        other = plain.user(unique("no-ceiling"))
        view = scored(plain, other, bundles.archive("too good elsewhere", noise=0.0, tasks=["stance"]))
        assert view["flags"] == []
        assert "states no annotator ceiling" in plain.get("/", version="0.1.0").text
    finally:
        server.close()
        plain.close()


def test_one_row_per_model_with_history(tmp_path: Path, releases: Path, bundles: Bundles) -> None:
    server = start_server("sqlite", tmp_path, releases, daily_cap=10)
    try:
        team = server.user(unique("modeller"))
        first = scored(server, team, bundles.archive("tagger", noise=0.4, model_version="1", seed=1))
        best = scored(server, team, bundles.archive("tagger", noise=0.1, model_version="1", seed=2))
        worse = scored(server, team, bundles.archive("tagger", noise=0.5, model_version="1", seed=3))
        other_version = scored(
            server, team, bundles.archive("tagger", noise=0.3, model_version="2", seed=4)
        )
        baseline = server.user(unique("baselines"), is_baseline=True)
        scored(server, baseline, bundles.archive("a baseline", noise=0.6, seed=5))
        rows = server.get("/api/leaderboard", version="0.1.0").json()["rows"]
        v1 = [r for r in rows if r["model_name"] == "tagger" and r["model_version"] == "1"]
        assert len(v1) == 1 and v1[0]["submission_id"] == best["id"] and v1[0]["n_submissions"] == 3
        assert any(r["submission_id"] == other_version["id"] for r in rows)
        assert any(r["is_baseline"] for r in rows)  # baselines stay rows
        assert len(rows) == 3
        history = server.get(f"/api/models/{v1[0]['model_key']}").json()
        assert [s["id"] for s in history["submissions"]] == [first["id"], best["id"], worse["id"]]
        page = server.get(f"/models/{v1[0]['model_key']}").text
        assert "3 submissions" in page and all(f'data-submission="{i}"' in page for i in (first["id"], worse["id"]))
        # the team asks for its latest instead
        latest = scored(
            server,
            team,
            bundles.archive("tagger", noise=0.6, model_version="1", seed=6, leaderboard_entry="latest"),
        )
        rows = server.get("/api/leaderboard", version="0.1.0").json()["rows"]
        v1 = [r for r in rows if r["model_name"] == "tagger" and r["model_version"] == "1"]
        assert v1[0]["submission_id"] == latest["id"] and v1[0]["n_submissions"] == 4
        # the page: date, dataset version, test-set size, code link, n submissions
        html = server.get("/", version="0.1.0").text
        assert "4 submissions" in html, html
        assert "40 items" in html and "8 articles" in html, html
        assert "code ↗" in html and time.strftime("%Y-") in html
        assert "public test labels (like CoNLL-2003): scores are self-reported in effect" in html
    finally:
        server.close()


def test_version_filter_lists_every_version_with_scores(
    tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    server = start_server("sqlite", tmp_path, releases)
    try:
        token = server.user(unique("versions"))
        for version in ("0.1.0", "0.2.0"):
            scored(server, token, bundles.archive(f"v {version}", version=version, tasks=["stance"]))
        for shown in ("0.1.0", "0.2.0"):
            page = server.get("/", version=shown).text
            assert all(f'option value="{v}"' in page for v in ("0.1.0", "0.2.0", "0.3.0"))
    finally:
        server.close()


def test_rescore_keeps_old_scores_visible_until_all_are_ready(
    tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    server = start_server("sqlite", tmp_path, releases, workers=0)  # scoring done here, step by step
    try:
        settings = Settings(database_url=server.database_url, gold=str(releases), n_resamples=50)
        worker = Worker(server.db, GoldStore([releases]), settings)
        token = server.user(unique("rescore"))
        ids = [
            accepted(server, token, bundles.archive(f"rescored {i}", noise=0.1 * i, tasks=["stance"]))
            for i in range(1, 4)
        ]
        worker.drain()
        before = server.get("/api/leaderboard", version="0.1.0").json()
        assert sorted(r["submission_id"] for r in before["rows"]) == ids
        assert before["rescoring"] is None
        manifest = GoldStore([releases]).source("0.1.0").manifest_sha256
        assert store.enqueue_version(server.db, "0.1.0", manifest) == 3
        for done in range(3):
            table = server.get("/api/leaderboard", version="0.1.0").json()
            assert table["rescoring"] == {"done": done, "total": 3}
            assert sorted(r["submission_id"] for r in table["rows"]) == ids  # no gap
            assert "rescoring" in server.get("/", version="0.1.0").text
            assert worker.run_once("0.1.0") is not None
        after = server.get("/api/leaderboard", version="0.1.0").json()
        assert after["rescoring"] is None
        assert sorted(r["submission_id"] for r in after["rows"]) == ids
        with server.db.session() as session:
            generations = set(session.scalars(select(Evaluation.generation)).all())
        assert generations == {1}  # switched, the superseded generation dropped
        assert all(server.get(f"/api/submissions/{i}").json()["state"] == "scored" for i in ids)
    finally:
        server.close()


def test_a_killed_workers_job_resumes_after_its_short_lease(
    tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    slow = {"n_resamples": 400_000, "lease_seconds": 2, "heartbeat_seconds": 0.5}
    first = start_server("sqlite", tmp_path, releases, **slow)
    second = None
    try:
        token = first.user(unique("lease"))
        submission_id = accepted(first, token, bundles.archive("slow to score", noise=0.2))
        leases = []
        deadline = time.monotonic() + 30
        while len(set(leases)) < 3 and time.monotonic() < deadline:
            with first.db.session() as session:
                evaluation = session.scalars(
                    select(Evaluation).where(Evaluation.submission_id == submission_id)
                ).one()
            assert evaluation.state == "queued", "scored before the worker could be killed"
            if evaluation.lease_until is not None:
                leases.append(evaluation.lease_until)
            time.sleep(0.2)
        assert len(set(leases)) >= 3, "the heartbeat renews the lease while scoring"
        first.stop(kill=True)  # killed mid-scoring
        killed_at = time.monotonic()
        second = type(first)(first.database_url, first.gold, first.log_path, first.settings)
        second.start()
        view = second.wait(submission_id, token, timeout=60)
        assert view["state"] == "scored"
        assert time.monotonic() - killed_at < 60  # resumed within a minute
        with second.db.session() as session:
            assert session.scalars(select(Evaluation.attempts)).one() == 2
    finally:
        first.close()
        if second is not None:
            second.close()


def test_failed_uploads_count_toward_an_hourly_cap_with_a_real_retry_after(
    tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    server = start_server("sqlite", tmp_path, releases, failed_upload_cap=3)
    try:
        token = server.user(unique("failing"))
        bad = raw_zip({"submission.json": metadata_bytes("bad"), "stance.jsonl": b"{not json\n"})
        for _ in range(3):
            assert server.post(token, bad).status_code == 422
        response = server.post(token, bundles.archive("good after bad", tasks=["stance"]))
        assert response.status_code == 429 and "rejected uploads" in response.json()["detail"]
        assert 3500 < int(response.headers["retry-after"]) <= 3600
        # a bomb-like entry is refused from its declared ratio, before inflating
        other = server.user(unique("bomber"))
        bomb = raw_zip({"submission.json": metadata_bytes("bomb"), "stance.jsonl": b"\n" * (3 << 20)})
        response = server.post(other, bomb)
        assert response.status_code == 413 and "rejected before inflating" in response.json()["detail"]
        # one that passes the ratio check stops at its task's cap (from the gold split's size)
        import random

        rng = random.Random(0)
        filler = "".join("b" if rng.random() < 0.02 else "a" for _ in range(3 << 19)).encode()
        response = server.post(
            other, raw_zip({"submission.json": metadata_bytes("big"), "stance.jsonl": filler})
        )
        assert response.status_code == 413, response.text
        assert "the limit for this task's test split" in response.json()["detail"]
    finally:
        server.close()


def test_blind_track_served_from_a_private_key_shows_main_scores_only(
    tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    """Server side of the blind track: a version whose gold is a private key (make-key) exposes
    main scores at the shown precision and CIs only, to everyone, with a weekly cap per team."""
    from conflictnews.leaderboard.gold import make_key

    key = tmp_path / "keys" / "0.1.0.json"
    make_key(releases / "0.1.0", key)
    server = start_server("sqlite", tmp_path / "db", key, blind_weekly_cap=1)
    try:
        token = server.user(unique("blind"))
        view = scored(server, token, bundles.archive("blind entry", noise=0.2))
        assert view["track"] == "blind" and view["owner"] is True
        for task in TASK_NAMES:
            score = view["scores"][task]
            assert set(score) == {"main_score", "main_value", "ci", "dataset_version", "manifest_sha256"}
            assert score["main_value"] == round(score["main_value"], 3)
            assert all(bound == round(bound, 3) for bound in score["ci"])
        table = server.get("/api/leaderboard", version="0.1.0").json()
        assert table["track"] == "blind"
        row = table["rows"][0]
        assert set(row["tasks"]["stance"]) == {"value", "ci", "tied_with_leader"}
        assert row["tasks"]["stance"]["value"] == round(row["tasks"]["stance"]["value"], 3)
        page = server.get("/", version="0.1.0").text
        assert "Blind track" in page and "self-reported" not in page
        sub_page = server.get(f"/submissions/{view['id']}", token).text
        assert "per_type" not in sub_page and "n_rows" not in sub_page
        response = server.post(token, bundles.archive("blind again", noise=0.3))
        assert response.status_code == 429 and "weekly cap of the blind track" in response.json()["detail"]
        assert int(response.headers["retry-after"]) > 6 * 24 * 3600
    finally:
        server.close()


def test_readme_example_bundle_is_complete_and_valid() -> None:
    """The README's example submission.json holds every key of the schema and validates; it
    shows one predictions line per task."""
    import re

    from conflictnews.leaderboard.bundle import parse_metadata

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The leaderboard") :]
    section = section[: section.index("\n## ", 5)]
    example = re.search(r"```json\n(.*?)```", section, re.DOTALL).group(1)
    assert set(json.loads(example)) == set(SubmissionMeta.model_fields)
    parse_metadata(example.encode(), "README.md")
    assert "leaderboard import-baselines" in section
    for task in TASK_NAMES:
        assert re.search(rf"^{task}\.jsonl\s+\{{", section, re.MULTILINE), task
