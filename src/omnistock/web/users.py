"""People who sign in: created with an argon2 password hash, signed in with a lock-out after repeated
failures, and turned into the same `Principal` an API token gives, so the console obeys the same rules."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal, Role
from omnistock.errors import Conflict, Invalid
from omnistock.services import audit
from omnistock.store.tables import Channel, Location
from omnistock.store.types import utcnow
from omnistock.web.tables import User

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}$")
MIN_PASSWORD = 8
# Five wrong passwords lock the account for a quarter of an hour: slow enough to stop guessing, short
# enough that a person who mistyped is not stuck until an administrator helps.
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified against when the username is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("omnistock-no-such-user")


def create_user(session: Session, *, username: str, password: str, role: str,
                locations: Sequence[str] | None = None, channels: Sequence[str] | None = None,
                actor: str) -> User:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise Invalid("a username is 1–64 letters, digits, '.', '_', '@' or '-'", field="username")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password has at least {MIN_PASSWORD} characters", field="password")
    try:
        Role(role)
    except ValueError as exc:
        raise Invalid(f"role must be one of {', '.join(r.value for r in Role)}", field="role") from exc
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists already", field="username")
    for field, codes, table in (("location", locations, Location), ("channel", channels, Channel)):
        if codes:
            known = set(session.scalars(select(table.code).where(table.code.in_(codes))))
            missing = sorted(set(codes) - known)
            if missing:
                raise Invalid(f"unknown {field}: {', '.join(missing)}", field=field)
    user = User(username=username, password_hash=_hasher.hash(password), role=role,
                scope_locations=sorted(set(locations)) if locations else None,
                scope_channels=sorted(set(channels)) if channels else None, failed_attempts=0)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", entity=f"user:{username}",
                 after={"username": username, "role": role, "locations": user.scope_locations,
                        "channels": user.scope_channels})
    return user


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt. `user` is set only on success."""

    user: User | None
    locked_until: datetime | None = None


def sign_in(session: Session, username: str, password: str, now: datetime | None = None) -> SignIn:
    """Check a password. A locked account refuses even the right password until the lock runs out; the
    failure counter is kept in the same transaction, so the caller must commit a failed attempt too."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username.strip()).with_for_update())
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return SignIn(None)
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(None, user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILURES:
            user.locked_until, user.failed_attempts = now + LOCK_FOR, 0
            audit.record(session, actor=f"user:{user.username}", action="user.locked", entity=f"user:{user.username}",
                         after={"locked_until": user.locked_until.isoformat()})
            return SignIn(None, user.locked_until)
        return SignIn(None)
    user.failed_attempts, user.locked_until, user.last_sign_in_at = 0, None, now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return SignIn(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def principal_of(user: User) -> Principal:
    """The caller the console acts as: same roles and scopes as an API token of that person."""
    return Principal(name=f"user:{user.username}", role=Role(user.role),
                     locations=frozenset(user.scope_locations) if user.scope_locations else None,
                     channels=frozenset(user.scope_channels) if user.scope_channels else None)
