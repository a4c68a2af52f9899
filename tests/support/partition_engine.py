"""The real sync engine (claim, record, order intake, poll completion) driven step by step against in-process
platforms that keep their own copies, so that tests can choose every interleaving of pushes, answers, sales,
webhooks and polls, and move the clock. The wire is the test's to delay, lose or reorder: the simulator over
HTTP is too slow for hypothesis, and it is covered by the flash-sale test."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import delete, func, select, update

from conftest import SYSTEM, Backend
from omnistock.channels.base import OrderEvent, OrderEventKind, PlatformOrderLine, StockResult
from omnistock.domain.stock import MoveKind
from omnistock.errors import PlatformInvalid, PlatformTransient
from omnistock.services import catalogue, ledger
from omnistock.services.lookup import channel_by_code
from omnistock.store.tables import Channel, Order, OrderLine, Sku
from omnistock.store.types import utcnow
from omnistock.sync import exposure_events, exposure_store, intake, pusher
from omnistock.sync.exposure_tables import ExposureBookRow
from omnistock.sync.listings import ListingSpec, create_listing
from omnistock.sync.pusher import Claimed, Outcome
from omnistock.sync.tables import Listing
from support.platforms import Connected, connect

LEASE = timedelta(seconds=5)
# How the platforms really behave: a request they received is applied within this time, or never. The engine
# assumes the same (`partition.APPLY_WINDOW`, counted from its lease's end); kept apart so a wrong engine fails.
PLATFORM_APPLY = timedelta(seconds=60)
ORDER_IDS = itertools.count(900001)  # platform order ids, unique across engines sharing channels
# The engine whose clock stamps orders (see `stamp_orders_on_engine_clock`); the latest one opened.
CLOCK: list[Engine] = []


def engine_time() -> datetime:
    return CLOCK[-1].now if CLOCK else utcnow()


def open_channels(backend: Backend, api: httpx.Client, sim: object, platforms: Sequence[str],
                  threshold: int | None) -> list[tuple[str, int]]:
    """Location WH and one channel per platform (a simulated shop behind it), with partition policies when
    `threshold` is set; returns (code, id) of each channel."""
    assert api.post("/api/v1/locations", json={"code": "WH", "name": "Main", "kind": "warehouse"}).status_code == 201
    channels = []
    for platform in platforms:
        conn: Connected = connect(api, sim, platform)  # type: ignore[arg-type]
        if threshold is not None:
            r = api.put(f"/api/v1/channels/{conn.code}/policy",
                        json={"policy": {"kind": "partition", "threshold": threshold}})
            assert r.status_code == 200, r.text
        with backend.db.reading() as s:
            channels.append((conn.code, channel_by_code(s, conn.code).id))
    return channels


@dataclass
class Shelf:
    """One listing on its platform: the copy the platform sells from, in packs."""

    code: str
    channel_id: int
    listing_id: int
    external_id: str
    pack: int
    shown: int = 0


@dataclass
class Sale:
    shelf: Shelf
    order_id: str
    packs: int
    at: datetime
    cancelled: bool = False

    @property
    def units(self) -> int:
        return self.packs * self.shelf.pack


@dataclass
class Request:
    """A push on the wire. It may land until `deadline` (the engine's assumption: the lease, then the apply
    window), never after, and never once refused; it leaves the wire once answered (or abandoned by a dead
    worker) and unable to land any more."""

    shelf: Shelf
    claimed: Claimed
    deadline: datetime
    landed: bool = False
    refused: bool = False
    answered: bool = False


@dataclass
class Engine:
    backend: Backend
    sku: str
    shelves: list[Shelf]
    stock_in: int
    now: datetime = field(default_factory=utcnow)
    sales: list[Sale] = field(default_factory=list)
    webhooks: list[tuple[Sale, OrderEventKind]] = field(default_factory=list)
    wire: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        CLOCK[:] = [self]

    # --- set-up -----------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, backend: Backend, api: httpx.Client, sim: object, *, stock: int, threshold: int | None,
             platforms: tuple[str, ...] = ("jd", "taobao", "pinduoduo"), packs: tuple[int, ...] = ()) -> Engine:
        """SKU A with `stock` units on one listing per platform; partition policies when `threshold` is set."""
        return cls.for_sku(backend, open_channels(backend, api, sim, platforms, threshold), "A", stock, packs)

    @classmethod
    def for_sku(cls, backend: Backend, channels: Sequence[tuple[str, int]], sku: str, stock: int,
                packs: tuple[int, ...] = ()) -> Engine:
        """A new SKU with `stock` units and one listing of it on each channel (code, id)."""
        shelves = []
        with backend.db.transaction() as s:
            catalogue.create_sku(s, catalogue.SkuSpec(sku, sku), actor="test")
            if stock:
                ledger.post_move(s, ledger.MoveSpec(sku, "WH", MoveKind.RECEIPT, stock), SYSTEM)
            for n, (code, channel_id) in enumerate(channels):
                pack = packs[n] if n < len(packs) else 1
                listing = create_listing(s, code, ListingSpec(sku, f"{sku}-{n}", pack_size=pack), SYSTEM)
                shelves.append(Shelf(code, channel_id, listing.id, listing.external_id, pack))
        return cls(backend, sku, shelves, stock)

    def retire(self) -> None:
        """Leave the channels to the next SKU: its listings never come up in a claim again."""
        ids = [shelf.listing_id for shelf in self.shelves]
        with self.backend.db.transaction() as s:
            s.execute(update(Listing).where(Listing.id.in_(ids)).values(dirty=False, claimed_until=None))
            s.execute(delete(ExposureBookRow).where(ExposureBookRow.sku_id.in_(
                select(Listing.sku_id).where(Listing.id.in_(ids)))))

    # --- the platforms --------------------------------------------------------------------------------------

    def sell(self, shelf: Shelf, packs: int) -> Sale | None:
        """A shopper buys from the platform's copy; the webhook is queued (the test delivers or loses it)."""
        if packs <= 0 or packs > shelf.shown:
            return None
        shelf.shown -= packs
        sale = Sale(shelf, str(next(ORDER_IDS)), packs, self.now)
        self.sales.append(sale)
        self.webhooks.append((sale, OrderEventKind.CREATED))
        return sale

    def cancel(self, sale: Sale) -> None:
        """The platform cancels an order and puts its packs back on its own copy."""
        if sale.cancelled:
            return
        sale.cancelled = True
        sale.shelf.shown += sale.packs
        self.webhooks.append((sale, OrderEventKind.CANCELLED))

    def set_by_hand(self, shelf: Shelf, packs: int) -> None:
        shelf.shown = packs

    # --- the engine -----------------------------------------------------------------------------------------

    def claim(self, shelf: Shelf) -> list[Request]:
        with self.backend.db.transaction() as s:
            claimed, _ = pusher.claim(s, shelf.channel_id, self.now, 50, LEASE)
        by_listing = {sh.listing_id: sh for sh in self.shelves}
        sent = [Request(by_listing[c.listing_id], c, self.now + PLATFORM_APPLY) for c in claimed]
        self.wire += sent
        return sent

    def land(self, request: Request) -> bool:
        if request.refused or request.landed or self.now > request.deadline:
            return False
        request.shelf.shown = request.claimed.value
        request.landed = True
        return True

    def answer(self, request: Request, how: str = "applied") -> None:
        """The worker records what it heard: "applied" (it landed), "refused" (it never will) or "unsure"
        (a timeout: it may still land until its deadline)."""
        assert not request.answered and (how != "applied" or request.landed)
        assert how != "refused" or not request.landed
        error = {"applied": None, "refused": PlatformInvalid("refused"), "unsure": PlatformTransient("timed out")}[how]
        result = StockResult(request.claimed.external_id, how == "applied", error)
        outcome = Outcome(request.claimed, result, 1, how == "unsure", f"call-{id(request)}")
        with self.backend.db.transaction() as s:
            pusher.record(s, request.shelf.channel_id, [outcome], self.now)
        request.answered, request.refused = True, how == "refused"
        self.sweep()

    def abandon(self, request: Request) -> None:
        """The worker died between claim and record: no answer will ever be recorded."""
        request.answered = True
        self.sweep()

    def sweep(self) -> None:
        self.wire = [r for r in self.wire
                     if not (r.answered and (r.landed or r.refused or self.now > r.deadline))]

    def deliver(self, sale: Sale, kind: OrderEventKind, source: str = "webhook") -> None:
        event = OrderEvent(kind=kind, external_order_id=sale.order_id, event_id=f"{sale.order_id}:{kind.value}",
                           lines=[PlatformOrderLine(sale.shelf.external_id, sale.packs)])
        with self.backend.db.transaction() as s:
            channel = s.get(Channel, sale.shelf.channel_id)
            assert channel is not None
            intake.ingest(s, channel, [event], source)

    def poll(self, shelf: Shelf) -> None:
        """An order poll of the shelf's channel up to now: every order as it is now, then the span completed."""
        for sale in self.sales:
            if sale.shelf.channel_id == shelf.channel_id and sale.at <= self.now:
                self.deliver(sale, OrderEventKind.CANCELLED if sale.cancelled else OrderEventKind.CREATED, "poll")
        with self.backend.db.transaction() as s:
            exposure_events.poll_completed(s, shelf.channel_id, self.now, self.now)

    def receive(self, units: int) -> None:
        with self.backend.db.transaction() as s:
            ledger.post_move(s, ledger.MoveSpec(self.sku, "WH", MoveKind.RECEIPT, units), SYSTEM)
        self.stock_in += units

    def pass_time(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.sweep()

    # --- settling, as a healthy network would -------------------------------------------------------------

    def round(self) -> int:
        """Claim every channel, land and answer everything, deliver every webhook, poll every channel."""
        sent = [r for shelf in self.shelves for r in self.claim(shelf)]
        self.tick()
        for request in list(self.wire):
            self.land(request)
        self.tick()
        for request in list(self.wire):
            if not request.answered:
                self.answer(request, "applied" if request.landed else "refused")
        for sale, kind in self.webhooks:
            self.deliver(sale, kind)
        self.webhooks.clear()
        self.pass_time(2)  # beyond the poller's clock margin
        for shelf in self.shelves:
            self.poll(shelf)
        self.tick()
        return len(sent)

    def settle(self, rounds: int = 12) -> None:
        for _ in range(rounds):
            if not self.round() and not self.dirty_due():
                return
            self.pass_time(1)
        raise AssertionError("the engine did not settle")

    def tick(self) -> None:
        self.now += timedelta(milliseconds=10)

    # --- what the tests read -------------------------------------------------------------------------------

    def sold_units(self) -> int:
        return sum(s.units for s in self.sales if not s.cancelled)

    def held_orders(self) -> set[str]:
        """External ids of the orders of this SKU held for want of stock: oversold (other holds, such as an
        unusually large quantity, are the watch's and say nothing of the stock)."""
        with self.backend.db.reading() as s:
            return set(s.scalars(select(Order.external_id).join(OrderLine, OrderLine.order_id == Order.id)
                                 .join(Sku, Sku.id == OrderLine.sku_id)
                                 .where(Order.status == "held", Order.hold_reason.like("insufficient_stock%"),
                                        Sku.code == self.sku)))

    def dirty_due(self) -> bool:
        ids = [shelf.listing_id for shelf in self.shelves]
        with self.backend.db.reading() as s:
            return bool(s.scalar(select(func.count()).select_from(Listing).where(
                Listing.id.in_(ids), Listing.dirty.is_(True),
                (Listing.next_attempt_at.is_(None)) | (Listing.next_attempt_at <= self.now))))

    def exposure(self, shelf: Shelf) -> int:
        with self.backend.db.transaction() as s:
            sku_id = s.scalar(select(Listing.sku_id).where(Listing.id == shelf.listing_id))
            books = exposure_store.lock(s, [sku_id] if sku_id else [], skip_locked=False)
            assert books, "no exposure book"
            return next(iter(books.values())).book.exposure(exposure_store.key_of(shelf.listing_id))

    def has_book(self) -> bool:
        with self.backend.db.reading() as s:
            sku_id = s.scalar(select(Listing.sku_id).where(Listing.id == self.shelves[0].listing_id))
            return bool(exposure_store.with_books(s, [sku_id] if sku_id else []))
