"""Looking after a connected channel: change it, test it, see its unmapped items, propose and import listings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field, StrictBool, StrictFloat, StringConstraints
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from omnistock.api.deps import DB, Reader, require, run
from omnistock.api.schemas import Body
from omnistock.api.views import channel_view, when
from omnistock.config import Settings
from omnistock.domain.access import Permission, Principal
from omnistock.onboarding import imports
from omnistock.services import secrets
from omnistock.services.lookup import channel_by_code
from omnistock.store.db import Database
from omnistock.sync import listing_import, proposals
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.channel_edit import MAX_MINUTES, MIN_MINUTES, ChannelPatch, update_channel, update_schedule
from omnistock.sync.matching import Match
from omnistock.sync.unmapped import list_unmapped

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]


class ChannelPatchIn(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    enabled: StrictBool | None = None
    settings: dict[str, Any] | None = None


class SyncPatchIn(Body):
    poll_minutes: StrictFloat | None = Field(default=None, ge=MIN_MINUTES, le=MAX_MINUTES)
    full_sync_minutes: StrictFloat | None = Field(default=None, ge=MIN_MINUTES, le=MAX_MINUTES)


@router.patch("/{code}")
def patch_channel(code: str, body: ChannelPatchIn, principal: ConfigWriter, db: DB,
                  request: Request) -> dict[str, Any]:
    """Rename, switch on or off, or change settings (merged; send the mask back to keep a secret)."""
    settings: Settings = request.app.state.settings
    patch = ChannelPatch(body.name, body.enabled, body.settings)

    def action(session: Session) -> dict[str, Any]:
        ch = update_channel(session, settings, code, patch, principal)
        return channel_view(ch, secrets.masked(ch.settings))
    return run(db, action)


@router.patch("/{code}/sync")
def patch_sync(code: str, body: SyncPatchIn, principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    zone = request.app.state.settings.zone

    def action(session: Session) -> dict[str, Any]:
        state = update_schedule(session, code, principal, poll_minutes=body.poll_minutes,
                                full_sync_minutes=body.full_sync_minutes)
        return {"channel": code, "poll_minutes": state.poll_minutes, "full_sync_minutes": state.full_sync_minutes,
                "last_poll_at": when(state.last_poll_at, zone),
                "last_full_sync_at": when(state.last_full_sync_at, zone)}
    return run(db, action)


@router.post("/{code}/test")
def test_channel(code: str, principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    """Call the platform once with the stored credentials; a failure answers the platform's error."""
    with db.reading() as session:
        channel = channel_by_code(session, code, principal=principal)
        if not has_adapter(channel):
            return {"channel": code, "ok": True, "detail": f"a {channel.kind} channel has no platform to call"}
        adapter = adapter_for(channel, request.app.state.settings)
    adapter.test_connection()
    return {"channel": code, "ok": True, "detail": "the platform accepted the credentials"}


@router.get("/{code}/unmapped")
def unmapped(code: str, principal: Reader, db: DB, request: Request, limit: int = 50,
             cursor: str | None = None) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        page = list_unmapped(session, code, principal, limit=limit, cursor=cursor)
        items = [{"external_id": u.external_id, "external_sku": u.external_sku, "seen_in": u.seen_in,
                  "times_seen": u.times_seen, "last_seen_at": when(u.last_seen_at, zone)} for u in page.items]
    return {"items": items, "total": page.total, "next": page.next}


def match_view(m: Match) -> dict[str, Any]:
    return {"external_id": m.item.external_id, "external_sku": m.item.external_sku, "title": m.item.title,
            "barcode": m.item.barcode, "sku": m.sku, "matched_by": m.matched_by.value if m.matched_by else None,
            "candidates": list(m.candidates)}


@router.post("/{code}/listings/propose")
def propose_listings(code: str, principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    """Read every item of the platform and propose a SKU for each unmapped one. Writes nothing."""
    found = proposals.propose(db, request.app.state.settings, code, principal)
    return {"channel": found.channel, "items_read": found.items_read, "already_mapped": found.already_mapped,
            "proposals": [match_view(m) for m in found.proposed],
            "unmatched": [match_view(m) for m in found.unmatched]}


@router.post("/{code}/listings/import")
async def import_listings(code: str, principal: ConfigWriter, db: DB, request: Request,
                          dry_run: bool = False) -> dict[str, Any]:
    """Map many items at once: CSV text (text/csv), an .xlsx body, or JSON `{"rows": [...]}`."""
    data = await request.body()
    content_type = request.headers.get("content-type")
    return await run_in_threadpool(_import, db, code, principal, data, content_type, dry_run)


def _import(db: Database, code: str, principal: Principal, data: bytes, content_type: str | None,
            dry_run: bool) -> dict[str, Any]:
    upload = imports.ImportFile(data, None, content_type)
    plan = imports.import_listings(db, upload, principal, channel=code, dry_run=dry_run)  # backup first
    return import_view(plan, dry_run, plan.ignored_headers)


def import_view(plan: listing_import.ImportPlan, dry_run: bool, ignored: tuple[str, ...]) -> dict[str, Any]:
    return {"channel": plan.channel, "dry_run": dry_run, "created": plan.count("create"),
            "updated": plan.count("update"), "unchanged": plan.count("unchanged"), "backup": plan.backup,
            "import_run": plan.run_id,
            "items": [{"row": i.row, "action": i.action, "external_id": i.external_id, "sku": i.sku,
                       "pack_size": i.pack_size, "before": i.before} for i in plan.items],
            "errors": plan.errors.as_dicts(), "ignored_columns": list(ignored)}
