"""Exposure accounting: how many units each listing of one SKU may still sell without omnistock knowing,
and which stock pushes are safe to send now, so that the platforms together can never sell more than exists.

Why. A platform sells from its own copy of the stock and counts it down itself. omnistock hears of a sale
only when the order webhook (or a later order poll) arrives, and a push lands at an unknown moment between
sending it and the platform's answer. An absolute push overwrites the platform's count: units sold from the
old copy just before the push landed are forgotten by the platform, and the pushed value can be sold in full
again. Pushed values that add up to no more than the stock can therefore still oversell, unless the old
copies stay accounted for until omnistock knows what they sold.

The bound. For each channel c (one listing of the SKU; amounts are units of the SKU) the book keeps E[c] with

    unknown[c] + shown[c] + unlanded[c] <= E[c]                                           (1)

unknown: units c sold that omnistock has not been told of; shown: the platform's copy now; unlanded: the
cost of pushes sent but not applied yet, where an absolute push of v costs v and a delta d costs max(d, 0).
A platform sells at most what it shows, and a landing push adds at most its cost to what it shows (an
absolute push resets the copy to v <= shown + v, a delta adds d), so E[c] bounds every unit c has sold or
can still sell behind omnistock's back. With A the units not yet known sold (the ledger's available), if

    sum of E[c] over all channels <= A                                                    (2)

then no interleaving of sales, late pushes and late or lost order notifications can oversell a unit.

Events, and why each keeps (1):
- push sent: E += cost. The platform may sell its whole current copy before the push lands and then the
  pushed value again; this is why an absolute decrease to v > 0 still costs v, not the difference.
- push confirmed: E unchanged. The answer says the push landed, not what was sold before it did.
- push failed (refused; it will never apply): E -= cost.
- push timed out (no answer; the caller guarantees it can no longer apply after `at`): E unchanged.
- order notified (k units on c): E -= k and A -= k: k units move from unknown to known on both sides of (2).
- order poll of c complete up to t (every order of c placed at or before t has been notified, de-duplicated):
  an absolute push p of value v confirmed at or before t landed before t, so every sale before it landed is
  known, and since landing c could sell at most v plus the cost of every push that may land after p (any
  push not settled before p was sent). So E := min(E, v + those costs). This is the only event that
  releases the copy an absolute push replaced: the sync engine should poll a channel's orders soon after a
  confirmed absolute push (`awaiting_poll`). `t` is in omnistock's clock; subtract the platform's clock
  skew from the poll window's end before passing it.
- stock received, released or written off: A changes; order cancelled: A += k, and E += k when the
  platform puts the units back on its own copy.
Deltas are credited only upwards: a negative delta may meet a copy already sold down (the platform clamps
it or goes negative), so it lowers nothing in the book; the planner lowers with absolute pushes instead.

The safety rule (`plan_pushes`, guarded): a push p is planned only if cost(p) <= A - sum(E), counting the
pushes planned before it in the same round; a listing with a push in flight or a poll awaited is left alone.
Every event other than a send lowers E at least as much as A, or raises A, so (2) holds forever once it
holds. Only the outside world breaks it: stock written off, a channel that sells beyond its bound
(`overrun`: its copy was changed by hand), or the switch from a policy whose copies overlap by design
(`shared`) to partition. Then `deficit` > 0 and every listing above its target is emptied at once (an
absolute 0 costs nothing); nothing is raised until the polls have released enough room.

Within the room, in this order: sold-out listings are fed (they sell nothing); listings above their target
are lowered; the others are raised, by a delta where the platform takes one (it costs only the rise and
overwrites nothing). An absolute push to a listing that still holds units costs its full value while the old
copy still counts, so moving such a listing when room is short means first pushing less than its target,
down to 0 (a "drain"). A drain is done when safety needs it; when a sold-out listing waits for units (the
listings furthest above their targets are emptied until they cover it: selling frees no room, as A falls
with E); or when the listing is quiet (no order for `quiet_after`). A busy listing merely above a quota that
moved by a unit after a sale elsewhere keeps selling what it has, so a burst of orders does not churn pushes.

Exactness and liveness. E[c] is exact when (1) holds with equality: the book knows it when a channel starts
from a known copy, and after a poll releases an absolute push during whose flight (until the poll) c had no
order and after which only non-negative deltas sent after its confirmation may land. Otherwise E[c] may
still count units no longer shown (the old copy of an absolute push that also sold after landing): safe,
but the listing may show less than its target, so a quiet inexact listing is re-anchored with an absolute
push. Checked by the stateful test in tests/unit/domain/test_exposure.py: if from some moment there are no
sales and no stock changes, every sale has been notified, every push is answered, every confirmation is
followed by a poll covering it, the targets sum to at most A, and `plan_pushes` is called after the answers
and polls of its previous pushes with `now` at least `quiet_after` past the last order, then within a few
rounds (at most 4 in every run seen for three listings; the test allows 5) it plans nothing, and from then
on every platform shows exactly its target in whole packs. Sketch: planning nothing at quiet implies every
listing is settled, exact and at its target (else a re-anchor, lowering, raise or drain applies: targets
<= A guarantee room for the gaps); a re-anchor makes a listing exact; an exact listing above target is
lowered; once every E <= target, room = A - sum(E) >= the sum of the gaps, so a delta closes a gap at once
and an absolute-only listing at once or after one drain to 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum, StrEnum
from typing import Any

from omnistock.errors import Conflict, Invalid, NotFound

DEFAULT_QUIET_AFTER = 60.0  # seconds without an order after which draining a listing costs few sales


class PushKind(StrEnum):
    ABSOLUTE = "absolute"  # set the platform's copy to `amount`
    DELTA = "delta"        # add `amount` to the platform's copy


def push_cost(kind: PushKind, amount: int) -> int:
    """The most a push can add to what its channel may sell: all of an absolute value, the rise of a delta."""
    return amount if kind is PushKind.ABSOLUTE else max(amount, 0)


@dataclass(frozen=True)
class PlannedPush:
    channel: str
    kind: PushKind
    amount: int  # units of the SKU: the value to set, or the change; a whole number of the listing's packs

    @property
    def cost(self) -> int:
        return push_cost(self.kind, self.amount)


@dataclass(frozen=True)
class ListingTraits:
    """What the planner must know of a listing: whether its platform takes deltas, and its pack size."""

    supports_delta: bool = False
    pack_size: int = 1

    def __post_init__(self) -> None:
        _check_units("pack_size", self.pack_size, least=1)


class _Outcome(Enum):
    PENDING = "pending"
    APPLIED = "applied"
    UNKNOWN = "unknown"  # timed out: applied or not, it can no longer apply


@dataclass
class _Push:
    push_id: int
    kind: PushKind
    amount: int
    sent_at: float
    orders_at_send: int
    outcome: _Outcome = _Outcome.PENDING
    settled_at: float | None = None
    polled: bool = False  # a poll has covered it, so it can release nothing more

    @property
    def cost(self) -> int:
        return push_cost(self.kind, self.amount)

    @property
    def is_anchor(self) -> bool:
        """A confirmed absolute push a poll may still use to release the copy it replaced."""
        return self.kind is PushKind.ABSOLUTE and self.outcome is _Outcome.APPLIED and not self.polled

    @property
    def may_anchor(self) -> bool:
        return self.is_anchor or (self.kind is PushKind.ABSOLUTE and self.outcome is _Outcome.PENDING)

    def settled_before(self, other: _Push) -> bool:
        """Surely landed (or can no longer land) before `other` was sent, so `other` replaced it."""
        return self.settled_at is not None and self.settled_at < other.sent_at


@dataclass
class _Channel:
    exposure: int
    exact: bool
    expected: int  # the copy the platform shows if every sale was notified in order: for unguarded pushes
    orders: int = 0
    last_order_at: float | None = None
    overrun: int = 0
    pushes: list[_Push] = field(default_factory=list)

    def in_flight(self) -> bool:
        return any(p.outcome is _Outcome.PENDING for p in self.pushes)


class ExposureBook:
    """The exposures of every listing of one SKU and the SKU's available units (module doc). The sync
    engine reports every event, in the order it learns of them; the book never calls anyone."""

    def __init__(self, available: int, displayed: Mapping[str, int], *, exact: bool = True) -> None:
        self.available = available
        self._channels: dict[str, _Channel] = {}
        self._last_id = 0
        for channel, shown in displayed.items():
            self.add_channel(channel, shown, exact=exact)

    def add_channel(self, channel: str, displayed: int, *, exact: bool = True) -> None:
        """Start keeping a listing that shows `displayed` units. `exact` says every sale it made so far
        is known (else its exposure may still include sold units and it will be re-anchored when quiet)."""
        if channel in self._channels:
            raise Conflict(f"exposure of {channel!r} is already kept", field="channel")
        _check_units("displayed", displayed, least=0)
        self._channels[channel] = _Channel(exposure=displayed, exact=exact, expected=displayed)

    # --- what the book knows ------------------------------------------------------------------------

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self._channels)

    def exposure(self, channel: str) -> int:
        return self._channel(channel).exposure

    @property
    def total_exposure(self) -> int:
        return sum(c.exposure for c in self._channels.values())

    @property
    def room(self) -> int:
        """What the pushes sent now may cost together (negative when there is a deficit)."""
        return self.available - self.total_exposure

    @property
    def deficit(self) -> int:
        return max(self.total_exposure - self.available, 0)

    def is_exact(self, channel: str) -> bool:
        return self._channel(channel).exact

    def in_flight(self, channel: str) -> bool:
        return self._channel(channel).in_flight()

    def awaiting_poll(self, channel: str) -> float | None:
        """The latest confirmation time an order poll of this channel must cover to release the copies
        replaced by confirmed absolute pushes; None when no poll is awaited."""
        times = [p.settled_at for p in self._channel(channel).pushes if p.is_anchor and p.settled_at is not None]
        return max(times, default=None)

    def is_settled(self, channel: str) -> bool:
        """No push in flight and no poll awaited: the book's view of the channel is as good as it gets."""
        return not self.in_flight(channel) and self.awaiting_poll(channel) is None

    def is_quiet(self, channel: str, now: float, quiet_after: float) -> bool:
        last = self._channel(channel).last_order_at
        return last is None or now - last >= quiet_after

    def overrun(self, channel: str) -> int:
        """Units the channel sold beyond its bound: the platform's copy was changed behind omnistock."""
        return self._channel(channel).overrun

    def expected_display(self, channel: str) -> int:
        return self._channel(channel).expected

    # --- events -----------------------------------------------------------------------------------------

    def push_sent(self, channel: str, kind: PushKind, amount: int, at: float) -> int:
        """Record a push about to be sent (before the call, so a crash can only overstate); returns its id."""
        state = self._channel(channel)
        _check_units("amount", amount, least=0 if kind is PushKind.ABSOLUTE else None)
        # a push that may land after another one, or that replaces a copy which may still hold units,
        # can leave units in the bound that are no longer there
        if state.in_flight() or amount < 0 or (kind is PushKind.ABSOLUTE and state.exposure > 0):
            state.exact = False
        self._last_id += 1
        push = _Push(self._last_id, kind, amount, at, state.orders)
        state.pushes.append(push)
        state.exposure += push.cost
        state.expected = amount if kind is PushKind.ABSOLUTE else max(state.expected + amount, 0)
        return push.push_id

    def push_confirmed(self, push_id: int, at: float) -> None:
        """The platform answered that it applied the push (it landed at some moment up to `at`)."""
        channel, push = self._pending(push_id)
        push.outcome, push.settled_at = _Outcome.APPLIED, at
        self._forget(channel)

    def push_failed(self, push_id: int) -> None:
        """The platform refused the push: it did not apply and never will."""
        channel, push = self._pending(push_id)
        state = self._channels[channel]
        state.pushes.remove(push)
        state.exposure -= push.cost
        self._forget(channel)

    def push_timed_out(self, push_id: int, at: float) -> None:
        """No answer came, and the caller is sure the push can no longer apply after `at` (for example
        because the platform drops requests older than that): it may or may not have applied."""
        channel, push = self._pending(push_id)
        push.outcome, push.settled_at = _Outcome.UNKNOWN, at
        self._channels[channel].exact = False
        self._forget(channel)

    def order_notified(self, channel: str, units: int, at: float) -> None:
        """An order of `units` on `channel`, told once (webhook or poll, after de-duplication)."""
        _check_units("units", units, least=1)
        state = self._channel(channel)
        self.available -= units
        if units > state.exposure:
            state.overrun += units - state.exposure
            state.exact = False
        state.exposure = max(state.exposure - units, 0)
        state.expected = max(state.expected - units, 0)
        state.orders += 1
        state.last_order_at = at if state.last_order_at is None else max(state.last_order_at, at)

    def order_cancelled(self, channel: str, units: int, *, platform_restocks: bool) -> None:
        """A known order was cancelled: its units are available again, and on the platform's own copy too
        where the platform restocks cancelled orders itself."""
        _check_units("units", units, least=1)
        state = self._channel(channel)
        self.available += units
        if platform_restocks:
            state.exposure += units
            state.expected += units

    def poll_completed(self, channel: str, covered_until: float) -> None:
        """Every order of `channel` placed at or before `covered_until` has now been notified."""
        state = self._channel(channel)
        best: tuple[int, bool] | None = None
        covered = [p for p in state.pushes if p.is_anchor and (p.settled_at or 0.0) <= covered_until]
        for anchor in covered:
            later = [p for p in state.pushes if p is not anchor and not p.settled_before(anchor)]
            bound = anchor.amount + sum(p.cost for p in later)
            tight = state.orders == anchor.orders_at_send and all(_adds_exactly(p, anchor) for p in later)
            anchor.polled = True
            if best is None or (bound, not tight) < (best[0], not best[1]):
                best = (bound, tight)
        if best is not None:
            bound, tight = best
            if bound < state.exposure:
                state.exposure, state.exact = bound, tight
            elif bound == state.exposure:
                state.exact = state.exact or tight
        self._forget(channel)

    def stock_changed(self, units: int) -> None:
        """Units received or released (+) or written off (-) other than by platform orders."""
        _check_units("units", units, least=None)
        self.available += units

    # --- stored form ------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole book as JSON-ready data, to keep in the same transaction as the events it reflects;
        `restore` reads it back. Times are whatever clock the caller uses (it must survive restarts)."""
        channels = {}
        for name, state in self._channels.items():
            pushes = [{**asdict(p), "kind": p.kind.value, "outcome": p.outcome.value} for p in state.pushes]
            channels[name] = {**asdict(state), "pushes": pushes}
        return {"available": self.available, "last_push_id": self._last_id, "channels": channels}

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> ExposureBook:
        book = cls(int(data["available"]), {})
        book._last_id = int(data["last_push_id"])
        for name, stored in data["channels"].items():
            pushes = [_Push(**{**p, "kind": PushKind(p["kind"]), "outcome": _Outcome(p["outcome"])})
                      for p in stored["pushes"]]
            book._channels[name] = _Channel(**{**stored, "pushes": pushes})
        return book

    # --- internals --------------------------------------------------------------------------------------

    def _channel(self, channel: str) -> _Channel:
        try:
            return self._channels[channel]
        except KeyError:
            raise NotFound(f"no exposure is kept for {channel!r}", field="channel") from None

    def _pending(self, push_id: int) -> tuple[str, _Push]:
        for channel, state in self._channels.items():
            for push in state.pushes:
                if push.push_id == push_id:
                    if push.outcome is not _Outcome.PENDING:
                        raise Conflict(f"push {push_id} was already answered", field="push_id")
                    return channel, push
        raise NotFound(f"unknown push {push_id}", field="push_id")

    def _forget(self, channel: str) -> None:
        """Drop answered pushes no future poll can need: those settled before every push that may still
        become an anchor was sent."""
        state = self._channels[channel]
        anchors = [p for p in state.pushes if p.may_anchor]
        state.pushes = [p for p in state.pushes
                        if p.outcome is _Outcome.PENDING or p.is_anchor
                        or any(a is not p and not p.settled_before(a) for a in anchors)]


def _adds_exactly(push: _Push, anchor: _Push) -> bool:
    """Whether `push`'s cost is counted exactly in a bound anchored on `anchor`: a non-negative delta sent
    after the anchor was confirmed surely lands after it, and adds what it costs."""
    return (push.kind is PushKind.DELTA and push.amount >= 0 and push.outcome is not _Outcome.UNKNOWN
            and anchor.settled_at is not None and push.sent_at > anchor.settled_at)


# --- the planner ------------------------------------------------------------------------------------------


def plan_pushes(book: ExposureBook, targets: Mapping[str, int], traits: Mapping[str, ListingTraits] | None = None,
                *, now: float, quiet_after: float = DEFAULT_QUIET_AFTER, guarded: bool = True) -> list[PlannedPush]:
    """The pushes to send now to move the listings toward `targets` (units; a listing without a target is
    taken to 0), one per listing at most, sorted by listing. Record each with `book.push_sent` in the
    order given before sending it.

    Guarded (the SKU is partitioned): only pushes that keep sum(E) <= A; listings with a push in flight
    or a poll awaited wait. In order: sold-out listings get what room there is; listings above their target
    are lowered (module doc, `_Planner.lower`); the others are raised. Unguarded (the policies let the
    copies overlap, as `shared` does): every listing without a push in flight gets its target as an
    absolute value when it is expected to show something else; the book still records everything, so a
    later switch to guarded mode starts from the truth.
    """
    traits = traits or {}
    strangers = sorted(set(targets) - set(book.channels))
    if strangers:
        raise Invalid(f"no exposure is kept for {strangers[0]!r}", field="targets")
    channels = sorted(book.channels)
    listing = {c: traits.get(c, ListingTraits()) for c in channels}
    goals = {c: _whole_packs(targets.get(c, 0), listing[c].pack_size) for c in channels}
    if not guarded:
        return [PlannedPush(c, PushKind.ABSOLUTE, goals[c]) for c in channels
                if not book.in_flight(c) and book.expected_display(c) != goals[c]]
    planner = _Planner(book, goals, listing, {c: book.is_quiet(c, now, quiet_after) for c in channels})
    return planner.plan()


class _Planner:
    """One guarded planning round: `room` is what the pushes planned so far leave of A - sum(E)."""

    def __init__(self, book: ExposureBook, goals: Mapping[str, int], listing: Mapping[str, ListingTraits],
                 quiet: Mapping[str, bool]) -> None:
        self.book, self.goals, self.listing, self.quiet = book, goals, listing, quiet
        self.room = book.room
        self.ready = [c for c in goals if book.is_settled(c)]
        self.pushes: dict[str, PlannedPush] = {}

    def plan(self) -> list[PlannedPush]:
        # an empty listing sells nothing, so feeding it comes first
        for c in self.ready:
            if self.book.exposure(c) == 0:
                self.add(self.raise_(c))
        drains = self.drains_for_the_starving()
        for c in self.ready:
            self.add(self.lower(c, may_drain=self.quiet[c] or c in drains))
        for c in self.ready:
            self.add(self.raise_(c))
        return sorted(self.pushes.values(), key=lambda p: p.channel)

    def add(self, push: PlannedPush | None) -> None:
        if push is not None and push.channel not in self.pushes:
            self.pushes[push.channel] = push
            self.room -= push.cost

    def drains_for_the_starving(self) -> set[str]:
        """Listings to empty for sold-out ones the room could not feed: the furthest above target first,
        until what they hold covers the starving targets. Selling down frees no room (A falls with E), so
        without this a sold-out listing would wait for the next quiet moment."""
        need = sum(g for c, g in self.goals.items() if self.book.exposure(c) == 0 < g and c not in self.pushes)
        over = sorted((c for c in self.ready if self.book.exposure(c) > self.goals[c]),
                      key=lambda c: (self.goals[c] - self.book.exposure(c), c))
        chosen: set[str] = set()
        for c in over:
            if need <= 0:
                break
            chosen.add(c)
            need -= self.book.exposure(c)
        return chosen

    def lower(self, c: str, *, may_drain: bool) -> PlannedPush | None:
        """Lower a listing above its target, or re-anchor an inexact one, with an absolute push that fits.
        Pushing less than the target (a drain: the room is short) is done when safety needs it, for a
        sold-out listing, or when this one is quiet; a listing merely above a quota that moved by a unit
        after a sale elsewhere keeps selling what it has."""
        held, goal = self.book.exposure(c), self.goals[c]
        over = held > goal
        if c in self.pushes or (not over and (self.book.is_exact(c) or not may_drain)):
            return None
        value = _whole_packs(min(goal, self.room), self.listing[c].pack_size)
        if value == goal or may_drain or (over and self.room < 0):
            return PlannedPush(c, PushKind.ABSOLUTE, value)
        return None

    def raise_(self, c: str) -> PlannedPush | None:
        held, goal, listing = self.book.exposure(c), self.goals[c], self.listing[c]
        if c in self.pushes or held >= goal:
            return None
        if listing.supports_delta:
            step = _whole_packs(min(goal - held, self.room), listing.pack_size)
            return PlannedPush(c, PushKind.DELTA, step) if step > 0 else None
        value = _whole_packs(min(goal, self.room), listing.pack_size)
        if value == goal:
            return PlannedPush(c, PushKind.ABSOLUTE, value)
        # an absolute raise costs the whole new value while the old copy still counts: when room is short,
        # emptying the listing first (once it is quiet) is the way up, if what that releases suffices;
        # a busy listing only takes what the room gives beyond its copy
        if self.quiet[c] and held > 0 and self.room + held >= goal:
            return PlannedPush(c, PushKind.ABSOLUTE, 0)
        if value > held:
            return PlannedPush(c, PushKind.ABSOLUTE, value)
        return None


def _whole_packs(units: int, pack: int) -> int:
    return max(units, 0) // pack * pack


def _check_units(name: str, value: object, *, least: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{name} must be a whole number", field=name)
    if least is not None and value < least:
        raise Invalid(f"{name} must be at least {least}", field=name)
