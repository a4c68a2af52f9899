"""Rollout of each channel in the console: its mode (shadow pushes nothing, pilot pushes only its SKUs, live
pushes everything; switching is confirmed first and audited by `sync.rollout.set_mode`), the comparison with
what the platform shows, and the pilot report whose differences are explained before going live."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from omnistock.api.deps import run
from omnistock.domain.access import Permission
from omnistock.errors import ChannelError, OmnistockError
from omnistock.services.lookup import channel_by_code
from omnistock.sync import rollout
from omnistock.web.context import Post, Seen, Visitor, posted_values, require, whole_business
from omnistock.web.forms import Errors, required_text
from omnistock.web.problems import field_message
from omnistock.web.reads import onboarding as reads
from omnistock.web.render import render
from omnistock.web.routing import console_router
from omnistock.web.wording import platform_problem

router = console_router()
SKU_LIST = re.compile(r"[\s,，;；、]+")  # pilot SKUs typed one per line, or separated by commas


@router.get("/onboarding/rollout")
def rollout_list(request: Request, who: Seen) -> Response:
    whole_business(who)
    with request.app.state.db.reading() as session:
        return render(request, "onboarding/rollout.html", {"channels": reads.channel_modes(session)})


def _page(request: Request, who: Visitor, code: str, *, errors: dict[str, Errors] | None = None,
          confirm: bool = False, problem: str | None = None, status: int = 200) -> Response:
    whole_business(who)
    with request.app.state.db.reading() as session:
        channel = channel_by_code(session, code, field="code", principal=who.principal)
        values: dict[str, Any] = {
            "channel": channel, "report": rollout.report(session, code, who.principal), "modes": rollout.MODES,
            "errors": errors or {}, "confirm": confirm, "problem": problem, "posted": posted_values(request),
            "done": request.query_params.get("done"), "seen": request.query_params.get("seen")}
        return render(request, "onboarding/rollout_channel.html", values, status=status)


@router.get("/onboarding/rollout/{code}")
def rollout_page(code: str, request: Request, who: Seen) -> Response:
    return _page(request, who, code)


@router.post("/onboarding/rollout/{code}/mode")
def mode_post(code: str, request: Request, post: Post) -> Response:
    who, form = post.visitor, post.form
    require(who, Permission.CONFIG_WRITE)
    whole_business(who)
    request.state.posted = form
    text = who.language.text
    errors = Errors("mode", "pilot_skus", "reason")
    mode = form.get("mode")
    if mode not in rollout.MODES:
        errors["mode"] = text.gettext("Choose a mode.")
    pilot = [c for c in SKU_LIST.split(form.get("pilot_skus")) if c] if mode == "pilot" else []
    reason = required_text(form, "reason", text, errors)
    if errors:
        return _page(request, who, code, errors={"mode": errors}, status=422)
    if form.get("confirmed") != "1":
        return _page(request, who, code, errors={"mode": errors}, confirm=True)

    def action(session: Session) -> dict[str, Any]:
        return rollout.set_mode(session, code, mode, pilot, reason, who.principal)
    try:
        run(request.app.state.db, action)
    except OmnistockError as exc:
        if exc.field and exc.field.startswith("pilot_skus["):
            errors["pilot_skus"] = field_message(exc, text)  # one SKU of the list: shown under the list
        else:
            errors.take(exc, text)
        return _page(request, who, code, errors={"mode": errors}, status=exc.status)
    return RedirectResponse(f"/onboarding/rollout/{code}?done=mode", status_code=303)


@router.post("/onboarding/rollout/{code}/compare")
async def compare_post(code: str, request: Request, post: Post) -> Response:
    """Read the platform and record every difference (a network call: outside any transaction)."""
    who = post.visitor
    require(who, Permission.CONFIG_WRITE)
    whole_business(who)
    try:
        seen = await run_in_threadpool(rollout.compare, request.app.state.db, request.app.state.settings, code,
                                       who.principal)
    except OmnistockError as exc:
        text = who.language.text
        problem = platform_problem(exc, text) if isinstance(exc, ChannelError) else field_message(exc, text)
        status = exc.status
        return await run_in_threadpool(lambda: _page(request, who, code, problem=problem, status=status))
    return RedirectResponse(f"/onboarding/rollout/{code}?" + urlencode({"done": "compared", "seen": len(seen)}),
                            status_code=303)


@router.post("/onboarding/rollout/{code}/explain")
def explain_post(code: str, request: Request, post: Post) -> Response:
    """Explain every open difference of one SKU at once (the same reason for each, audited one by one)."""
    who, form = post.visitor, post.form
    require(who, Permission.CONFIG_WRITE)
    whole_business(who)
    request.state.posted = form
    text = who.language.text
    errors = Errors("reason")
    reason = required_text(form, "reason", text, errors)
    ids = [int(i) for i in form.getlist("difference") if i.isdigit()]
    if not ids:
        errors["form"] = text.gettext("There is no difference to explain.")
    if errors:
        return _page(request, who, code, errors={f"explain:{form.get('sku')}": errors}, status=422)

    def action(session: Session) -> None:
        for difference in ids:
            rollout.explain(session, code, difference, reason, who.principal)
    try:
        run(request.app.state.db, action)
    except OmnistockError as exc:
        errors.take(exc, text)
        return _page(request, who, code, errors={f"explain:{form.get('sku')}": errors}, status=exc.status)
    return RedirectResponse(f"/onboarding/rollout/{code}?done=explained", status_code=303)
