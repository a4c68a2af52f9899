"""Channels: a shop on a platform, with settings validated per kind and secrets never shown."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from omnistock.api.deps import DB, Reader, require, run
from omnistock.api.schemas import ChannelIn
from omnistock.api.views import channel_view
from omnistock.domain.access import Permission, Principal
from omnistock.services import channels, secrets
from omnistock.store.paging import page_query
from omnistock.store.tables import Channel

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]


@router.post("", status_code=201)
def create_channel(body: ChannelIn, principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    settings = request.app.state.settings

    def action(session: Any) -> dict[str, Any]:
        ch = channels.create_channel(session, settings, code=body.code, kind=body.kind, name=body.name,
                                     settings=body.settings, actor=principal.name)
        return channel_view(ch, secrets.masked(ch.settings))
    return run(db, action)


@router.get("")
def list_channels(principal: Reader, db: DB, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
    stmt = select(Channel)
    if principal.channels is not None:  # a token scoped to some channels sees only those
        stmt = stmt.where(Channel.code.in_(sorted(principal.channels)))
    with db.reading() as session:
        page = page_query(session, stmt, Channel.id, limit=limit, cursor=cursor)
        items = [channel_view(ch, secrets.masked(ch.settings)) for ch in page.items]
    return {"items": items, "total": page.total, "next": page.next}
