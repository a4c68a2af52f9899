"""Case categories: the built-in ones and those a merchant added."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.care.flow import BUILT_IN_CATEGORIES
from omnistock.care.tables import CareCategory
from omnistock.errors import Conflict, Invalid

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    built_in: bool


def all_categories(session: Session) -> list[Category]:
    own = [Category(r.code, r.name, False) for r in session.scalars(select(CareCategory).order_by(CareCategory.code))]
    return [Category(code, name, True) for code, name in BUILT_IN_CATEGORIES.items()] + own


def check_category(session: Session, code: str, *, field: str = "category") -> str:
    if code in BUILT_IN_CATEGORIES:
        return code
    if session.scalar(select(CareCategory.id).where(CareCategory.code == code)) is None:
        known = ", ".join(c.code for c in all_categories(session))
        raise Invalid(f"unknown category {code!r} (known: {known}; add one first)", field=field)
    return code


def add_category(session: Session, code: str, name: str) -> Category:
    if not _CODE.match(code):
        raise Invalid("a category code is lower-case letters, digits and _ (e.g. damaged_goods)", field="code")
    if code in BUILT_IN_CATEGORIES or session.scalar(select(CareCategory.id).where(CareCategory.code == code)):
        raise Conflict(f"category {code!r} exists already", field="code")
    session.add(CareCategory(code=code, name=name.strip() or code))
    session.flush()
    return Category(code, name, False)
