"""Signing in and out. The sign-in form is protected by a double-submit token (there is no session yet);
every later form by the session's own CSRF token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from omnistock.web.context import (
    CSRF_FIELD,
    Form,
    LoginRequired,
    Post,
    language_of,
    read_form,
    same_token,
    visitor,
)
from omnistock.web.render import render
from omnistock.web.routing import console_router, safe_next
from omnistock.web.sessions import COOKIE, close_session, open_session
from omnistock.web.users import sign_in

router = console_router()
LOGIN_CSRF = "omnistock_login_csrf"


def _login_page(request: Request, *, next_url: str, username: str = "", error: str | None = None,
                status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", {"login_csrf": token, "next_url": next_url, "username": username,
                                              "error": error}, status=status)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="lax", path="/login",
                        secure=request.url.scheme == "https")
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    try:
        visitor(request)
        return RedirectResponse(safe_next(next), status_code=303)
    except LoginRequired:
        return _login_page(request, next_url=safe_next(next))


@router.post("/login")
def login(request: Request, form: Annotated[Form, Depends(read_form)]) -> Response:
    request.state.language = language_of(request)
    _ = request.state.language.text.gettext
    next_url = safe_next(form.get("next"))
    username = form.get("username")
    if not same_token(form.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF) or ""):
        return _login_page(request, next_url=next_url, username=username, status=403,
                           error=_("The sign-in form was out of date. Please sign in again."))
    password = form.raw("password")
    db = request.app.state.db
    with db.transaction() as session:
        outcome = sign_in(session, username, password)
        opened = open_session(session, outcome.user) if outcome.user is not None else None
    if opened is None:
        if outcome.locked_until is not None:
            error = _("Too many failed attempts. This account is locked until %(time)s.",
                      time=request.state.language.fmt.time(outcome.locked_until))
        else:
            error = _("Wrong username or password.")
        return _login_page(request, next_url=next_url, username=username, error=error, status=401)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(COOKIE, opened.token, httponly=True, samesite="lax", secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_CSRF, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, post: Post) -> Response:
    with request.app.state.db.transaction() as session:
        close_session(session, request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
