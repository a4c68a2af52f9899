"""The FastAPI application: routers, problem responses, request size limit, health."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnistock import __version__
from omnistock.api import problems
from omnistock.api.routes import (
    care,
    catalogue,
    channel_admin,
    channels,
    feeds,
    metrics,
    money,
    money_reports,
    onboarding,
    orders,
    rollout,
    stock,
    sync,
    tokens,
    watch,
    webhooks,
)
from omnistock.config import Settings, get_settings
from omnistock.store.db import Database
from omnistock.web import console


class BodyLimit:
    """Refuse bodies over the limit with 413 before reading them whole (Content-Length or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message
        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem(413, "Payload too large", f"the request body is over {self.limit} bytes",
                                    field="body")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="omnistock", version=__version__,
                  description="One trustworthy stock for every sales channel.")
    app.state.settings = settings
    app.state.db = db or Database(settings)
    problems.install(app)
    for module in (catalogue, stock, orders, channels, channel_admin, feeds, sync, rollout, tokens, webhooks, metrics,
                   money, money_reports, care, onboarding, watch):
        app.include_router(module.router)
    app.include_router(console.router)  # the web console (omnistock.web), under /

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
