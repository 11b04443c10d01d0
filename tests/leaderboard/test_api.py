"""API tests against a real uvicorn process (SQLite file; PostgreSQL when configured).

Gold: the SYNTHETIC releases of conftest.py.
"""

from __future__ import annotations

import re

import pytest

from conflictnews.io import sha256_file
from conflictnews.leaderboard.live import LiveServer

from .conftest import TASK_NAMES, Bundles, gold_label_strings, test_ids, unique


def submit_and_wait(server: LiveServer, token: str, archive: bytes) -> dict:
    response = server.post(token, archive)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["state"] == "queued"
    return server.wait(answer["id"], token)


def test_health_lists_the_configured_versions(server: LiveServer) -> None:
    health = server.get("/api/health").json()
    assert health["status"] == "ok"
    assert health["versions"] == ["0.1.0", "0.2.0", "0.3.0"]
    versions = server.get("/api/versions").json()
    assert [v["version"] for v in versions] == ["0.1.0", "0.2.0", "0.3.0"]
    assert all(set(v["configs"]) == {"entities", "events", "stance"} for v in versions)


def test_submission_is_scored_with_cis_version_and_manifest(
    server: LiveServer, bundles: Bundles, releases
) -> None:
    token = server.user(unique("alice"))
    view = submit_and_wait(server, token, bundles.archive("good model", noise=0.1, seed=0))
    assert view["state"] == "scored", view
    assert view["error"] is None
    assert sorted(view["scores"]) == sorted(TASK_NAMES)
    manifest = sha256_file(releases / "0.1.0" / "MANIFEST.json")
    for task, score in view["scores"].items():
        assert score["dataset_version"] == "0.1.0"
        assert score["manifest_sha256"] == manifest
        low, high = score["ci"]
        assert 0.0 <= low <= score["main_value"] <= high <= 1.0, (task, score)
        assert score["n_rows"] == 40 and score["n_articles"] == 8 and score["n_resamples"] == 200
    # The same scores as the evaluation code gives directly (one implementation of the metrics).
    from conflictnews.eval.scoring import score_predictions

    direct = score_predictions(
        "entities", bundles.split("entities"), bundles.predictions("entities", 0.1), 200, 0
    )
    assert view["scores"]["entities"]["main_value"] == pytest.approx(direct.main_value)
    assert view["scores"]["entities"]["ci"] == pytest.approx(list(direct.ci["f1"]))


def test_leaderboard_ranks_by_overall_and_by_task(server: LiveServer, bundles: Bundles) -> None:
    token = server.user(unique("ranker"))
    best = submit_and_wait(server, token, bundles.archive(unique("ranked-best"), noise=0.0))
    worst = submit_and_wait(server, token, bundles.archive(unique("ranked-worst"), noise=0.9))
    partial = submit_and_wait(
        server, token, bundles.archive(unique("ranked-stance-only"), noise=0.0, tasks=["stance"])
    )
    table = server.get("/api/leaderboard", version="0.1.0").json()
    assert table["dataset_version"] == "0.1.0" and table["sort"] == "overall"
    assert "mean of the main scores over all 4 tasks" in table["overall_rule"]
    rows = {row["submission_id"]: row for row in table["rows"]}
    assert rows[best["id"]]["rank"] < rows[worst["id"]]["rank"]
    # a stance-only entry: overall = stance / 4 (the other tasks count 0)
    stance = rows[partial["id"]]["tasks"]["stance"]["value"]
    assert rows[partial["id"]]["overall"]["value"] == pytest.approx(stance / 4)
    assert rows[partial["id"]]["tasks"]["entities"] is None
    ranks = [row["rank"] for row in table["rows"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    overall = [row["overall"]["value"] for row in table["rows"]]
    assert overall == sorted(overall, reverse=True)
    # one task: only entries covering it, ranked by its main score
    stance_table = server.get("/api/leaderboard", version="0.1.0", task="stance").json()
    values = [row["tasks"]["stance"]["value"] for row in stance_table["rows"]]
    assert values == sorted(values, reverse=True)
    assert partial["id"] in {row["submission_id"] for row in stance_table["rows"]}
    entities_table = server.get("/api/leaderboard", version="0.1.0", task="entities").json()
    assert partial["id"] not in {row["submission_id"] for row in entities_table["rows"]}
    # ties: by the paired test against the leader (p >= 0.05), stated in the table
    leader = stance_table["rows"][0]
    assert leader["tasks"]["stance"]["tied_with_leader"] is False
    assert "paired bootstrap" in stance_table["tie_method"]
    for row in stance_table["rows"][1:]:
        cell = row["tasks"]["stance"]
        assert cell["tied_with_leader"] is (cell["p_value_vs_leader"] >= 0.05)


def test_leaderboard_rejects_unknown_version_and_task(server: LiveServer) -> None:
    response = server.get("/api/leaderboard", version="9.9.9")
    assert response.status_code == 404 and "9.9.9" in response.json()["detail"]
    response = server.get("/api/leaderboard", task="sentiment")
    assert response.status_code == 400 and "valid tasks" in response.json()["detail"]


def test_submission_view_hides_private_fields_from_others(
    server: LiveServer, bundles: Bundles
) -> None:
    token = server.user(unique("owner"))
    view = submit_and_wait(server, token, bundles.archive(unique("private"), noise=0.3))
    public = server.get(f"/api/submissions/{view['id']}").json()
    assert public["owner"] is False
    assert "contact" not in public["meta"]
    assert all("per_type" not in s for s in public["scores"].values())
    assert view["owner"] is True and view["meta"]["contact"] == "synthetic@example.org"
    assert "per_type" in view["scores"]["entities"]
    other = server.user(unique("other"))
    assert server.get(f"/api/submissions/{view['id']}", other).json()["owner"] is False
    assert server.get("/api/submissions/999999").status_code == 404


def test_no_endpoint_reveals_test_items_or_gold_labels(
    server: LiveServer, bundles: Bundles, gold
) -> None:
    token = server.user(unique("prober"))
    view = submit_and_wait(server, token, bundles.archive(unique("probe"), noise=0.5))
    ids = set(test_ids(gold))
    leaks = gold_label_strings(gold)
    texts = [
        server.get(f"/api/submissions/{view['id']}", token).text,
        server.get(f"/api/submissions/{view['id']}").text,
        server.get("/api/leaderboard").text,
        server.get("/").text,
        server.get(f"/submissions/{view['id']}").text,
        server.log(),
    ]
    for text in texts:
        assert not any(row_id in text for row_id in ids), (
            "a test row id (per-item result) was exposed"
        )
        assert not any(leak in text for leak in leaks), "a gold label sequence was exposed"


def test_html_pages_show_rows_cis_and_filters(server: LiveServer, bundles: Bundles) -> None:
    token = server.user(unique("html"))
    name = unique("html-model")
    view = submit_and_wait(server, token, bundles.archive(name, noise=0.2))
    page = server.get("/", version="0.1.0")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert name in page.text
    assert re.search(r"\[\d+\.\d, \d+\.\d\]", page.text), "CIs are shown"
    assert 'data-sort="overall"' in page.text
    assert 'option value="0.2.0"' in page.text  # the version filter lists every configured version
    by_task = server.get("/", version="0.1.0", sort="stance")
    assert 'data-sort="stance"' in by_task.text
    assert server.get("/", sort="nonsense").status_code == 400
    empty = server.get("/", version="0.3.0")
    assert "No scored submissions" in empty.text
    sub_page = server.get(f"/submissions/{view['id']}")
    assert sub_page.status_code == 200 and name in sub_page.text and "scored" in sub_page.text
    form = server.get("/submit")
    assert 'enctype="multipart/form-data"' in form.text and 'name="bundle"' in form.text


def test_html_names_are_escaped(server: LiveServer, bundles: Bundles) -> None:
    token = server.user(unique("xss"))
    view = submit_and_wait(
        server, token, bundles.archive("<script>alert(1)</script>", noise=0.2, seed=7)
    )
    assert view["state"] == "scored"
    page = server.get("/", version="0.1.0").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
