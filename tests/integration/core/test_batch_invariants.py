"""A hypothesis state machine drives the real services with batches on a real database — receipts into batches
that are expired, close to expiry or fresh, counts, write-offs and transfers with and without a batch, orders,
shipments, cancellations, returns, releases, and the expiry job as days pass — and checks after every step:
every level and batch level equals its moves and reservations (`ledger verify`), no batch and no loose
remainder holds less than it has reserved, and after the expiry job no expired unit is sellable or reserved."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from conftest import SYSTEM, Backend
from omnistock.domain.stock import MoveKind
from omnistock.errors import OmnistockError
from omnistock.services import ledger, orders
from omnistock.store.tables import Batch, BatchLevel, Level, Location, Order, Reservation, ReservationBatch
from omnistock.store.types import utcnow
from omnistock.watch import expiry
from support.machine_seed import LOCS, SKUS, run_machine, seed_world

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
# batch -> expiry: already expired, expiring within the days the machine lets pass, fresh, and undated
LOTS = {"OLD": TODAY - timedelta(days=1), "SOON": TODAY + timedelta(days=2), "FRESH": TODAY + timedelta(days=60),
        "NODATE": None}
batch_names = st.sampled_from([None, *LOTS])


def batch_machine(backend: Backend) -> type[RuleBasedStateMachine]:
    class Batches(RuleBasedStateMachine):
        @initialize()
        def setup(self) -> None:
            seed_world(backend)
            self.n = 0
            self.days = 0
            self.checked_expiry: date | None = None
            # Start from batched stock (and some without a batch), so that every run exercises batch parts.
            for sku, loc, batch, qty in (("A", "L1", "FRESH", 6), ("A", "L1", "SOON", 3), ("A", "L2", None, 2),
                                         ("B", "L2", "NODATE", 4), ("B", "L1", "OLD", 2)):
                with backend.db.transaction() as s:
                    ledger.post_move(s, self.spec(sku, loc, MoveKind.RECEIPT, qty, batch), SYSTEM)

        def attempt(self, fn) -> None:  # type: ignore[no-untyped-def]
            self.checked_expiry = None
            try:
                with backend.db.transaction() as s:
                    fn(s)
            except OmnistockError:
                pass  # refused actions must leave no trace; the invariants check that

        def spec(self, sku: str, loc: str, kind: MoveKind, qty: int, batch: str | None,
                 to: str | None = None) -> ledger.MoveSpec:
            return ledger.MoveSpec(sku, loc, kind, qty, to_location=to, reason="h", batch=batch,
                                   expiry=LOTS[batch] if batch else None)

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), batch=batch_names, qty=st.integers(1, 8))
        def receive(self, sku: str, loc: str, batch: str | None, qty: int) -> None:
            self.attempt(lambda s: ledger.post_move(s, self.spec(sku, loc, MoveKind.RECEIPT, qty, batch), SYSTEM))

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), batch=batch_names,
              kind=st.sampled_from([MoveKind.ADJUSTMENT, MoveKind.COUNT]), qty=st.integers(-6, 8))
        def correct(self, sku: str, loc: str, batch: str | None, kind: MoveKind, qty: int) -> None:
            self.attempt(lambda s: ledger.post_move(s, self.spec(sku, loc, kind, qty, batch), SYSTEM))

        @rule(sku=st.sampled_from(SKUS), batch=batch_names, qty=st.integers(1, 6), back=st.booleans())
        def transfer(self, sku: str, batch: str | None, qty: int, back: bool) -> None:
            src, dst = ("L2", "L1") if back else ("L1", "L2")
            self.attempt(lambda s: ledger.post_move(s, self.spec(sku, src, MoveKind.TRANSFER, qty, batch, dst),
                                                    SYSTEM))

        @rule(sku=st.sampled_from([*SKUS, "KIT"]), qty=st.integers(1, 3))
        def order(self, sku: str, qty: int) -> None:
            self.n += 1
            spec = orders.OrderSpec("m", f"o{self.n}", [orders.LineSpec(sku, qty)])
            self.attempt(lambda s: orders.create_order(s, spec, SYSTEM))

        @rule(action=st.sampled_from(["ship", "cancel", "return", "release"]), pick=st.integers(0, 50))
        def transition(self, action: str, pick: int) -> None:
            # Among the orders the action applies to: a random pick of any order would mostly be refused.
            wanted = {"ship": ["reserved"], "cancel": ["reserved", "held"], "return": ["shipped"],
                      "release": ["held"]}[action]
            with backend.db.reading() as s:
                ids = list(s.scalars(select(Order.id).where(Order.status.in_(wanted)).order_by(Order.id)))
            if not ids:
                return
            fn = {"ship": orders.ship, "cancel": orders.cancel, "return": orders.return_order,
                  "release": orders.release}[action]
            self.attempt(lambda s: fn(s, ids[pick % len(ids)], SYSTEM))

        @rule(days=st.sampled_from([1, 3]))
        def days_pass_and_the_expiry_job_runs(self, days: int) -> None:
            self.days += days
            expiry.run(backend.db, now=utcnow() + timedelta(days=self.days))
            self.checked_expiry = TODAY + timedelta(days=self.days)

        @invariant()
        def levels_and_batches_match_the_ledger(self) -> None:
            if not hasattr(self, "n"):
                return
            with backend.db.reading() as s:
                assert ledger.verify(s)[1] == []
                levels = {(lv.sku_id, lv.location_id): lv for lv in s.scalars(select(Level))}
                in_batches: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
                for b in s.scalars(select(BatchLevel)):
                    assert 0 <= b.reserved <= b.on_hand, (b.batch_id, b.location_id, b.on_hand, b.reserved)
                    in_batches[(b.sku_id, b.location_id)][0] += b.on_hand
                    in_batches[(b.sku_id, b.location_id)][1] += b.reserved
                    assert levels[(b.sku_id, b.location_id)].batched
                for key, lv in levels.items():
                    assert 0 <= lv.reserved <= lv.on_hand, (key, lv.on_hand, lv.reserved)
                    on_hand, reserved = in_batches[key]
                    assert 0 <= lv.reserved - reserved <= lv.on_hand - on_hand, (key, lv.on_hand, lv.reserved,
                                                                                 on_hand, reserved)
                for res, parts in s.execute(
                        select(Reservation, ReservationBatch.qty).outerjoin(
                            ReservationBatch, ReservationBatch.reservation_id == Reservation.id)
                        .where(Reservation.status == "active")):
                    assert (parts or 0) <= res.qty

        @invariant()
        def after_the_expiry_job_no_expired_unit_is_sellable_or_reserved(self) -> None:
            if self.checked_expiry is None:
                return
            with backend.db.reading() as s:
                left = s.execute(select(BatchLevel.on_hand, BatchLevel.reserved).join(Batch).join(Location).where(
                    Batch.expiry < self.checked_expiry, Location.sellable.is_(True),
                    (BatchLevel.on_hand > 0) | (BatchLevel.reserved > 0))).all()
                assert left == []

    return Batches


def test_batch_invariants_hold_under_random_operations(backend: Backend) -> None:
    run_machine(batch_machine(backend), backend, examples=(30, 15), steps=40)
