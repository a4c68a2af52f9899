"""Batch rules without a database: first expiring first out, expired batches never sold, decreases that name no
batch, and the batch parts of an order plan."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.batches import (
    Piece,
    fefo_key,
    is_expired,
    pieces_of,
    sell_cutoff,
    sellable_free,
    sellable_view,
    split_takes,
    take_fefo,
    take_out,
)
from omnistock.domain.stock import LevelView, Take, plan_order

TODAY = date(2026, 6, 1)
CUTOFF = sell_cutoff(TODAY)

expiries = st.one_of(st.none(), st.dates(date(2026, 5, 20), date(2026, 6, 20)))


@st.composite
def levels(draw: st.DrawFn) -> tuple[int, int, list[Piece]]:
    """A consistent level: batches that hold no more than they have, loose units that do the same."""
    n = draw(st.integers(0, 4))
    batches = []
    for i in range(n):
        on_hand = draw(st.integers(0, 20))
        batches.append(Piece(i + 1, draw(expiries), on_hand, draw(st.integers(0, on_hand))))
    loose_on_hand = draw(st.integers(0, 20))
    loose_reserved = draw(st.integers(0, loose_on_hand))
    return (sum(b.on_hand for b in batches) + loose_on_hand, sum(b.reserved for b in batches) + loose_reserved,
            batches)


def test_a_batch_is_sold_through_its_expiry_day_less_the_margin() -> None:
    assert not is_expired(TODAY, sell_cutoff(TODAY))
    assert is_expired(TODAY - timedelta(days=1), sell_cutoff(TODAY))
    assert is_expired(TODAY + timedelta(days=2), sell_cutoff(TODAY, margin_days=3))
    assert not is_expired(TODAY + timedelta(days=3), sell_cutoff(TODAY, margin_days=3))
    assert not is_expired(None, sell_cutoff(TODAY, margin_days=30))  # no expiry never expires


def test_fefo_takes_the_earliest_expiry_then_undated_batches_then_loose_units() -> None:
    pieces = pieces_of(40, 0, [Piece(3, None, 10, 0), Piece(1, date(2026, 9, 1), 10, 0),
                               Piece(2, date(2026, 7, 1), 10, 0)])
    assert [p.batch_id for p in pieces] == [2, 1, 3, None]
    assert take_fefo(25, pieces, CUTOFF) == [(2, 10), (1, 10), (3, 5)]
    assert take_fefo(40, pieces, CUTOFF) == [(2, 10), (1, 10), (3, 10), (None, 10)]
    assert take_fefo(41, pieces, CUTOFF) is None


def test_an_expired_batch_is_never_taken_for_sale() -> None:
    pieces = pieces_of(15, 0, [Piece(1, TODAY - timedelta(days=1), 10, 0), Piece(2, TODAY, 5, 0)])
    assert take_fefo(5, pieces, CUTOFF) == [(2, 5)]
    assert take_fefo(6, pieces, CUTOFF) is None
    assert sellable_free(pieces, CUTOFF) == 5
    assert sellable_view(LevelView(7, 15, 0), pieces, CUTOFF).free == 5


def test_a_decrease_takes_free_units_first_then_reserved_ones() -> None:
    pieces = pieces_of(12, 6, [Piece(1, date(2026, 7, 1), 6, 6), Piece(2, date(2026, 8, 1), 6, 0)])
    assert take_out(4, pieces) == [(2, 4)]  # batch 1 is all reserved: batch 2's free units go first
    assert take_out(9, pieces) == [(1, 3), (2, 6)]


def test_a_transfer_moves_unexpired_units_before_expired_ones() -> None:
    pieces = pieces_of(20, 0, [Piece(1, TODAY - timedelta(days=3), 10, 0), Piece(2, date(2026, 9, 1), 10, 0)])
    assert take_out(5, pieces, cutoff=CUTOFF) == [(2, 5)]
    assert take_out(5, pieces) == [(1, 5)]  # a write-off: the expired units go first


@given(levels(), st.integers(1, 60))
def test_fefo_never_takes_more_than_is_free_and_uses_earlier_batches_up(level: tuple[int, int, list[Piece]],
                                                                      wanted: int) -> None:
    on_hand, reserved, batches = level
    pieces = pieces_of(on_hand, reserved, batches)
    got = take_fefo(wanted, pieces, CUTOFF)
    sellable = [p for p in pieces if not is_expired(p.expiry, CUTOFF)]
    if sum(p.free for p in sellable) < wanted:
        assert got is None
        return
    assert got is not None and sum(q for _, q in got) == wanted
    by_id = {p.batch_id: p for p in pieces}
    for bid, q in got:
        assert 0 < q <= by_id[bid].free
        assert not is_expired(by_id[bid].expiry, CUTOFF)
    # every piece before the last one used is used up: nothing fresher is taken while an older one has units
    taken = dict(got)
    order = sorted(sellable, key=fefo_key)
    last = max(order.index(by_id[bid]) for bid in taken)
    assert all(taken.get(p.batch_id, 0) == p.free for p in order[:last])


@given(levels(), st.integers(0, 80))
def test_a_decrease_never_takes_more_than_a_piece_holds(level: tuple[int, int, list[Piece]], qty: int) -> None:
    on_hand, reserved, batches = level
    pieces = pieces_of(on_hand, reserved, batches)
    got = take_out(qty, pieces)
    assert sum(q for _, q in got) == min(qty, on_hand)
    by_id = {p.batch_id: p for p in pieces}
    assert all(0 < q <= by_id[bid].on_hand for bid, q in got)
    if qty <= on_hand - reserved:  # free units cover it: no reservation loses its units
        assert all(q <= by_id[bid].free for bid, q in got)


@given(st.lists(levels(), min_size=1, max_size=3), st.lists(st.integers(1, 15), min_size=1, max_size=4))
def test_an_order_plan_splits_into_batch_parts_that_cover_every_take(
        locs: list[tuple[int, int, list[Piece]]], lines: list[int]) -> None:
    pieces = {(1, lid): pieces_of(on_hand, reserved, batches)
              for lid, (on_hand, reserved, batches) in enumerate(locs, start=1)}
    views = {1: [sellable_view(LevelView(lid, on_hand, reserved), pieces[(1, lid)], CUTOFF)
                 for lid, (on_hand, reserved, _) in enumerate(locs, start=1)]}
    plan = plan_order([{1: q} for q in lines], views)
    if not plan.reserved:
        assert sum(v.free for v in views[1]) < sum(lines)
        return
    parts = split_takes(plan.takes, pieces, CUTOFF)
    for n, take in enumerate(plan.takes):
        in_batches = sum(p.qty for p in parts if p.take == n)
        assert in_batches <= take.qty
    # no batch gives more than it had free, and none of it expired
    used: dict[tuple[int, int], int] = {}
    for p in parts:
        key = (plan.takes[p.take].location_id, p.batch_id)
        used[key] = used.get(key, 0) + p.qty
    for (lid, bid), q in used.items():
        piece = next(x for x in pieces[(1, lid)] if x.batch_id == bid)
        assert q <= piece.free and not is_expired(piece.expiry, CUTOFF)
    # loose units are used only when the location's sellable batches are used up
    for n, take in enumerate(plan.takes):
        loose = take.qty - sum(p.qty for p in parts if p.take == n)
        if loose:
            lid = take.location_id
            sellable = [x for x in pieces[(1, lid)] if x.batch_id is not None and not is_expired(x.expiry, CUTOFF)]
            assert all(used.get((lid, x.batch_id), 0) == x.free for x in sellable)


def test_two_takes_at_one_level_share_its_batches_in_order() -> None:
    pieces = {(1, 1): pieces_of(10, 0, [Piece(1, date(2026, 7, 1), 4, 0), Piece(2, date(2026, 8, 1), 6, 0)])}
    takes = [Take(0, 1, 1, 3), Take(1, 1, 1, 3)]
    parts = split_takes(takes, pieces, CUTOFF)
    assert [(p.take, p.batch_id, p.qty) for p in parts] == [(0, 1, 3), (1, 1, 1), (1, 2, 2)]
