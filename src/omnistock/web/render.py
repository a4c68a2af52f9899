"""Rendering console pages: one Jinja2 environment, gettext and locale formats in every template, and the
headers every page carries (no caching of private pages, no framing, a strict content security policy)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from omnistock.web import i18n, labels, wording
from omnistock.web.context import CSRF_FIELD, Language, Visitor, language_of

_env = Environment(loader=PackageLoader("omnistock.web", "templates"), autoescape=select_autoescape(("html", "svg")),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.filters["pretty_json"] = lambda value: json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
_env.filters["zip_pairs"] = lambda values: [(v, v) for v in values]
_env.filters["label_pairs"] = lambda values, label: [(v, label(v)) for v in values]
_env.filters["dict_without"] = lambda d, *keys: {k: v for k, v in d.items() if k not in keys and v is not None}
_env.filters["compact_json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Scripts and styles come from our own /static only; htmx is told not to inject its inline style.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}
YEAR = 365 * 24 * 3600
# Pages of features that may or may not be installed add their menu entries here (href, label for a Text).
menu_entries: list[Callable[[i18n.Text], tuple[str, str]]] = []
# Menu entries a person limited to some stores or channels does not get (their pages refuse such a person).
whole_business_pages: set[str] = set()


def menu_extras(text: i18n.Text) -> list[tuple[str, str]]:
    return [entry(text) for entry in menu_entries]


class Links:
    """URLs of the current page with some query parameters changed (filters, pages, language)."""

    def __init__(self, request: Request) -> None:
        self.path = request.url.path
        self.query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]

    def with_(self, **changes: Any) -> str:
        kept = [(k, v) for k, v in self.query if k not in changes]
        kept += [(k, str(v)) for k, v in changes.items() if v not in (None, "")]
        return self.path + ("?" + urlencode(kept) if kept else "")

    def lang(self, tag: str) -> str:
        return self.path + "?" + urlencode([*self.query, ("lang", tag)])


def render(request: Request, template: str, values: dict[str, Any] | None = None, *, status: int = 200,
           visitor: Visitor | None = None) -> HTMLResponse:
    language: Language = getattr(request.state, "language", None) or language_of(request)
    visitor = visitor or getattr(request.state, "visitor", None)
    context = {
        "request": request, "visitor": visitor, "lang": language, "fmt": language.fmt,
        "_": language.text.gettext, "ngettext": language.text.ngettext,
        "pgettext": language.text.pgettext, "links": Links(request),
        "csrf_field": CSRF_FIELD, "csrf": visitor.csrf if visitor else "", "locales": i18n.TAGS,
        **labels.for_templates(language.text, menu_extras(language.text)),
        "alert_text": wording.AlertWords(language.text, language.fmt),
        "hold_reason": lambda reason: wording.hold_reason(language.text, reason),
        "hold_cause": lambda reason: wording.hold_cause(language.text, reason),
        "path": request.url.path, "htmx": request.headers.get("hx-request") == "true",
        "whole_business_pages": whole_business_pages,
        **(values or {}),
    }
    response = HTMLResponse(_env.get_template(template).render(context), status_code=status, headers=HEADERS)
    if language.remember:
        response.set_cookie(i18n.COOKIE, language.tag, max_age=YEAR, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response
