"""docs/API.md is generated from the app's OpenAPI schema, every JSON route declares a response
model, and declaring them changed no response: a real server's JSON equals the dicts the store
builds, byte for byte after canonical serialisation (no key added, none dropped, no int turned
float), on the public and the blind track, for the owner and for anyone else."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from conflictnews.leaderboard import store
from conflictnews.leaderboard.apidocs import API_PREFIX, openapi_schema, render_api_reference
from conflictnews.leaderboard.gold import make_key
from conflictnews.leaderboard.server import ROUTERS, create_app
from conflictnews.leaderboard.settings import Settings

from .conftest import Bundles, start_server, unique

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_api_reference_is_current() -> None:
    committed = (REPO_ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    assert committed == render_api_reference(), (
        "regenerate with: python -m conflictnews.leaderboard.apidocs > docs/API.md"
    )


def _router_routes() -> list[APIRoute]:
    """Every route of the app's routers, in registration order (the routers' own APIRoutes: how an
    app exposes included routes differs between FastAPI versions)."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def test_create_app_serves_exactly_the_routers_routes(tmp_path: Path) -> None:
    """create_app only assembles: every operation in the app's OpenAPI document comes from one of
    the routers, in their order, and every router route is in it (none left out, none added)."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", gold="", workers=0))
    served = [
        (path, method.upper())
        for path, item in app.openapi()["paths"].items()
        for method in item
    ]
    declared = [(r.path, m) for r in _router_routes() for m in sorted(r.methods)]
    assert served == declared
    app.state.services.db.dispose()


def test_every_json_route_declares_its_response_model() -> None:
    routes = [r for r in _router_routes() if r.path.startswith(API_PREFIX)]
    assert {r.path for r in routes} >= {"/api/leaderboard", "/api/submissions/{submission_id}"}
    assert [r.path for r in routes if r.response_model is None] == []
    paths = openapi_schema()["paths"]
    for route in routes:
        for method in route.methods:
            ok = next(v for k, v in paths[route.path][method.lower()]["responses"].items() if k.startswith("2"))
            assert ok["content"]["application/json"]["schema"], (route.path, method)
    reference = render_api_reference()
    for name in ("SubmissionView", "LeaderboardView", "TaskScoreView", "ModelHistory", "ErrorDetail"):
        assert f"### {name}" in reference


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def test_responses_are_exactly_the_store_dicts(
    tmp_path: Path, releases: Path, bundles: Bundles
) -> None:
    key = tmp_path / "key-0.2.0.json"
    make_key(releases / "0.2.0", key)  # 0.2.0 is the blind track here, 0.1.0 the public one
    server = start_server("sqlite", tmp_path / "db", f"{releases / '0.1.0'}{os.pathsep}{key}")
    try:
        owner = server.user(unique("api-owner"))
        other = server.user(unique("api-other"))
        ids = []
        for version in ("0.1.0", "0.2.0"):
            response = server.post(owner, bundles.archive(unique("api-model"), version=version))
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
            assert server.wait(ids[-1], owner)["state"] == "scored"
        blind = frozenset({"0.2.0"})
        with server.db.session() as session:
            viewers = {None: None, owner: store.authenticate(session, owner), other: store.authenticate(session, other)}
            for submission_id in ids:
                for token, viewer in viewers.items():
                    expected = store.submission_dict(session, submission_id, viewer, blind)
                    got = server.get(f"/api/submissions/{submission_id}", token)
                    assert got.status_code == 200
                    assert _canonical(got.json()) == _canonical(expected), (submission_id, token)
        tracks = {
            v: server.get("/api/leaderboard", version=v).json()["track"] for v in ("0.1.0", "0.2.0")
        }
        assert tracks == {"0.1.0": "public", "0.2.0": "blind"}
        missing = server.get("/api/submissions/999999")
        assert missing.status_code == 404 and set(missing.json()) == {"detail"}
    finally:
        server.close()
