"""Partition mode in the real sync engine: under `partition` no unit is ever oversold, whatever the delays of
pushes and webhooks. Step by step against in-process platforms (every interleaving is the test's to choose,
including a hypothesis search over them), and as a flash sale over real HTTP against the simulator."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from conftest import Backend
from omnistock.channels.base import OrderEventKind
from omnistock.services import orders
from omnistock.store.tables import AuditEntry
from omnistock.sync import exposure_events
from omnistock.sync.partition import APPLY_WINDOW
from omnistock.sync.tables import Listing
from support.partition_engine import CLOCK, LEASE, Engine, engine_time, open_channels

EXAMPLES = itertools.count(1)
PARTITIONED = 1000  # a threshold above any stock here: the SKU is partitioned from the start


@pytest.fixture(autouse=True)
def stamp_orders_on_engine_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Orders are stamped on the step-by-step engine's clock, as pushes are (patch time, not logic): a
    hypothesis replay is then the same run, and the books compare times of one clock."""
    monkeypatch.setattr(orders, "utcnow", engine_time)
    yield
    CLOCK.clear()


# --- step by step -----------------------------------------------------------------------------------------------


def test_unknown_copies_are_emptied_before_disjoint_quotas_are_shown(clean: Backend, api: httpx.Client,  # type: ignore[no-untyped-def]
                                                                     sim) -> None:
    engine = Engine.open(clean, api, sim, stock=12, threshold=PARTITIONED)
    first = [r.claimed.value for shelf in engine.shelves for r in engine.claim(shelf)]
    assert first == [0, 0, 0]  # never pushed: each copy may hold anything, so each is emptied first
    engine.settle()
    assert [s.shown for s in engine.shelves] == [4, 4, 4]
    assert [engine.exposure(s) for s in engine.shelves] == [4, 4, 4]


def test_sold_out_listing_gets_units_emptied_from_the_others(clean: Backend, api: httpx.Client, sim) -> None:  # type: ignore[no-untyped-def]
    engine = Engine.open(clean, api, sim, stock=12, threshold=PARTITIONED)
    engine.settle()
    jd = engine.shelves[0]
    engine.sell(jd, 4)
    engine.settle()
    assert jd.shown > 0, "the sold-out platform was fed again"
    assert sum(s.shown for s in engine.shelves) <= 8
    assert engine.held_orders() == set()


def test_push_of_a_worker_killed_mid_call_stays_counted_until_it_can_no_longer_land(  # type: ignore[no-untyped-def]
        clean: Backend, api: httpx.Client, sim) -> None:
    engine = Engine.open(clean, api, sim, stock=12, threshold=PARTITIONED)
    engine.settle()
    jd = engine.shelves[0]
    engine.receive(9)  # 21 available, quotas of 7: room 9 lets the first listing rise to 7
    [push] = engine.claim(jd)
    assert push.claimed.value == 7 and push.claimed.send_by == engine.now + LEASE
    engine.abandon(push)  # killed before it could record anything
    assert engine.exposure(jd) == 4 + 7  # the old copy may sell before the 7 land, and the 7 after
    engine.pass_time(LEASE.total_seconds() + 1)
    assert engine.claim(jd) == []  # lease over, but the request may still land: the listing waits
    assert engine.land(push)  # it does land, late
    assert engine.exposure(jd) == 11
    engine.pass_time(APPLY_WINDOW.total_seconds())
    assert engine.claim(jd) != [], "once the push can no longer land, the listing moves again"
    engine.settle()
    assert sum(s.shown for s in engine.shelves) <= 21 and engine.held_orders() == set()


def test_unsure_answer_keeps_the_push_counted_and_a_refusal_gives_it_back(  # type: ignore[no-untyped-def]
        clean: Backend, api: httpx.Client, sim) -> None:
    engine = Engine.open(clean, api, sim, stock=12, threshold=PARTITIONED)
    engine.settle()
    jd, taobao = engine.shelves[0], engine.shelves[1]
    engine.receive(9)
    [push] = engine.claim(jd)
    engine.answer(push, "unsure")
    assert engine.exposure(jd) == 11
    engine.pass_time(2)
    assert engine.claim(jd) == []  # still in flight as far as anyone can tell
    engine.pass_time(LEASE.total_seconds() + APPLY_WINDOW.total_seconds())
    [again] = engine.claim(jd)
    engine.answer(again, "refused")
    assert engine.exposure(jd) == 11  # the timed-out push keeps its cost; the refused one gave its back
    assert engine.exposure(taobao) == 4


def test_units_put_back_after_a_push_landed_stay_counted_after_the_poll(  # type: ignore[no-untyped-def]
        clean: Backend, api: httpx.Client, sim) -> None:
    engine = Engine.open(clean, api, sim, stock=12, threshold=PARTITIONED)
    engine.settle()
    jd = engine.shelves[0]
    sale = engine.sell(jd, 2)  # sold from the old copy...
    assert sale is not None
    engine.deliver(*engine.webhooks.pop())
    engine.receive(6)
    [push] = engine.claim(jd)
    engine.land(push)
    engine.answer(push)
    engine.cancel(sale)  # ...and cancelled after the push landed: the platform adds it to the new copy
    engine.deliver(*engine.webhooks.pop())
    engine.pass_time(2)
    engine.poll(jd)
    assert jd.shown == push.claimed.value + 2
    assert engine.exposure(jd) >= jd.shown


def test_sale_beyond_a_copy_changed_by_hand_is_alerted_and_every_listing_pushed(  # type: ignore[no-untyped-def]
        clean: Backend, api: httpx.Client, sim) -> None:
    seen: list[tuple[int, int, int]] = []
    exposure_events.overrun_seen.append(lambda _s, sku, listing, units: seen.append((sku, listing, units)))
    try:
        engine = Engine.open(clean, api, sim, stock=12, threshold=PARTITIONED)
        engine.settle()
        jd = engine.shelves[0]
        engine.set_by_hand(jd, 10)
        sale = engine.sell(jd, 6)
        assert sale is not None
        engine.deliver(sale, OrderEventKind.CREATED)
    finally:
        exposure_events.overrun_seen.pop()
    assert [(listing, units) for _, listing, units in seen] == [(jd.listing_id, 2)]
    with clean.db.reading() as s:
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.action == "exposure.overrun")) is not None
        assert all(s.scalars(select(Listing.dirty)))


def test_entering_partition_empties_the_shared_copies_and_leaving_it_shows_all_again(  # type: ignore[no-untyped-def]
        clean: Backend, api: httpx.Client, sim) -> None:
    engine = Engine.open(clean, api, sim, stock=20, threshold=None)
    engine.settle()
    assert [s.shown for s in engine.shelves] == [20, 20, 20] and not engine.has_book()
    for shelf in engine.shelves:
        r = api.put(f"/api/v1/channels/{shelf.code}/policy", json={"policy": {"kind": "partition", "threshold": 10}})
        assert r.status_code == 200
    engine.settle()
    assert not engine.has_book()  # 20 is above the threshold: still shared
    jd = engine.shelves[0]
    engine.sell(jd, 11)
    engine.deliver(*engine.webhooks.pop())
    drained = [r.claimed.value for shelf in engine.shelves for r in engine.claim(shelf)]
    assert drained == [0, 0, 0]  # the copies left by shared overlap: each is emptied before quotas
    engine.settle()
    assert engine.has_book() and 0 < sum(s.shown for s in engine.shelves) <= 9
    engine.receive(30)
    engine.settle()
    assert not engine.has_book()
    assert [s.shown for s in engine.shelves] == [39, 39, 39]


def test_listings_of_one_channel_split_its_partition_quota(clean: Backend, api: httpx.Client, sim) -> None:  # type: ignore[no-untyped-def]
    engine = Engine.open(clean, api, sim, stock=12, threshold=PARTITIONED, platforms=("jd",))
    r = api.post(f"/api/v1/channels/{engine.shelves[0].code}/listings",
                 json={"sku": "A", "external_id": "7999", "pack_size": 2})
    assert r.status_code == 201
    from omnistock.sync.targets import targets_for

    with clean.db.reading() as s:
        listings = list(s.scalars(select(Listing).order_by(Listing.id)))
        assert list(targets_for(s, listings).values()) == [6, 3]  # 6 singles and 3 pairs: 12 units together


# --- every interleaving (hypothesis) --------------------------------------------------------------------------


class Interleavings(RuleBasedStateMachine):
    """Three platforms sell from their own copies while the real engine claims, records, takes orders in and
    polls; the test delays, loses and reorders pushes, answers and webhooks, kills workers and moves the
    clock. No unit may ever be sold twice. Each example sells a new SKU on the same three channels."""

    def __init__(self, backend: Backend, channels: list[tuple[str, int]]) -> None:
        super().__init__()
        self.backend, self.channels = backend, channels

    @initialize(stock=st.integers(3, 20), greedy=st.booleans())
    def open_shops(self, stock: int, greedy: bool) -> None:
        """`greedy`: a flash sale's endless demand empties every copy the moment it shows anything."""
        self.greedy = greedy
        self.engine = Engine.for_sku(self.backend, self.channels, f"H{next(EXAMPLES)}", stock, packs=(1, 2, 1))
        for _ in range(3):  # the platforms show their quotas: the interesting interleavings start from there
            self.engine.round()

    def teardown(self) -> None:
        if hasattr(self, "engine"):
            self.engine.retire()

    def shoppers(self) -> None:
        if self.greedy:
            for shelf in self.engine.shelves:
                self.engine.sell(shelf, shelf.shown)

    # the platforms

    # shoppers buy a few packs, or (None) a flash-sale burst empties the copy; one rule per platform, so that
    # sales are as frequent as everything else the engine does
    @rule(packs=st.none() | st.integers(1, 3))
    def shoppers_on_jd(self, packs: int | None) -> None:
        self.sell(0, packs)

    @rule(packs=st.none() | st.integers(1, 3))
    def shoppers_on_taobao(self, packs: int | None) -> None:
        self.sell(1, packs)

    @rule(packs=st.none() | st.integers(1, 3))
    def shoppers_on_pinduoduo(self, packs: int | None) -> None:
        self.sell(2, packs)

    def sell(self, n: int, packs: int | None) -> None:
        shelf = self.engine.shelves[n]
        self.engine.sell(shelf, shelf.shown if packs is None else min(packs, shelf.shown))

    @precondition(lambda self: any(not s.cancelled for s in self.engine.sales))
    @rule(pick=st.integers(0, 99))
    def platform_cancels(self, pick: int) -> None:
        live = [s for s in self.engine.sales if not s.cancelled]
        self.engine.cancel(live[pick % len(live)])
        self.shoppers()

    @precondition(lambda self: self.engine.webhooks)
    @rule(pick=st.integers(0, 99), lost=st.booleans())
    def webhook_arrives_or_is_lost(self, pick: int, lost: bool) -> None:
        sale, kind = self.engine.webhooks.pop(pick % len(self.engine.webhooks))
        if not lost:
            self.engine.deliver(sale, kind)
        self.shoppers()

    # the wire

    @precondition(lambda self: self.engine.wire)
    @rule(pick=st.integers(0, 99), what=st.sampled_from(["lands", "answered", "unsure", "worker dies"]))
    def network(self, pick: int, what: str) -> None:
        """A push lands on its platform, or its worker hears back (or times out, or dies), in any order."""
        request = self.engine.wire[pick % len(self.engine.wire)]
        if what == "lands":
            self.engine.land(request)
        elif request.answered:
            return
        elif what == "worker dies":
            self.engine.abandon(request)
        elif what == "unsure":
            self.engine.answer(request, "unsure")
        else:
            self.engine.answer(request, "applied" if request.landed else "refused")
        self.shoppers()

    # omnistock

    @rule(n=st.integers(0, 2))
    def worker_claims(self, n: int) -> None:
        self.engine.claim(self.engine.shelves[n])
        self.shoppers()

    @rule(n=st.integers(0, 2))
    def order_poll(self, n: int) -> None:
        self.engine.poll(self.engine.shelves[n])
        self.shoppers()

    @rule()
    def healthy_round(self) -> None:
        """Every channel claimed, every push landed and answered, every webhook in, every channel polled."""
        self.engine.round()
        self.shoppers()

    @rule(units=st.integers(1, 6))
    def stock_arrives(self, units: int) -> None:
        self.engine.receive(units)
        self.shoppers()

    @rule(seconds=st.sampled_from([0.5, 2.0, 10.0, 61.0]))
    def time_passes(self, seconds: float) -> None:
        self.engine.pass_time(seconds)
        self.shoppers()

    @invariant()
    def no_unit_is_sold_twice(self) -> None:
        if hasattr(self, "engine"):
            assert self.engine.sold_units() <= self.engine.stock_in

    @invariant()
    def no_order_is_held_for_want_of_stock(self) -> None:
        """Unless a platform cancelled an order: until the cancellation is told, its units stay reserved while
        the platform sells them again, and a sale taken in meanwhile can find them taken."""
        if hasattr(self, "engine") and not any(sale.cancelled for sale in self.engine.sales):
            assert self.engine.held_orders() == set()


def test_no_interleaving_of_sales_pushes_and_webhooks_oversells(clean: Backend, api: httpx.Client, sim) -> None:  # type: ignore[no-untyped-def]
    channels = open_channels(clean, api, sim, ("jd", "taobao", "pinduoduo"), PARTITIONED)
    run_state_machine_as_test(lambda: Interleavings(clean, channels),
                              settings=settings(max_examples=40, stateful_step_count=60, deadline=None, database=None))
