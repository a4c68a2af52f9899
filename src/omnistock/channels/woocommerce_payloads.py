"""WooCommerce wire shapes: the OAuth 1.0a one-legged signature, listing ids, and the mapping of products,
orders and webhook payloads to omnistock's plain values. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, unquote

from omnistock.channels.base import Customer, OrderEvent, OrderEventKind, PlatformItem, PlatformOrderLine
from omnistock.channels.signing import hmac_sha256_base64
from omnistock.errors import PlatformInvalid, PlatformNotFound

LIVE = frozenset({"pending", "on-hold", "processing"})
STATUS_KIND = {"cancelled": OrderEventKind.CANCELLED, "failed": OrderEventKind.CANCELLED,
               "refunded": OrderEventKind.REFUNDED, "completed": OrderEventKind.SHIPPED}


# --- OAuth 1.0a, one-legged, as WooCommerce checks it --------------------------------------------------


def _rfc3986(text: str) -> str:
    return quote(text, safe="~")


def oauth_string_to_sign(method: str, url: str, params: Mapping[str, str]) -> str:
    """`METHOD&enc(url)&enc(k1=v1&k2=v2…)` with keys sorted; every parameter but `oauth_signature` is signed
    (the body never is). Keys and values are normalised first (decoded, then encoded per RFC 3986), as the
    official PHP client and the WooCommerce server both do; the outer encoding doubles each percent sign."""
    normalized = {_rfc3986(unquote(k)): _rfc3986(unquote(v))
                  for k, v in params.items() if k != "oauth_signature"}
    pairs = "&".join(f"{k}={normalized[k]}" for k in sorted(normalized))
    return f"{method.upper()}&{_rfc3986(url)}&{_rfc3986(pairs)}"


def oauth_signature(method: str, url: str, params: Mapping[str, str], consumer_secret: str) -> str:
    """HMAC-SHA256 keyed with `consumer_secret&` (no token secret in one-legged OAuth), base64."""
    return hmac_sha256_base64(consumer_secret + "&", oauth_string_to_sign(method, url, params))


def signed_query(method: str, url: str, params: Mapping[str, str], consumer_key: str, consumer_secret: str,
                 nonce: str, timestamp: int) -> dict[str, str]:
    query = {**params, "oauth_consumer_key": consumer_key, "oauth_nonce": nonce,
             "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": str(timestamp)}
    query["oauth_signature"] = oauth_signature(method, url, query, consumer_secret)
    return query


# --- ids and times -------------------------------------------------------------------------------------


def split_external_id(external_id: str) -> tuple[int, int | None]:
    """`"<product_id>"` or `"<product_id>/<variation_id>"`; ValueError for anything else."""
    product, slash, variation = external_id.partition("/")
    if not product.isdigit() or (slash and not variation.isdigit()):
        raise ValueError(f"woocommerce: {external_id!r} is not '<product_id>' or "
                         "'<product_id>/<variation_id>'")
    return int(product), int(variation) if slash else None


def query_time(moment: datetime, shift_s: int) -> str:
    """A GMT time for `modified_after/before` (with `dates_are_gmt=true`), whole seconds, moved by `shift_s`:
    WooCommerce compares strictly and to the second, so the window is widened rather than risk a gap."""
    shifted = moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=shift_s)
    return shifted.strftime("%Y-%m-%dT%H:%M:%S")


def _gmt(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _price(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


# --- stock ---------------------------------------------------------------------------------------------


def stock_item(external_id: str, obj: Mapping[str, Any], title: str | None = None) -> PlatformItem:
    return PlatformItem(external_id=external_id, quantity=int(obj.get("stock_quantity") or 0),
                        external_sku=obj.get("sku") or None, title=title or obj.get("name") or None,
                        barcode=obj.get("global_unique_id") or None)


def batch_error(error: Mapping[str, Any]) -> Exception:
    code = str(error.get("code") or "")
    kind = PlatformNotFound if "invalid_id" in code else PlatformInvalid
    return kind(f"woocommerce: {error.get('message') or code}", code=code or None)


# --- orders --------------------------------------------------------------------------------------------


def order_kind(status: str, topic: str | None, created: datetime | None,
               since: datetime | None) -> OrderEventKind:
    """Live statuses are CREATED for `order.created` (or a poll that saw the creation), else UPDATED."""
    if status in STATUS_KIND:
        return STATUS_KIND[status]
    if topic == "order.created":
        return OrderEventKind.CREATED
    polled_creation = since is not None and created is not None and created >= since.replace(microsecond=0)
    if topic is None and polled_creation:
        return OrderEventKind.CREATED
    return OrderEventKind.UPDATED


def order_event(order: Mapping[str, Any], *, topic: str | None = None, event_id: str | None = None,
                since: datetime | None = None) -> OrderEvent | None:
    """One WooCommerce order as an event; None for statuses that are not orders yet (checkout drafts)."""
    status = str(order.get("status") or "")
    if status not in LIVE and status not in STATUS_KIND:
        return None
    created = _gmt(order.get("date_created_gmt"))
    lines = []
    for line in order.get("line_items") or []:
        variation = int(line.get("variation_id") or 0)
        product = str(line.get("product_id") or "")
        lines.append(PlatformOrderLine(external_id=f"{product}/{variation}" if variation else product,
                                       qty=int(line.get("quantity") or 0),
                                       external_sku=line.get("sku") or None,
                                       unit_price=_price(line.get("price"))))
    billing = order.get("billing") or {}
    name = " ".join(p for p in (billing.get("first_name"), billing.get("last_name")) if p) or None
    return OrderEvent(
        kind=order_kind(status, topic, created, since), external_order_id=str(order["id"]), lines=lines,
        event_id=event_id, platform_status=status, currency=order.get("currency") or None,
        customer=Customer(name=name, phone=billing.get("phone") or None, email=billing.get("email") or None),
        occurred_at=_gmt(order.get("date_modified_gmt")) or created, raw=order)


def deleted_event(payload: Mapping[str, Any], event_id: str | None) -> OrderEvent:
    """`order.deleted` carries only the id: the order is gone, so whatever it held is released."""
    return OrderEvent(kind=OrderEventKind.CANCELLED, external_order_id=str(payload["id"]), lines=[],
                      event_id=event_id, platform_status="deleted", raw=payload)
