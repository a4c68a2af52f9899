"""Probable duplicate SKUs: the same barcode, or the same name once full-width/half-width, spaces, case and
the order of the 规格 words are set aside. Each group proposes a survivor: the SKU with the most history
(moves), the oldest on a tie."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock.onboarding.text import name_key
from omnistock.store.tables import Move, Sku


@dataclass(frozen=True)
class DuplicateGroup:
    reason: str
    survivor: str
    duplicates: tuple[str, ...]


def find_duplicates(session: Session) -> list[DuplicateGroup]:
    moves = dict(session.execute(select(Move.sku_id, func.count()).group_by(Move.sku_id)).all())
    rows = session.execute(select(Sku.id, Sku.code, Sku.name, Sku.barcode, Sku.is_bundle)
                           .where(Sku.active.is_(True)).order_by(Sku.id)).all()
    by_barcode: dict[str, list[tuple[int, str]]] = defaultdict(list)
    by_name: dict[tuple[bool, str], list[tuple[int, str]]] = defaultdict(list)
    for sku_id, code, name, barcode, is_bundle in rows:
        if barcode:
            by_barcode[barcode].append((sku_id, code))
        by_name[(is_bundle, name_key(name))].append((sku_id, code))
    groups: list[DuplicateGroup] = []
    grouped: set[frozenset[str]] = set()
    for barcode, members in sorted(by_barcode.items()):
        if len(members) > 1:
            groups.append(_group(f"same barcode {barcode}", members, moves))
            grouped.add(frozenset(c for _, c in members))
    for (_, key), members in sorted(by_name.items(), key=lambda kv: kv[0][1]):
        if len(members) > 1 and key and frozenset(c for _, c in members) not in grouped:
            groups.append(_group(f"same name ({key})", members, moves))
    return groups


def _group(reason: str, members: list[tuple[int, str]], moves: dict[int, int]) -> DuplicateGroup:
    ranked = sorted(members, key=lambda m: (-moves.get(m[0], 0), m[0]))
    return DuplicateGroup(reason, ranked[0][1], tuple(code for _, code in ranked[1:]))
