"""Users and their API tokens: only a token's sha256 is stored; a revoked token authenticates nobody."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conflictnews.io import ConflictNewsError
from conflictnews.leaderboard.db import Database, Token, User

TOKEN_PREFIX = "cnlb_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    db: Database, name: str, email: str | None = None, is_baseline: bool = False
) -> tuple[User, str]:
    """Create `name` if new and issue it a fresh API token; only the token's sha256 is stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise ConflictNewsError(f"user name must be 1-80 characters, got {name!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session, session.begin():
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            user = User(name=name, email=email, is_baseline=is_baseline)
            session.add(user)
            session.flush()
        elif email:
            user.email = email
        session.add(Token(user_id=user.id, token_sha256=hash_token(token)))
    return user, token


def authenticate(session: Session, token: str | None) -> User | None:
    """The user owning `token` (not revoked), or None."""
    if not token:
        return None
    return session.scalar(
        select(User)
        .join(Token)
        .where(Token.token_sha256 == hash_token(token), Token.revoked.is_(False))
    )


def revoke_tokens(db: Database, name: str) -> int:
    with db.write() as session, session.begin():
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise ConflictNewsError(f"no user {name!r}")
        result = session.execute(update(Token).where(Token.user_id == user.id).values(revoked=True))
        return result.rowcount
