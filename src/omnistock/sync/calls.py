"""Recording platform calls as evidence (what was sent, what came back, how long it took)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from omnistock.sync.tables import PlatformCall


def record(session: Session, *, channel_id: int, op: str, ok: bool, latency_ms: int, at: datetime,
           listing_id: int | None = None, sku_id: int | None = None, value: int | None = None,
           error: str | None = None, attempt: int = 1, call_id: str | None = None,
           propagation_ms: int | None = None, response: str | None = None) -> None:
    session.add(PlatformCall(channel_id=channel_id, op=op, ok=ok, latency_ms=latency_ms, at=at,
                             listing_id=listing_id, sku_id=sku_id, value=value,
                             error=(error or "")[:2000] or None, attempt=attempt, call_id=call_id or uuid.uuid4().hex,
                             propagation_ms=propagation_ms, response=(response or "")[:2000] or None))
