"""Channels: the list with sync state, connecting a platform (a form per kind and a test of the
connection), and a channel's page with health, listings mapping, unmapped items and policies (its listing import
is the onboarding one: `routes.onboarding`)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from omnistock.api.deps import run
from omnistock.channels.base import ChannelAdapter
from omnistock.channels.registry import PASSIVE_KINDS, adapter_class, kinds
from omnistock.domain.access import Permission
from omnistock.domain.allocation import PolicyKind, parse_policy
from omnistock.errors import ChannelError, Invalid, OmnistockError
from omnistock.services import channels as channel_service
from omnistock.services import secrets
from omnistock.services.lookup import channel_by_code
from omnistock.store.types import utcnow
from omnistock.sync import policies
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.listings import ListingSpec, create_listing, list_listings
from omnistock.web.context import Post, Seen, Visitor, posted_values, require
from omnistock.web.forms import Errors, optional_text, whole
from omnistock.web.reads import channel_forms, channel_page
from omnistock.web.reads.health import channel_sync, channels_health
from omnistock.web.render import render
from omnistock.web.routing import console_router
from omnistock.web.wording import platform_problem

router = console_router()
POLICY_FIELDS = ("buffer", "cap", "percent", "quantity", "threshold")


@router.get("/channels")
def channel_list(request: Request, who: Seen) -> Response:
    with request.app.state.db.reading() as session:
        return render(request, "channels.html", {"channels": channels_health(session, who.principal, utcnow()),
                                                 "kinds": kinds()})


def _new_page(request: Request, kind: str, *, errors: Errors | None = None, test: dict[str, Any] | None = None,
              status: int = 200) -> Response:
    return render(request, "channel_new.html", {
        "kind": kind, "kinds": kinds(), "fields": channel_forms.settings_fields(kind), "errors": errors or Errors(),
        "posted": posted_values(request), "test": test, "testable": kind not in PASSIVE_KINDS}, status=status)


def _call_platform(adapter: ChannelAdapter, who: Visitor) -> dict[str, Any]:
    """The adapter's cheapest read (its `test_connection`), as the result the page shows."""
    try:
        adapter.test_connection()
        return {"ok": True, "message": who.language.text.gettext("Connected: the platform accepted the settings.")}
    except ChannelError as exc:
        return {"ok": False, "message": platform_problem(exc, who.language.text)}


@router.get("/channels/new")
def channel_new(request: Request, who: Seen, kind: str = "shopify") -> Response:
    require(who, Permission.CONFIG_WRITE)
    return _new_page(request, kind)


@router.post("/channels/new/test")
def channel_new_test(request: Request, post: Post) -> Response:
    """Try the settings typed in the connect form before anything is saved: the adapter is built from the
    form's values in memory, called once, and closed; no channel, secret or audit entry is written."""
    who, form = post.visitor, post.form
    require(who, Permission.CONFIG_WRITE)
    request.state.posted = form
    kind, text = form.get("kind"), who.language.text
    fields = channel_forms.settings_fields(kind)
    errors = Errors("kind", *[f"settings.{f.name}" for f in fields])
    result: dict[str, Any]
    if kind in PASSIVE_KINDS:
        result = {"ok": False, "message": text.gettext("This kind of channel has no platform to call.")}
    else:
        try:
            clean, _secret = channel_service.validate_settings(kind, channel_forms.settings_from_form(
                fields, form.values()))
        except Invalid as exc:
            errors.take(exc, text)
            result = {"ok": False, "message": "; ".join(dict.fromkeys(errors.values()))}
        else:
            adapter = adapter_class(kind)(clean)
            try:
                result = _call_platform(adapter, who)
            finally:
                adapter.close()
    if request.headers.get("hx-request") == "true":
        return render(request, "parts/test_result.html", {"test": result})
    return _new_page(request, kind, errors=errors, test=result, status=422 if errors else 200)


@router.post("/channels/new")
def channel_create(request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CONFIG_WRITE)
    request.state.posted = form
    kind = form.get("kind")
    fields = channel_forms.settings_fields(kind)
    errors = Errors("code", "name", "kind", *[f"settings.{f.name}" for f in fields])
    code = form.get("code")
    if not code:
        errors["code"] = who.language.text.gettext("Required.")
        return _new_page(request, kind, errors=errors, status=422)
    settings = channel_forms.settings_from_form(fields, form.values())
    config = request.app.state.settings
    try:
        run(request.app.state.db, lambda session: channel_service.create_channel(
            session, config, code=code, kind=kind, name=form.get("name") or None, settings=settings,
            actor=who.principal.name))
    except OmnistockError as exc:
        errors.take(exc, who.language.text)
        return _new_page(request, kind, errors=errors, status=exc.status)
    return RedirectResponse(f"/channels/{code}?done=created", status_code=303)


def _page(request: Request, who: Visitor, code: str, *, errors: dict[str, Errors] | None = None,
          test: dict[str, Any] | None = None, status: int = 200) -> Response:
    cursor = request.query_params.get("cursor") or None
    with request.app.state.db.reading() as session:
        channel = channel_by_code(session, code, field="code", principal=who.principal)
        sync = channel_sync(session, channel, utcnow())
        values = {
            "channel": channel, "health": sync.health, "state": sync.state,
            "settings": secrets.masked(channel.settings),
            "listings": list_listings(session, code, who.principal, limit=50, cursor=cursor), "cursor": cursor,
            "unmapped": channel_page.unmapped(session, channel),
            "policy": channel_page.channel_policy(session, channel),
            "overrides": channel_page.overrides(session, channel), "policy_kinds": [k.value for k in PolicyKind],
            "errors": errors or {}, "test": test, "done": request.query_params.get("done"),
            "posted": posted_values(request),
            "prefill": request.query_params.get("map") or ""}
        return render(request, "channel.html", values, status=status)


@router.get("/channels/{code}")
def channel_detail(code: str, request: Request, who: Seen) -> Response:
    return _page(request, who, code)


@router.get("/channels/{code}/parts/health")
def health_part(code: str, request: Request, who: Seen) -> Response:
    """The health figures alone, polled by the channel's page as the dashboard polls its sync table."""
    with request.app.state.db.reading() as session:
        channel = channel_by_code(session, code, field="code", principal=who.principal)
        sync = channel_sync(session, channel, utcnow())
        return render(request, "parts/channel_health.html", {"channel": channel, "health": sync.health,
                                                              "state": sync.state})


@router.post("/channels/{code}/test")
def channel_test(code: str, request: Request, post: Post) -> Response:
    """Call the platform with the stored settings (outside any transaction: it is a network call)."""
    who = post.visitor
    require(who, Permission.CONFIG_WRITE)
    with request.app.state.db.reading() as session:
        channel = channel_by_code(session, code, field="code", principal=who.principal)
    if not has_adapter(channel):
        result = {"ok": False, "message": who.language.text.gettext("This kind of channel has no platform to call.")}
    else:
        result = _call_platform(adapter_for(channel, request.app.state.settings), who)
    if request.headers.get("hx-request") == "true":
        return render(request, "parts/test_result.html", {"test": result})
    return _page(request, who, code, test=result)


@router.post("/channels/{code}/listings")
def listing_add(code: str, request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CONFIG_WRITE)
    request.state.posted = form
    text = who.language.text
    errors = Errors("sku", "external_id", "external_sku", "pack_size")
    for name in ("sku", "external_id"):
        if not form.get(name):
            errors[name] = text.gettext("Required.")
    pack = whole(form, "pack_size", text, errors, required=False, default=1)
    external_sku = optional_text(form, "external_sku", text, errors, max_length=128)
    if not errors:
        spec = ListingSpec(form.get("sku"), form.get("external_id"), external_sku, pack or 1)
        try:
            run(request.app.state.db, lambda session: create_listing(session, code, spec, who.principal))
            return RedirectResponse(f"/channels/{code}?done=listing", status_code=303)
        except OmnistockError as exc:
            if exc.status == 403:
                raise
            errors.take(exc, text)
    return _page(request, who, code, errors={"listing": errors}, status=422)


def _policy_from(form: Any, errors: Errors, who: Visitor) -> dict[str, Any]:
    raw: dict[str, Any] = {"kind": form.get("kind") or "shared"}
    for name in POLICY_FIELDS:
        if name == "percent":
            if form.get(name):
                raw[name] = form.get(name)
            continue
        value = whole(form, name, who.language.text, errors, required=False)
        if value is not None:
            raw[name] = value
    return raw


@router.post("/channels/{code}/policy")
def policy_set(code: str, request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CONFIG_WRITE)
    request.state.posted = form
    errors = Errors("kind", "sku", "reason", *POLICY_FIELDS)
    raw = _policy_from(form, errors, who)
    if not errors:
        try:
            policy = parse_policy(raw)

            def action(session: Session) -> dict[str, Any]:
                return policies.set_policy(session, code, policy, who.principal, sku_code=form.get("sku") or None,
                                           reason=form.get("reason") or None)
            run(request.app.state.db, action)
            return RedirectResponse(f"/channels/{code}?done=policy", status_code=303)
        except OmnistockError as exc:
            if exc.status == 403:
                raise
            errors.take(exc, who.language.text)
    return _page(request, who, code, errors={"policy": errors}, status=422)
