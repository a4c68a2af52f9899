"""Other codes for a SKU (an old ERP code, each platform's code, a merged duplicate's code): added and removed
by hand (audited), and accepted wherever a SKU code is looked up."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.errors import Conflict, Invalid, NotFound
from omnistock.onboarding.tables import SkuAlias
from omnistock.onboarding.text import fold
from omnistock.services import audit, lookup
from omnistock.services.catalogue import check_code
from omnistock.store.tables import Sku

SOURCES = ("manual", "erp", "platform", "merge", "import")


@dataclass(frozen=True)
class AliasView:
    alias: str
    sku: str
    source: str


def resolve(session: Session, code: str) -> Sku | None:
    """The SKU this alias names (the lookup hook)."""
    return session.scalar(select(Sku).join(SkuAlias, SkuAlias.sku_id == Sku.id).where(SkuAlias.alias == code))


def install() -> None:
    if resolve not in lookup.sku_resolvers:
        lookup.sku_resolvers.append(resolve)


def add_alias(session: Session, sku_code: str, alias: str, *, source: str, actor: str) -> AliasView:
    sku = lookup.sku_by_code(session, sku_code)
    alias = check_code(fold(alias), "alias")
    if source not in SOURCES:
        raise Invalid(f"source must be one of {', '.join(SOURCES)}", field="source")
    if session.scalar(select(Sku.id).where(Sku.code == alias)) is not None:
        raise Conflict(f"{alias!r} is the code of a SKU; an alias must be a code no SKU has", field="alias")
    held = session.scalar(select(SkuAlias).where(SkuAlias.alias == alias))
    if held is not None:
        owner = session.get(Sku, held.sku_id)
        if held.sku_id == sku.id:
            return AliasView(alias, sku.code, held.source)
        raise Conflict(f"{alias!r} is already an alias of {owner.code if owner else held.sku_id}", field="alias")
    session.add(SkuAlias(sku_id=sku.id, alias=alias, source=source))
    audit.record(session, actor=actor, action="sku.alias_add", sku_id=sku.id, entity=f"sku:{sku.code}",
                 after={"alias": alias, "source": source})
    return AliasView(alias, sku.code, source)


def remove_alias(session: Session, alias: str, *, actor: str, reason: str | None = None) -> None:
    row = session.scalar(select(SkuAlias).where(SkuAlias.alias == fold(alias)))
    if row is None:
        raise NotFound(f"no alias {alias!r}", field="alias")
    sku = session.get(Sku, row.sku_id)
    session.delete(row)
    audit.record(session, actor=actor, action="sku.alias_remove", sku_id=row.sku_id,
                 entity=f"sku:{sku.code if sku else row.sku_id}", before={"alias": row.alias, "source": row.source},
                 reason=reason)


def list_aliases(session: Session, sku_code: str | None = None) -> list[AliasView]:
    stmt = select(SkuAlias.alias, Sku.code, SkuAlias.source).join(Sku, Sku.id == SkuAlias.sku_id)
    if sku_code:
        stmt = stmt.where(Sku.id == lookup.sku_by_code(session, sku_code).id)
    return [AliasView(a, c, s) for a, c, s in session.execute(stmt.order_by(Sku.code, SkuAlias.alias))]
