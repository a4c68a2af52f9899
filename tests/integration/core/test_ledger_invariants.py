"""A hypothesis state machine drives the real services on a real database and checks the ledger's invariants
after every step: levels equal the sum of moves, reserved never exceeds on hand, available never negative."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from conftest import SYSTEM, Backend
from omnistock.domain.stock import MoveKind
from omnistock.errors import OmnistockError
from omnistock.services import catalogue, ledger, orders
from omnistock.store.tables import Level, Order
from support.machine_seed import LOCS, SKUS, run_machine, seed_world


def ledger_machine(backend: Backend) -> type[RuleBasedStateMachine]:
    class Ledger(RuleBasedStateMachine):
        @initialize()
        def setup(self) -> None:
            seed_world(backend)
            self.n = 0

        def attempt(self, fn) -> None:  # type: ignore[no-untyped-def]
            try:
                with backend.db.transaction() as s:
                    fn(s)
            except OmnistockError:
                pass  # refused actions must leave no trace; the invariants check that

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS),
              kind=st.sampled_from([MoveKind.RECEIPT, MoveKind.ADJUSTMENT, MoveKind.COUNT]),
              qty=st.integers(-5, 12))
        def move(self, sku: str, loc: str, kind: MoveKind, qty: int) -> None:
            self.attempt(lambda s: ledger.post_move(s, ledger.MoveSpec(sku, loc, kind, qty, reason="h"), SYSTEM))

        @rule(sku=st.sampled_from(SKUS), qty=st.integers(1, 6))
        def transfer(self, sku: str, qty: int) -> None:
            self.attempt(lambda s: ledger.post_move(
                s, ledger.MoveSpec(sku, "L1", MoveKind.TRANSFER, qty, to_location="L2"), SYSTEM))

        @rule(sku=st.sampled_from([*SKUS, "KIT"]), qty=st.integers(1, 5))
        def order(self, sku: str, qty: int) -> None:
            self.n += 1
            spec = orders.OrderSpec("m", f"o{self.n}", [orders.LineSpec(sku, qty)])
            self.attempt(lambda s: orders.create_order(s, spec, SYSTEM))

        @rule(action=st.sampled_from(["ship", "cancel", "return", "release"]), pick=st.integers(0, 50))
        def transition(self, action: str, pick: int) -> None:
            with backend.db.reading() as s:
                ids = list(s.scalars(select(Order.id).order_by(Order.id)))
            if not ids:
                return
            fn = {"ship": orders.ship, "cancel": orders.cancel, "return": orders.return_order,
                  "release": orders.release}[action]
            self.attempt(lambda s: fn(s, ids[pick % len(ids)], SYSTEM))

        @invariant()
        def levels_match_the_ledger(self) -> None:
            if not hasattr(self, "n"):
                return
            with backend.db.reading() as s:
                checked, diffs = ledger.verify(s)
                assert diffs == [], diffs
                for lv in s.scalars(select(Level)):
                    assert 0 <= lv.reserved <= lv.on_hand, (lv.sku_id, lv.location_id, lv.on_hand, lv.reserved)
                for code in [*SKUS, "KIT"]:
                    fig = catalogue.figures(s, s.scalar(select(catalogue.Sku).where(catalogue.Sku.code == code)),
                                            SYSTEM)
                    assert fig.available >= 0

    return Ledger


def test_ledger_invariants_hold_under_random_operations(backend: Backend) -> None:
    run_machine(ledger_machine(backend), backend, examples=(25, 12), steps=25)
