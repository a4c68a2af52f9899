"""`POST /webhooks/{channel_code}`: the one URL a platform calls. Verify, keep, apply, answer fast."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from omnistock.api.deps import run
from omnistock.api.problems import problem
from omnistock.config import Settings
from omnistock.errors import Invalid, SignatureInvalid
from omnistock.services.lookup import channel_by_code
from omnistock.store.db import Database
from omnistock.sync import intake
from omnistock.sync.adapters import adapter_for, has_adapter

router = APIRouter(tags=["webhooks"])
security = logging.getLogger("omnistock.security")
# Called with (db, channel code, client address) for every delivery whose signature does not verify
# (omnistock.watch counts them into an alert).
signature_rejected: list[Callable[[Database, str, str], None]] = []


@router.post("/webhooks/{channel_code}", response_model=None)
async def receive(channel_code: str, request: Request) -> Response:
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    client = request.client.host if request.client else "?"
    return await run_in_threadpool(_handle, request.app.state.db, request.app.state.settings, channel_code,
                                   headers, body, client)


def _handle(db: Database, settings: Settings, channel_code: str, headers: dict[str, str], body: bytes,
            client: str) -> Response:
    with db.reading() as session:
        channel = channel_by_code(session, channel_code, field="channel_code")
        if not has_adapter(channel):
            raise Invalid(f"channel {channel_code!r} ({channel.kind}) takes no webhooks", field="channel_code")
        adapter = adapter_for(channel, settings)
    try:
        events = adapter.parse_webhook(headers, body)
    except SignatureInvalid as exc:
        # Only this line and a count are recorded: an unsigned body is not evidence of anything.
        security.warning("webhook signature rejected: channel=%s from=%s: %s", channel_code, client, exc.message)
        for hook in signature_rejected:
            hook(db, channel_code, client)
        return problem(401, "Invalid signature", "the delivery's signature does not verify")

    def apply(session: Session) -> None:
        intake.ingest(session, channel_by_code(session, channel_code), events, "webhook")
    try:
        run(db, apply)
    except IntegrityError:
        pass  # the same delivery raced itself in: the first one applied it, this one is a duplicate
    status, content_type, ack = adapter.webhook_ack
    return Response(content=ack, status_code=status, media_type=content_type)
