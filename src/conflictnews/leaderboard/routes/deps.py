"""FastAPI dependencies of the leaderboard routes: the app's services, settings and templates, a
read session, and the viewer or the authenticated uploader.

Module level (not inside `create_app`), so that FastAPI resolves the string annotations.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from conflictnews.leaderboard import store
from conflictnews.leaderboard.db import User
from conflictnews.leaderboard.services import Services
from conflictnews.leaderboard.settings import Settings

TOKEN_COOKIE = "cnlb_token"


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_settings(request: Request) -> Settings:
    return get_services(request).settings


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def db_session(request: Request) -> Iterator[Session]:
    """A read session for the request."""
    with get_services(request).db.session() as session:
        yield session


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate(request: Request, token: str | None) -> User | None:
    """The token's user, loaded in a short session (no connection held during the request)."""
    with get_services(request).db.session() as session:
        return store.authenticate(session, token)


def optional_user(request: Request) -> User | None:
    return authenticate(request, bearer(request) or request.cookies.get(TOKEN_COOKIE))


def required_user(request: Request) -> User:
    token = bearer(request)
    if token is None:
        raise HTTPException(
            401,
            "missing token: send 'Authorization: Bearer <token>'",
            {"WWW-Authenticate": "Bearer"},
        )
    user = authenticate(request, token)
    if user is None:
        raise HTTPException(401, "invalid or revoked token", {"WWW-Authenticate": "Bearer"})
    return user


Svc = Annotated[Services, Depends(get_services)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Templates = Annotated[Jinja2Templates, Depends(get_templates)]
DbSession = Annotated[Session, Depends(db_session)]
Viewer = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(required_user)]
