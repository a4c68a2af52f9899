"""Keyset paging for every collection: newest first, `{items, total, next}` with an opaque cursor."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from omnistock.errors import Invalid

T = TypeVar("T")
U = TypeVar("U")
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    next: str | None

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        return Page([fn(i) for i in self.items], self.total, self.next)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
        if not isinstance(value, int):
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError) as exc:
        raise Invalid("cursor is not one this API gave out", field="cursor") from exc


def check_limit(limit: int) -> int:
    if limit < 1 or limit > MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return limit


def page_query(session: Session, stmt: Select[*tuple[Any, ...]], id_col: InstrumentedAttribute[int], *, limit: int,
               cursor: str | None) -> Page[Any]:
    """Run `stmt` newest first, one page after `cursor`; rows are returned as the select yields them."""
    check_limit(limit)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    if cursor:
        stmt = stmt.where(id_col < decode_cursor(cursor))
    rows = list(session.execute(stmt.order_by(id_col.desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows else None
    next_cursor = encode_cursor(last.id) if more and last is not None else None
    return Page([tuple(r) if len(r) > 1 else r[0] for r in rows], total, next_cursor)
