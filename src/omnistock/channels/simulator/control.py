"""The simulator's own control API under /_sim: create shops, edit stock as a merchant would, shop,
break things."""

from __future__ import annotations

import time
from dataclasses import asdict
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from omnistock.channels.simulator.state import (
    Faults,
    SimListing,
    SimOrder,
    SimRegistry,
    SimShop,
    WebhookConfig,
)


class RateLimitIn(BaseModel):
    per_second: float = Field(gt=0)
    burst: int = Field(gt=0)


class WebhookIn(BaseModel):
    url: str | None = None
    delay_s: tuple[float, float] | None = None
    duplicate_rate: float | None = Field(default=None, ge=0, le=1)
    loss_rate: float | None = Field(default=None, ge=0, le=1)
    reorder: bool | None = None


class FaultsIn(BaseModel):
    latency_ms: tuple[int, int] | None = None
    error_rate: float | None = Field(default=None, ge=0, le=1)
    down_for_s: float | None = Field(default=None, ge=0)
    auth_broken: bool | None = None
    overload_retry_after: float | None = Field(default=None, ge=0)


class ShopIn(BaseModel):
    code: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    platform: str
    credentials: dict[str, str] = {}
    rate_limit: RateLimitIn | None = None
    webhook: WebhookIn | None = None
    faults: FaultsIn | None = None
    currency: str | None = None


class ListingIn(BaseModel):
    quantity: int = Field(ge=0)
    external_sku: str | None = None
    title: str | None = None
    barcode: str | None = None
    price: Decimal | None = None
    extra: dict[str, str] | None = None


class BuyIn(BaseModel):
    external_id: str
    qty: int = Field(default=1, gt=0)
    customer: dict[str, str] | None = None


class AfterSaleIn(BaseModel):
    kind: Literal["refund", "return", "exchange", "dispute"] = "refund"
    reason: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=1000)


class ShopperIn(BaseModel):
    shop: str
    external_id: str
    rate_per_s: float = Field(gt=0)
    qty: int = Field(default=1, gt=0)
    stop_after_s: float | None = Field(default=None, gt=0)
    seed: int | None = None


def order_json(order: SimOrder) -> dict[str, Any]:
    return {
        "id": order.id, "status": order.status, "currency": order.currency, "customer": order.customer,
        "created_at": order.created_at.isoformat(), "modified_at": order.modified_at.isoformat(),
        "lines": [{"external_id": line.external_id, "qty": line.qty, "unit_price": str(line.unit_price),
                   "external_sku": line.external_sku} for line in order.lines],
    }


def listing_json(listing: SimListing) -> dict[str, Any]:
    return {"external_id": listing.external_id, "quantity": listing.quantity,
            "external_sku": listing.external_sku, "title": listing.title, "barcode": listing.barcode,
            "price": str(listing.price), "extra": listing.extra}


def apply_webhook(config: WebhookConfig, patch: WebhookIn) -> None:
    for name, value in patch.model_dump(exclude_unset=True).items():
        setattr(config, name, tuple(value) if isinstance(value, list) else value)


def apply_faults(faults: Faults, patch: FaultsIn) -> None:
    if patch.latency_ms is not None:
        faults.latency_ms = patch.latency_ms
    if patch.error_rate is not None:
        faults.error_rate = patch.error_rate
    if patch.down_for_s is not None:
        faults.down_until = time.time() + patch.down_for_s if patch.down_for_s else 0.0
    if patch.auth_broken is not None:
        faults.auth_broken = patch.auth_broken
    if patch.overload_retry_after is not None:
        faults.overload_retry_after = patch.overload_retry_after


def control_router(registry: SimRegistry) -> APIRouter:
    router = APIRouter(prefix="/_sim", tags=["simulator control"])

    def shop_or_404(code: str) -> SimShop:
        try:
            return registry.shop(code)
        except KeyError:
            raise HTTPException(404, f"no shop {code!r}") from None

    @router.get("/health")
    def health() -> dict[str, object]:
        return {"ok": True, "shops": len(registry.shops)}

    @router.post("/shops", status_code=201)
    def create_shop(body: ShopIn) -> dict[str, object]:
        webhook, faults = WebhookConfig(), Faults()
        if body.webhook:
            apply_webhook(webhook, body.webhook)
        if body.faults:
            apply_faults(faults, body.faults)
        rate = (body.rate_limit.per_second, body.rate_limit.burst) if body.rate_limit else None
        try:
            shop = registry.add_shop(body.code, body.platform, body.credentials, rate_limit=rate,
                                     webhook=webhook, faults=faults, currency=body.currency)
        except ValueError as exc:
            status = 409 if "exists" in str(exc) else 422
            raise HTTPException(status, str(exc)) from None
        return shop.snapshot()

    @router.get("/shops/{code}")
    def get_shop(code: str) -> dict[str, object]:
        return shop_or_404(code).snapshot()

    @router.delete("/shops/{code}", status_code=204)
    def delete_shop(code: str) -> None:
        shop_or_404(code)
        registry.remove_shop(code)

    @router.put("/shops/{code}/listings/{external_id:path}")
    def put_listing(code: str, external_id: str, body: ListingIn) -> dict[str, Any]:
        shop = shop_or_404(code)
        with shop.lock:
            listing = shop.listings.get(external_id)
            if listing is None:
                listing = SimListing(external_id, body.quantity)
                shop.upsert_listing(listing)
            else:
                shop.set_quantity(external_id, body.quantity, "manual")
            for name in ("external_sku", "title", "barcode", "price"):
                if name in body.model_fields_set:
                    setattr(listing, name, getattr(body, name))
            if body.extra:
                listing.extra.update(body.extra)
            return listing_json(listing)

    @router.delete("/shops/{code}/listings/{external_id:path}", status_code=204)
    def delete_listing(code: str, external_id: str) -> None:
        try:
            shop_or_404(code).remove_listing(external_id)
        except KeyError:
            raise HTTPException(404, f"no listing {external_id!r}") from None

    @router.get("/shops/{code}/history/{external_id:path}")
    def history(code: str, external_id: str) -> list[dict[str, object]]:
        shop = shop_or_404(code)
        with shop.lock:
            listing = shop.listings.get(external_id)
            if listing is None:
                raise HTTPException(404, f"no listing {external_id!r}")
            return [{"at": at, "quantity": qty, "source": source} for at, qty, source in listing.history]

    @router.post("/shops/{code}/buy", status_code=201, response_model=None)
    def buy(code: str, body: BuyIn) -> dict[str, Any] | JSONResponse:
        try:
            order = shop_or_404(code).buy(body.external_id, body.qty, body.customer)
        except KeyError:
            raise HTTPException(404, f"no listing {body.external_id!r}") from None
        if order is None:
            return JSONResponse({"refused": True}, status_code=409)
        return order_json(order)

    @router.post("/shops/{code}/orders/{order_id}/after-sales", status_code=201)
    def request_after_sale(code: str, order_id: str, body: AfterSaleIn) -> dict[str, Any]:
        """The buyer asks for a refund, return or exchange, or disputes the charge: the platform pushes it
        (Shopify, Douyin) or serves it to polls (Pinduoduo, Taobao) in its own format."""
        try:
            request = shop_or_404(code).request_after_sale(order_id, body.kind, body.reason, body.note)
        except KeyError:
            raise HTTPException(404, f"no order {order_id!r}") from None
        return asdict(request)

    @router.post("/shops/{code}/orders/{order_id}/{action}")
    def change_order(code: str, order_id: str, action: str) -> dict[str, Any]:
        shop = shop_or_404(code)
        actions = {"cancel": shop.cancel, "refund": shop.refund, "ship": shop.ship}
        if action not in actions:
            raise HTTPException(404, f"no order action {action!r}")
        try:
            return order_json(actions[action](order_id))
        except KeyError:
            raise HTTPException(404, f"no order {order_id!r}") from None

    @router.patch("/shops/{code}/faults")
    def patch_faults(code: str, body: FaultsIn) -> dict[str, object]:
        shop = shop_or_404(code)
        with shop.lock:
            apply_faults(shop.faults, body)
            return asdict(shop.faults)

    @router.patch("/shops/{code}/webhook")
    def patch_webhook(code: str, body: WebhookIn) -> dict[str, object]:
        shop = shop_or_404(code)
        with shop.lock:
            apply_webhook(shop.webhook, body)
            return asdict(shop.webhook)

    @router.patch("/shops/{code}/rate_limit")
    def patch_rate_limit(code: str, body: RateLimitIn) -> dict[str, object]:
        shop = shop_or_404(code)
        shop.set_rate_limit(body.per_second, body.burst)
        return {"per_second": body.per_second, "burst": body.burst}

    @router.get("/webhooks")
    def webhook_attempts(shop: str | None = None) -> list[dict[str, object]]:
        return [asdict(a) for a in registry.dispatcher.attempts(shop)]

    @router.post("/shoppers", status_code=201)
    def start_shopper(body: ShopperIn) -> dict[str, object]:
        try:
            shopper = registry.shoppers.start(body.shop, body.external_id, body.rate_per_s, body.qty,
                                              body.stop_after_s, body.seed)
        except KeyError as exc:
            raise HTTPException(404, f"unknown shop or listing {exc}") from None
        return shopper.summary()

    @router.get("/shoppers")
    def list_shoppers() -> list[dict[str, object]]:
        return [s.summary() for s in registry.shoppers.running()]

    @router.delete("/shoppers")
    def stop_shoppers() -> list[dict[str, object]]:
        return [s.summary() for s in registry.shoppers.stop_all()]

    return router
