"""Numbered pages for console tables (people jump to page 7; an API client follows cursors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
PER_PAGE = 50


@dataclass(frozen=True)
class Numbered(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_row(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last_row(self) -> int:
        return min(self.total, self.page * self.per_page)


def page_number(raw: str | None) -> int:
    """A page number from the query string; anything odd is page 1 (a bad link must not be an error)."""
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


def numbered(session: Session, stmt: Select[Any], *, page: int, per_page: int = PER_PAGE) -> Numbered[Any]:
    """Two queries: the count, and the rows of one page (`stmt` must carry its ORDER BY)."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    rows = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Numbered(rows, int(total), page, per_page)
