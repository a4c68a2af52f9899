"""Listings, allocation policies and sync health of a channel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field, StrictInt

from omnistock.api.deps import DB, Reader, require, run
from omnistock.api.schemas import Body, Code
from omnistock.api.views import when
from omnistock.domain.access import Permission, Principal
from omnistock.domain.allocation import parse_policy
from omnistock.services.lookup import channel_by_code
from omnistock.store.types import utcnow
from omnistock.sync import policies
from omnistock.sync.health import channel_health
from omnistock.sync.listings import ListingSpec, create_listing, list_listings
from omnistock.sync.tables import Listing

router = APIRouter(prefix="/api/v1/channels", tags=["sync"])
ConfigWriter = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]


class ListingIn(Body):
    sku: Code
    external_id: str = Field(min_length=1, max_length=128)
    external_sku: str | None = Field(default=None, max_length=128)
    pack_size: StrictInt = Field(default=1, ge=1, le=100_000)
    extra: dict[str, Any] = Field(default_factory=dict)


class PolicyIn(Body):
    policy: dict[str, Any]
    sku: Code | None = None  # override for one SKU on this channel
    reason: str | None = Field(default=None, max_length=2000)


def listing_view(listing: Listing, sku: str, request: Request) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    return {"id": listing.id, "sku": sku, "external_id": listing.external_id,
            "external_sku": listing.external_sku, "pack_size": listing.pack_size, "extra": listing.extra,
            "policy": listing.policy, "dirty": listing.dirty, "last_pushed_value": listing.last_pushed_value,
            "last_pushed_at": when(listing.last_pushed_at, zone), "last_error": listing.last_error}


@router.post("/{code}/listings", status_code=201)
def add_listing(code: str, body: ListingIn, principal: ConfigWriter, db: DB, request: Request) -> dict[str, Any]:
    spec = ListingSpec(body.sku, body.external_id, body.external_sku, body.pack_size, body.extra)
    return run(db, lambda s: listing_view(create_listing(s, code, spec, principal), body.sku, request))


@router.get("/{code}/listings")
def get_listings(code: str, principal: Reader, db: DB, request: Request, limit: int = 50,
                 cursor: str | None = None) -> dict[str, Any]:
    with db.reading() as session:
        page = list_listings(session, code, principal, limit=limit, cursor=cursor)
        return {"items": [listing_view(lst, sku, request) for lst, sku in page.items], "total": page.total,
                "next": page.next}


@router.put("/{code}/policy")
def set_policy(code: str, body: PolicyIn, principal: ConfigWriter, db: DB) -> dict[str, Any]:
    """Set the channel's allocation policy, or one SKU's override on it. The affected listings are pushed."""
    policy = parse_policy(body.policy)
    return run(db, lambda session: policies.set_policy(session, code, policy, principal, sku_code=body.sku,
                                                       reason=body.reason))


@router.get("/{code}/health")
def health(code: str, principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    zone = request.app.state.settings.zone
    with db.reading() as session:
        channel = channel_by_code(session, code, principal=principal)
        out = channel_health(session, channel, utcnow()).as_dict()
    if out["last_error"]:
        out["last_error"]["at"] = when(out["last_error"]["at"], zone)
    return out
