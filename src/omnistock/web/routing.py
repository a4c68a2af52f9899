"""The console's route class: a page that needs a session sends the browser to /login, and an error
becomes a page in the visitor's language instead of a JSON problem."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from omnistock.errors import Invalid, NotFound, OmnistockError
from omnistock.web.context import LoginRequired, language_of
from omnistock.web.problems import headline
from omnistock.web.render import render
from omnistock.web.wording import error_detail


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_url(here: str) -> str:
    return "/login" if safe_next(here) == "/" else f"/login?next={quote(safe_next(here), safe='')}"


def to_login(request: Request) -> Response:
    if request.headers.get("hx-request") == "true":
        # A polled fragment: htmx loads the sign-in page in full, and comes back to the page it was on.
        current = urlsplit(request.headers.get("hx-current-url", ""))
        page = current.path + (f"?{current.query}" if current.query else "")
        return Response(status_code=204, headers={"HX-Redirect": _login_url(page)})
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(_login_url(here) if request.method == "GET" else "/login", status_code=303)


def error_page(request: Request, exc: OmnistockError) -> Response:
    if not hasattr(request.state, "language"):
        request.state.language = language_of(request)
    text = request.state.language.text
    return render(request, "error.html", {"headline": headline(exc, text), "detail": error_detail(exc, text)},
                  status=exc.status)


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return to_login(request)
            except OmnistockError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                # Only malformed paths or query strings reach here (forms are parsed by the console itself).
                where = [e.get("loc", ()) for e in exc.errors()]
                if any(loc and loc[0] == "path" for loc in where):
                    return error_page(request, NotFound("no such page"))
                return error_page(request, Invalid("the address has a value the console cannot read"))
        return guarded


def console_router() -> APIRouter:
    """A router whose pages redirect to /login and render errors as pages; kept out of the OpenAPI schema."""
    return APIRouter(route_class=ConsoleRoute, include_in_schema=False)
