"""Batch (lot) rules, pure: which units go first — first expiring, first out (FEFO) — which batches can no
longer be sold, and which units a decrease takes when it names no batch.

A level's units are its batches' units plus the units received without a batch ("loose"). Loose units go
last: nothing is known of their date. A batch is sold up to and including its expiry date, less the
merchant's margin (the days before expiry it is taken off sale)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from omnistock.domain.stock import LevelView, Take

Key = tuple[int, int]  # (sku id, location id)


@dataclass(frozen=True)
class Piece:
    """The units of one batch at one level, or (batch_id None) the level's loose units."""

    batch_id: int | None
    expiry: date | None
    on_hand: int
    reserved: int

    @property
    def free(self) -> int:
        return max(0, self.on_hand - self.reserved)

    @property
    def short(self) -> int:
        """Reserved units the piece no longer holds (a count found fewer, the batch expired)."""
        return max(0, self.reserved - self.on_hand)


@dataclass(frozen=True)
class BatchTake:
    """Units of one batch inside one take of an order plan (`take` is the take's position in the plan)."""

    take: int
    batch_id: int
    qty: int


def sell_cutoff(today: date, margin_days: int = 0) -> date:
    """The earliest expiry still sold today."""
    return today + timedelta(days=margin_days)


def is_expired(expiry: date | None, cutoff: date) -> bool:
    return expiry is not None and expiry < cutoff


def fefo_key(piece: Piece) -> tuple[bool, date, bool, int]:
    """Earliest expiry first; batches without an expiry after dated ones, loose units last; ties by batch id
    so that the order is the same in every process."""
    return (piece.expiry is None, piece.expiry or date.max, piece.batch_id is None, piece.batch_id or 0)


def pieces_of(on_hand: int, reserved: int, batches: Iterable[Piece]) -> list[Piece]:
    """A level's batches and its loose units (what the level holds beyond its batches), in FEFO order."""
    parts = [b for b in batches if b.batch_id is not None]
    loose = Piece(None, None, on_hand - sum(b.on_hand for b in parts), reserved - sum(b.reserved for b in parts))
    return sorted([*parts, loose], key=fefo_key)


def sellable_free(pieces: Iterable[Piece], cutoff: date) -> int:
    return sum(p.free for p in pieces if not is_expired(p.expiry, cutoff))


def sellable_view(level: LevelView, pieces: Sequence[Piece], cutoff: date) -> LevelView:
    """The level as an order may take from it: the free units of expired batches count as taken."""
    unsellable = max(0, level.free - sellable_free(pieces, cutoff))
    return replace(level, reserved=level.reserved + unsellable)


def take_fefo(wanted: int, pieces: Sequence[Piece], cutoff: date) -> list[tuple[int | None, int]] | None:
    """Where `wanted` units to sell come from: free units of unexpired batches, earliest expiry first, then
    loose units. None when they cannot cover it."""
    out: list[tuple[int | None, int]] = []
    remaining = wanted
    for p in sorted(pieces, key=fefo_key):
        if remaining <= 0:
            break
        if is_expired(p.expiry, cutoff):
            continue
        take = min(p.free, remaining)
        if take > 0:
            out.append((p.batch_id, take))
            remaining -= take
    return out if remaining <= 0 else None


def take_out(qty: int, pieces: Sequence[Piece], *, cutoff: date | None = None) -> list[tuple[int | None, int]]:
    """Which units a decrease of `qty` that names no batch removes (a count that found fewer, a write-off):
    free units first, in FEFO order (expired ones lead: they go first), then reserved units in the same
    order (the caller then settles the reservations they no longer cover). With a `cutoff` (a transfer),
    unexpired units go before expired ones, which move only when nothing else is free. Never more than a
    piece holds; less than `qty` only when the pieces hold less."""
    order = sorted(pieces, key=fefo_key)
    if cutoff is not None:
        order.sort(key=lambda p: is_expired(p.expiry, cutoff))
    taken: dict[int | None, int] = {}
    remaining = qty
    for available in (lambda p: p.free, lambda p: max(0, p.on_hand) - p.free):
        for p in order:
            take = min(available(p), remaining)
            if take > 0:
                taken[p.batch_id] = taken.get(p.batch_id, 0) + take
                remaining -= take
    return [(p.batch_id, taken[p.batch_id]) for p in order if p.batch_id in taken]


def split_takes(takes: Sequence[Take], pieces: Mapping[Key, Sequence[Piece]], cutoff: date) -> list[BatchTake]:
    """The batch parts of an order plan's takes at batched levels (`pieces` per level; takes at levels not in
    it have none), FEFO, each take counting what the earlier ones reserved. The plan was made from the
    levels' `sellable_view`, so every take is covered."""
    current = {key: list(ps) for key, ps in pieces.items()}
    out: list[BatchTake] = []
    for n, take in enumerate(takes):
        key = (take.sku_id, take.location_id)
        if key not in current:
            continue
        parts = take_fefo(take.qty, current[key], cutoff)
        assert parts is not None, (take, current[key])  # the plan counted only sellable units
        took = dict(parts)
        current[key] = [replace(p, reserved=p.reserved + took.get(p.batch_id, 0)) for p in current[key]]
        out += [BatchTake(n, bid, q) for bid, q in parts if bid is not None]
    return out
