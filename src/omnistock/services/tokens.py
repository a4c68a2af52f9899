"""API tokens: shown once at creation, stored as a SHA-256 hash (they are long random strings, so a fast hash
is safe; passwords get argon2 elsewhere)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal, Role
from omnistock.errors import Invalid, Unauthorized
from omnistock.services import audit
from omnistock.store.tables import ApiToken, Channel, Location

PREFIX = "os_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str, role: str, locations: Sequence[str] | None = None,
                 channels: Sequence[str] | None = None, actor: str) -> tuple[ApiToken, str]:
    try:
        Role(role)
    except ValueError as exc:
        raise Invalid(f"role must be one of {', '.join(r.value for r in Role)}", field="role") from exc
    if not name.strip():
        raise Invalid("name cannot be empty", field="name")
    for field, codes, table in (("locations", locations, Location), ("channels", channels, Channel)):
        if codes:
            known = set(session.scalars(select(table.code).where(table.code.in_(codes))))
            missing = sorted(set(codes) - known)
            if missing:
                raise Invalid(f"unknown {field}: {', '.join(missing)}", field=field)
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name.strip(), role=role, token_hash=_digest(token),
                   scope_locations=list(locations) if locations else None,
                   scope_channels=list(channels) if channels else None)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="token.create", entity=f"token:{row.id}",
                 after={"name": row.name, "role": role, "locations": row.scope_locations,
                        "channels": row.scope_channels})
    return row, token


def authenticate(session: Session, token: str) -> Principal:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked:
        raise Unauthorized("unknown or revoked token")
    return Principal(name=f"token:{row.name}", role=Role(row.role),
                     locations=frozenset(row.scope_locations) if row.scope_locations else None,
                     channels=frozenset(row.scope_channels) if row.scope_channels else None)
