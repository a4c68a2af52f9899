"""Reconciliation rules: what kind of difference a listing shows when its platform quantity is read back, and what
a channel's setting does about it. Pure: no database, no platform."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DifferenceKind(StrEnum):
    DRIFT = "drift"        # the platform shows another number: edited there by hand, or a push was lost
    MISSING = "missing"    # the platform no longer has the listing
    UNMAPPED = "unmapped"  # a platform item with stock that maps to none of our SKUs
    STALE = "stale"        # a push is pending or in flight: not a fault, the engine is on it


class Mode(StrEnum):
    """What a channel does about drift: push the right value at once, only alert, or also hold its orders."""

    HEAL = "heal"
    ALERT = "alert"
    HOLD = "hold"


@dataclass(frozen=True)
class Observed:
    """One listing as omnistock knows it and as the platform showed it (`platform` None: not found there).
    `expected` (what it should show now) may be None where it was not needed: see `needs_expected`."""

    expected: int | None
    last_pushed: int | None
    pending: bool  # dirty, or claimed by a worker that is pushing it now
    platform: int | None


def needs_expected(last_pushed: int | None, pending: bool, platform: int | None) -> bool:
    """Whether classifying a listing needs what it should show now. A settled listing (no push pending) whose
    platform shows exactly the value omnistock last pushed is not a difference whatever its target is now:
    the engine chose not to push since (a partition quota that moved with sales is not lowered at once), and
    a target that moved without its listing being marked is the scheduled full sync's to catch."""
    return pending or last_pushed is None or platform != last_pushed


def classify(seen: Observed) -> DifferenceKind | None:
    """The difference a listing shows, or None when the platform shows what it should.

    A listing missing on the platform is `missing` even while a push is pending (the push cannot succeed);
    otherwise any difference while a push is pending is `stale`; a settled listing showing neither the value
    last pushed nor the one it should show now is `drift`."""
    if seen.platform is None:
        return DifferenceKind.MISSING
    if not needs_expected(seen.last_pushed, seen.pending, seen.platform) or seen.platform == seen.expected:
        return None
    return DifferenceKind.STALE if seen.pending else DifferenceKind.DRIFT


def unmapped(quantity: int) -> DifferenceKind | None:
    """A platform item that maps to no listing matters only while the platform sells it (stock above zero)."""
    return DifferenceKind.UNMAPPED if quantity > 0 else None


def action_for(kind: DifferenceKind, mode: Mode) -> str:
    """What a run does about one difference: `heal` pushes again, `hold` also holds new orders of the SKU,
    `alert` only tells; stale listings and unmapped items are only reported (`none`)."""
    if kind in (DifferenceKind.STALE, DifferenceKind.UNMAPPED):
        return "none"
    if kind is DifferenceKind.MISSING and mode is Mode.HEAL:
        return "alert"  # pushing to an item the platform no longer has cannot fix it: a person must
    return mode.value
