"""Signing in and out of the console over real HTTP: redirects, the session cookie, lock-out."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from conftest import Backend
from omnistock.web.tables import User, WebSession
from support.server import LiveServer

from .conftest import CSRF_RE, browser, csrf_of, make_user, signed_in, try_sign_in


@pytest.mark.parametrize("path", ["/", "/skus", "/skus/A", "/orders", "/channels", "/care", "/reports"])
def test_pages_send_a_stranger_to_sign_in(clean: Backend, server: LiveServer, path: str) -> None:
    with browser(server) as client:
        response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_sign_in_remembers_where_the_visitor_was_going(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "ops")
    with browser(server) as client:
        assert client.get("/skus?q=tea").headers["location"] == "/login?next=%2Fskus%3Fq%3Dtea"
        page = client.get("/login?next=/skus%3Fq%3Dtea")
        found = CSRF_RE.search(page.text)
        assert found is not None
        token = found.group(1)
        done = client.post("/login", data={"csrf": token, "username": "ops", "password": "correct-horse-1",
                                           "next": "/skus?q=tea"})
        assert done.headers["location"] == "/skus?q=tea"


def test_a_polled_fragment_asks_htmx_for_a_full_page_sign_in(clean: Backend, server: LiveServer) -> None:
    with browser(server) as client:
        response = client.get("/parts/sync", headers={"HX-Request": "true",
                                                      "HX-Current-URL": f"{server.url}/orders?status=held"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login?next=%2Forders%3Fstatus%3Dheld"


def test_the_session_cookie_is_http_only_and_same_site(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "ops")
    with browser(server) as client:
        response = try_sign_in(client, "ops")
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = [v for k, v in response.headers.multi_items() if k == "set-cookie" and "omnistock_session=" in v][0]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert client.get("/").status_code == 200
    with clean.db.reading() as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(stored) == 1 and value not in stored  # only a hash of the cookie is kept


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "ops")
    with browser(server) as client:
        wrong = try_sign_in(client, "ops", "not-the-password")
        unknown = try_sign_in(client, "nobody", "not-the-password")
        assert wrong.status_code == unknown.status_code == 401
        assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
        assert client.get("/").status_code == 303


def test_repeated_failures_lock_the_account_even_for_the_right_password(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "ops")
    with browser(server, lang="en") as client:
        for _ in range(4):
            assert try_sign_in(client, "ops", "guess").status_code == 401
        fifth = try_sign_in(client, "ops", "guess")
        assert fifth.status_code == 401 and "locked" in fifth.text
        right = try_sign_in(client, "ops")
        assert right.status_code == 401 and "locked" in right.text
        assert client.get("/").status_code == 303
    with clean.db.reading() as session:
        user = session.scalar(select(User).where(User.username == "ops"))
        assert user is not None and user.locked_until is not None


def test_a_good_sign_in_clears_earlier_failures(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "ops")
    with browser(server) as client:
        for _ in range(4):
            try_sign_in(client, "ops", "guess")
        assert try_sign_in(client, "ops").status_code == 303
    with clean.db.reading() as session:
        assert session.scalar(select(User.failed_attempts).where(User.username == "ops")) == 0


def test_the_sign_in_form_needs_its_own_token(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "ops")
    with browser(server) as client:
        client.get("/login")
        forged = client.post("/login", data={"csrf": "made-up", "username": "ops", "password": "correct-horse-1"})
        assert forged.status_code == 403
        assert client.get("/").status_code == 303


def test_signing_out_ends_the_session_on_the_server(clean: Backend, server: LiveServer) -> None:
    make_user(clean, "ops")
    with signed_in(server, "ops") as client:
        stolen = dict(client.cookies)
        out = client.post("/logout", data={"csrf": csrf_of(client)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
    with httpx.Client(base_url=server.url, cookies=stolen, follow_redirects=False) as thief:
        assert thief.get("/").status_code == 303
