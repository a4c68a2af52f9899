"""Finding catalogue rows by their business codes, with errors that name the field."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.domain.access import Principal
from omnistock.errors import Forbidden, NotFound
from omnistock.store.tables import Channel, Location, Sku

# Other names a SKU goes by (onboarding's aliases: old ERP codes, platform codes, merged duplicates); each
# resolver is asked, in order, only when no SKU has the code itself.
sku_resolvers: list[Callable[[Session, str], Sku | None]] = []


def sku_by_code(session: Session, code: str, *, field: str = "sku") -> Sku:
    sku = session.scalar(select(Sku).where(Sku.code == code))
    for resolve in sku_resolvers if sku is None else ():
        sku = resolve(session, code)
        if sku is not None:
            break
    if sku is None:
        raise NotFound(f"unknown SKU {code!r}", field=field)
    return sku


def location_by_code(session: Session, code: str, *, field: str = "location",
                     principal: Principal | None = None) -> Location:
    loc = session.scalar(select(Location).where(Location.code == code))
    if loc is None:
        raise NotFound(f"unknown location {code!r}", field=field)
    if principal is not None and not principal.sees_location(code):
        raise Forbidden(f"location {code!r} is outside this token's scope", field=field)
    return loc


def channel_by_code(session: Session, code: str, *, field: str = "channel",
                    principal: Principal | None = None) -> Channel:
    channel = session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        raise NotFound(f"unknown channel {code!r}", field=field)
    if principal is not None and not principal.sees_channel(code):
        raise Forbidden(f"channel {code!r} is outside this token's scope", field=field)
    return channel
