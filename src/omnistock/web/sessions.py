"""Server-side sessions of the console: an opaque random token in an HttpOnly cookie, its hash in the
database with the user and the session's CSRF token. Signing out deletes the row, so a stolen cookie dies
with the session."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from omnistock.store.types import utcnow
from omnistock.web.tables import User, WebSession

COOKIE = "omnistock_session"
# A working day without activity ends the session; an active one is extended as it is used.
IDLE = timedelta(hours=12)
# Extend at most this often, so that reading a page does not write to the database every time.
TOUCH_EVERY = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Opened:
    token: str  # goes into the cookie, never stored
    csrf: str


def open_session(session: Session, user: User, now: datetime | None = None) -> Opened:
    now = now or utcnow()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), user_id=user.id, csrf=csrf, created_at=now,
                           last_seen_at=now, expires_at=now + IDLE))
    # Sessions that ran out are cleared when someone signs in, so the table never grows without bound.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return Opened(token, csrf)


@dataclass(frozen=True)
class Found:
    session_id: int
    user: User
    csrf: str
    stale: bool  # the expiry should be pushed forward (see `touch`)


def find_session(session: Session, token: str | None, now: datetime | None = None) -> Found | None:
    """The live session of a cookie value (one query), or None."""
    if not token:
        return None
    now = now or utcnow()
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.token_hash == _digest(token))).first()
    if row is None:
        return None
    web, user = row
    if web.expires_at <= now or not user.active:
        return None
    return Found(web.id, user, web.csrf, now - web.last_seen_at >= TOUCH_EVERY)


def touch(session: Session, session_id: int, now: datetime | None = None) -> None:
    now = now or utcnow()
    web = session.get(WebSession, session_id)
    if web is not None:
        web.last_seen_at, web.expires_at = now, now + IDLE


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
