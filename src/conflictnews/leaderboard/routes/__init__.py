"""The leaderboard's routes, one `APIRouter` per concern; `server.create_app` includes them in the
order of `ROUTERS` in server.py (that order is the OpenAPI document's, hence docs/API.md's).

Routers reach the shared state through the dependencies in `deps.py` (`request.app.state`), so a
router module holds no per-app variables and can be read, and tested, on its own.
"""
