"""Who is asking and in which language: the signed-in visitor of a console request, its form, and the
CSRF check every POST passes before anything is done."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from omnistock.config import Settings
from omnistock.domain.access import Permission, Principal
from omnistock.errors import Forbidden, Invalid
from omnistock.store.db import Database
from omnistock.web import i18n
from omnistock.web.sessions import COOKIE, find_session, touch

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """No live session: the console sends the browser to /login."""


class CsrfRefused(Forbidden):
    def __init__(self) -> None:
        super().__init__("this form is out of date or was not sent by the console; reload the page and try again",
                         field=CSRF_FIELD)


@dataclass(frozen=True)
class Language:
    locale: str
    remember: bool
    text: i18n.Text
    fmt: i18n.Formats

    @property
    def tag(self) -> str:
        return i18n.TAGS[self.locale]


def language_of(request: Request) -> Language:
    choice = i18n.choose(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE),
                         request.headers.get("accept-language"))
    settings: Settings = request.app.state.settings
    return Language(choice.locale, choice.remember, i18n.Text(choice.locale),
                    i18n.Formats(choice.locale, settings.zone))


@dataclass(frozen=True)
class Visitor:
    """A signed-in person and the language of this request."""

    username: str
    principal: Principal
    csrf: str
    language: Language

    def can(self, permission: Permission | str) -> bool:
        return self.principal.can(Permission(permission))


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def visitor(request: Request) -> Visitor:
    """The signed-in visitor, or LoginRequired. One read query; a write only every few minutes to extend
    the session."""
    from omnistock.web.users import principal_of

    language = language_of(request)
    request.state.language = language
    db = database(request)
    with db.reading() as session:
        found = find_session(session, request.cookies.get(COOKIE))
    if found is None:
        raise LoginRequired()
    if found.stale:
        with db.transaction() as session:
            touch(session, found.session_id)
    seen = Visitor(found.user.username, principal_of(found.user), found.csrf, language)
    request.state.visitor = seen
    return seen


@dataclass(frozen=True)
class Form:
    """A posted urlencoded form; repeated fields keep every value."""

    pairs: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.pairs:
            if key == name:
                return value.strip()
        return default

    def raw(self, name: str) -> str:
        """The value exactly as typed (passwords keep their spaces)."""
        return next((value for key, value in self.pairs if key == name), "")

    def getlist(self, name: str) -> list[str]:
        return [value.strip() for key, value in self.pairs if key == name and value.strip()]

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)

    def values(self) -> dict[str, str]:
        return {key: value for key, value in self.pairs}


async def read_form(request: Request) -> Form:
    """The urlencoded body of a form (the import forms, which send files, are read by `web.uploads`)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", ""):
        raise Invalid("the console accepts urlencoded forms only", field="body")
    body = await request.body()
    try:
        return Form(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise Invalid("the form is not UTF-8", field="body") from exc


def posted_values(request: Request) -> dict[str, str]:
    """What the visitor typed in the form being shown again (after an error or to confirm), else nothing."""
    form = getattr(request.state, "posted", None)
    return form.values() if isinstance(form, Form) else {}


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


@dataclass(frozen=True)
class Posted:
    """A POST from a signed-in visitor whose CSRF token matched."""

    visitor: Visitor
    form: Form


def posted(request: Request, who: Annotated[Visitor, Depends(visitor)],
           form: Annotated[Form, Depends(read_form)]) -> Posted:
    token = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not same_token(token, who.csrf):
        raise CsrfRefused()
    return Posted(who, form)


def require(who: Visitor, *permissions: Permission) -> None:
    """Refuse a change the visitor's role does not allow (as the API's `require` does for tokens)."""
    missing: Iterable[Permission] = [p for p in permissions if not who.principal.can(p)]
    for permission in missing:
        raise Forbidden(f"role {who.principal.role.value} may not do this (needs {permission.value})")


def whole_business(who: Visitor) -> None:
    """Refuse a person limited to some stores or channels (a store manager): the catalogue, imports, backups and
    rollout are the whole business's, as the API refuses them to a scoped token."""
    if who.principal.scoped:
        raise Forbidden("the catalogue and data imports are shared by every store; a person limited to some stores "
                        "or channels cannot use them")


Seen = Annotated[Visitor, Depends(visitor)]
Post = Annotated[Posted, Depends(posted)]
