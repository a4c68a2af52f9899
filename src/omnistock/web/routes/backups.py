"""Backups in the console: the backups folder (the automatic ones before every import included) and taking one
now, confirmed first. Restoring replaces the whole database, so it stays a command-line step
(`omnistock backup restore`), said so on the page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnistock.domain.access import Permission
from omnistock.onboarding import backup
from omnistock.web.context import Post, Seen, Visitor, require, whole_business
from omnistock.web.render import render
from omnistock.web.routing import console_router

router = console_router()


def _page(request: Request, who: Visitor, *, confirm: bool = False) -> Response:
    whole_business(who)
    settings = request.app.state.settings
    # As in the API, only who may change the configuration sees the backups (they hold every table).
    allowed = who.can(Permission.CONFIG_WRITE)
    return render(request, "onboarding/backups.html", {
        "allowed": allowed, "backups": backup.list_backups(settings) if allowed else [],
        "folder": str(backup.backup_dir(settings)) if allowed else "", "confirm": confirm,
        "taken": request.query_params.get("taken")})


@router.get("/onboarding/backups")
def backups_page(request: Request, who: Seen) -> Response:
    return _page(request, who)


@router.post("/onboarding/backups")
async def backup_create(request: Request, post: Post) -> Response:
    """Asks first; once confirmed, a consistent snapshot while the service runs (as `omnistock backup create`)."""
    who = post.visitor
    require(who, Permission.CONFIG_WRITE)
    whole_business(who)
    if post.form.get("confirmed") != "1":
        return await run_in_threadpool(_page, request, who, confirm=True)
    taken = await run_in_threadpool(backup.automatic_backup, request.app.state.db, "console")
    return RedirectResponse(f"/onboarding/backups?taken={taken.path.name}", status_code=303)
