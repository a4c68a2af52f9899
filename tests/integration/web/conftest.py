"""Console helpers: users, a browser-like HTTP client that signs in, and the CSRF token of a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import event

from omnistock.store.db import Database
from omnistock.web import users
from omnistock.web.users import create_user
from support.server import LiveServer

PASSWORD = "correct-horse-1"


class Backend(Protocol):
    """What these helpers need of the suite's backend fixture (tests/conftest.py)."""

    db: Database


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes most of a second per hash on a busy CI machine; the tests sign in
    dozens of times, so they hash at the lowest cost (the code path is the same)."""
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def make_user(backend: Backend, username: str, role: str = "admin", *, locations: list[str] | None = None,
              channels: list[str] | None = None) -> None:
    with backend.db.transaction() as session:
        create_user(session, username=username, password=PASSWORD, role=role, locations=locations,
                    channels=channels, actor="test")


def browser(server: LiveServer, *, lang: str | None = None) -> httpx.Client:
    headers = {"Accept-Language": lang} if lang else {}
    return httpx.Client(base_url=server.url, follow_redirects=False, timeout=60, headers=headers)


def try_sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    match = CSRF_RE.search(page.text)
    assert match, page.text
    return client.post("/login", data={"csrf": match.group(1), "username": username, "password": password,
                                       "next": "/"})


@contextmanager
def signed_in(server: LiveServer, username: str, **kwargs: Any) -> Iterator[httpx.Client]:
    with browser(server, **kwargs) as client:
        response = try_sign_in(client, username)
        assert response.status_code == 303, response.text
        yield client


def csrf_of(client: httpx.Client, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF_RE.search(page.text)
    assert match
    return match.group(1)


@contextmanager
def counted_queries(backend: Backend) -> Iterator[list[str]]:
    """The SQL statements run while the block runs (transaction control and PRAGMAs left out)."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if word not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA"):
            seen.append(statement)

    event.listen(backend.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(backend.db.engine, "before_cursor_execute", note)
