"""Rollout of a channel: mode (live / shadow / pilot), comparison with the platform, explanations (of this
channel's differences only), report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from omnistock.api.deps import DB, Reader, require, run
from omnistock.api.schemas import Body, Code
from omnistock.api.views import when
from omnistock.domain.access import Permission, Principal
from omnistock.sync import rollout

router = APIRouter(prefix="/api/v1/channels", tags=["rollout"])
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]


class ModeIn(Body):
    mode: str
    pilot_skus: list[Code] = Field(default_factory=list, max_length=10_000)
    reason: str = Field(min_length=1, max_length=2000)


class ExplainIn(Body):
    reason: str = Field(min_length=1, max_length=2000)


@router.put("/{code}/mode")
def set_mode(code: str, body: ModeIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    return run(db, lambda s: rollout.set_mode(s, code, body.mode, body.pilot_skus, body.reason, principal))


@router.post("/{code}/rollout/compare")
def compare(code: str, principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    diffs = rollout.compare(db, request.app.state.settings, code, principal)
    return {"items": [d.__dict__ for d in diffs], "total": len(diffs), "next": None}


@router.post("/{code}/rollout/differences/{difference_id}/explain")
def explain(code: str, difference_id: int, body: ExplainIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    return run(db, lambda s: rollout.explain(s, code, difference_id, body.reason, principal).__dict__)


@router.get("/{code}/rollout/report")
def report(code: str, principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        found = rollout.report(session, code, principal)
    for item in found["items"]:
        item["last_seen_at"] = when(item["last_seen_at"], zone)
    return found | {"mode_since": when(found["mode_since"], zone)}
