"""Request dependencies: the database, the caller, and permission checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from omnistock.config import Settings
from omnistock.domain.access import Permission, Principal
from omnistock.errors import Forbidden, Unauthorized
from omnistock.services.tokens import authenticate
from omnistock.store.db import Database

T = TypeVar("T")
RETRIES = 5


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def current_principal(request: Request, db: Annotated[Database, Depends(get_db)]) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    with db.reading() as session:
        return authenticate(session, token.strip())


def require(permission: Permission) -> Callable[[Principal], Principal]:
    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.can(permission):
            raise Forbidden(f"role {principal.role.value} may not do this (needs {permission.value})")
        return principal
    return check


Reader = Annotated[Principal, Depends(require(Permission.READ))]
DB = Annotated[Database, Depends(get_db)]


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01") or (isinstance(exc, OperationalError) and "locked" in str(exc.orig))


def run(db: Database, action: Callable[[Session], T]) -> T:
    """Run one business action in its own transaction; retry it when the database chose it as the victim of a
    deadlock or serialization conflict (safe: nothing of the failed attempt was committed)."""
    for attempt in range(RETRIES):
        try:
            with db.transaction() as session:
                return action(session)
        except IntegrityError:
            raise
        except DBAPIError as exc:
            if attempt == RETRIES - 1 or not _retryable(exc):
                raise
    raise AssertionError("unreachable")

