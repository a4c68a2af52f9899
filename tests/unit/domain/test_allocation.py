"""Allocation policies: shared, share, fixed, partition (largest remainder, prior, caps), packs."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnistock.domain.allocation import (
    DEFAULT_POLICY,
    ChannelShare,
    Policy,
    PolicyKind,
    allocate,
    effective_policy,
    is_partitioned,
    listing_quantity,
    parse_policy,
    partition_weights,
    policy_to_dict,
)
from omnistock.errors import Invalid

SHARED = PolicyKind.SHARED
SHARE = PolicyKind.SHARE
FIXED = PolicyKind.FIXED
PARTITION = PolicyKind.PARTITION


def ch(name: str, policy: Policy = DEFAULT_POLICY, rate: float = 0.0) -> ChannelShare:
    return ChannelShare(name, policy, rate)


# --- normal mode ------------------------------------------------------------------------------------------


def test_new_channel_is_shared_without_buffer_or_cap() -> None:
    assert effective_policy(None, None) == Policy(SHARED, buffer=0, cap=None)
    assert allocate(7, [ch("shop")]) == {"shop": 7}


def test_sku_override_wins_over_channel_policy() -> None:
    channel = Policy(SHARE, percent=Decimal("20"))
    override = Policy(FIXED, quantity=5)
    assert effective_policy(channel, override) == override
    assert effective_policy(channel, None) == channel


def test_shared_sees_available_minus_buffer_within_cap() -> None:
    result = allocate(30, [ch("a", Policy(buffer=5)), ch("b", Policy(cap=10)), ch("c", Policy(buffer=40))])
    assert result == {"a": 25, "b": 10, "c": 0}


def test_share_takes_the_floor_of_its_percent_then_the_buffer() -> None:
    result = allocate(99, [ch("dist", Policy(SHARE, percent=Decimal("20"), buffer=2)),
                           ch("odd", Policy(SHARE, percent=Decimal("33.3")))])
    assert result == {"dist": 17, "odd": 32}  # 19.8 -> 19 - 2; 32.967 -> 32


def test_fixed_allotment_is_taken_out_of_the_pool_of_the_others() -> None:
    result = allocate(50, [ch("live", Policy(FIXED, quantity=20)), ch("shop"),
                           ch("dist", Policy(SHARE, percent=Decimal("50")))])
    assert result == {"live": 20, "shop": 30, "dist": 15}


def test_fixed_shortage_is_split_by_largest_remainder_and_others_see_nothing() -> None:
    channels = [ch("b", Policy(FIXED, quantity=3)), ch("a", Policy(FIXED, quantity=3)), ch("shop")]
    assert allocate(5, channels) == {"b": 2, "a": 3, "shop": 0}  # 2.5 each: the tie goes to "a"
    channels = [ch("big", Policy(FIXED, quantity=10)), ch("small", Policy(FIXED, quantity=5))]
    assert allocate(7, channels) == {"big": 5, "small": 2}  # 4.67 and 2.33


def test_negative_available_shows_nothing_anywhere() -> None:
    channels = [ch("a"), ch("b", Policy(FIXED, quantity=3)), ch("c", Policy(PARTITION, threshold=5))]
    assert allocate(-4, channels) == {"a": 0, "b": 0, "c": 0}


def test_a_channel_may_appear_only_once() -> None:
    with pytest.raises(Invalid) as err:
        allocate(5, [ch("a"), ch("a")])
    assert err.value.field == "channels"


# --- partition --------------------------------------------------------------------------------------------


def test_partition_of_one_channel_partitions_every_channel_of_the_sku() -> None:
    channels = [ch("flash", Policy(PARTITION, threshold=10), 1.0), ch("shop", rate=1.0),
                ch("live", Policy(FIXED, quantity=3), 1.0)]
    assert is_partitioned(10, channels)
    assert sum(allocate(10, channels).values()) == 10
    assert not is_partitioned(11, channels)
    assert allocate(11, channels) == {"flash": 8, "shop": 8, "live": 3}


def test_partition_quotas_follow_sales_rates() -> None:
    channels = [ch("fast", Policy(PARTITION, threshold=50), 3.0), ch("slow", rate=1.0)]
    # the prior adds a quarter of the mean rate (0.5): weights 3.5 and 1.5
    assert allocate(10, channels) == {"fast": 7, "slow": 3}


def test_partition_gives_a_channel_without_sales_a_small_share() -> None:
    channels = [ch("seller", Policy(PARTITION, threshold=50), 100.0), ch("new")]
    assert partition_weights(channels) == {"seller": Fraction(225, 2), "new": Fraction(25, 2)}
    assert allocate(20, channels) == {"seller": 18, "new": 2}


def test_partition_splits_evenly_when_no_channel_has_sold() -> None:
    channels = [ch("a", Policy(PARTITION, threshold=50)), ch("b"), ch("c")]
    assert allocate(10, channels) == {"a": 4, "b": 3, "c": 3}


def test_partition_honours_caps_and_gives_the_rest_to_the_others() -> None:
    channels = [ch("capped", Policy(PARTITION, threshold=50, cap=2), 5.0), ch("b", rate=1.0),
                ch("live", Policy(FIXED, quantity=1), 5.0)]
    result = allocate(12, channels)
    assert result["capped"] == 2 and result["live"] == 1
    assert result["b"] == 9


def test_partition_leaves_units_unshown_only_when_every_cap_binds() -> None:
    channels = [ch("a", Policy(PARTITION, threshold=50, cap=2)), ch("b", Policy(cap=3))]
    assert allocate(20, channels) == {"a": 2, "b": 3}


def test_partition_ignores_buffers_and_percentages() -> None:
    channels = [ch("a", Policy(PARTITION, threshold=50, buffer=9)), ch("b", Policy(SHARE, percent=Decimal(1)))]
    assert allocate(10, channels) == {"a": 5, "b": 5}


# --- packs ------------------------------------------------------------------------------------------------


def test_listing_shows_whole_packs_only() -> None:
    assert listing_quantity(17, 6) == 2
    assert listing_quantity(5, 6) == 0
    assert listing_quantity(-3, 1) == 0


@pytest.mark.parametrize("pack", [0, -1, True])
def test_pack_of_less_than_one_unit_is_invalid(pack: int) -> None:
    with pytest.raises(Invalid) as err:
        listing_quantity(10, pack)
    assert err.value.field == "pack_size"


# --- stored form ------------------------------------------------------------------------------------------


def test_empty_stored_policy_is_the_default_shared_policy() -> None:
    assert parse_policy({}) == DEFAULT_POLICY


def test_parse_policy_reads_every_kind() -> None:
    assert parse_policy({"kind": "share", "percent": "20", "cap": 50}) == Policy(SHARE, cap=50,
                                                                                percent=Decimal("20"))
    assert parse_policy({"kind": "share", "percent": 12.5}).percent == Decimal("12.5")
    assert parse_policy({"kind": "fixed", "quantity": 30}) == Policy(FIXED, quantity=30)
    assert parse_policy({"kind": "partition", "threshold": 20, "buffer": 1, "cap": None}) == Policy(
        PARTITION, buffer=1, threshold=20)


@pytest.mark.parametrize(("stored", "field"), [
    ({"kind": "lottery"}, "kind"),
    ({"kind": 3}, "kind"),
    ({"colour": "red"}, "colour"),
    ({"buffer": -1}, "buffer"),
    ({"buffer": True}, "buffer"),
    ({"cap": "10"}, "cap"),
    ({"kind": "share"}, "percent"),
    ({"kind": "share", "percent": "abc"}, "percent"),
    ({"kind": "share", "percent": "NaN"}, "percent"),
    ({"kind": "share", "percent": 120}, "percent"),
    ({"kind": "shared", "percent": 10}, "percent"),
    ({"kind": "fixed"}, "quantity"),
    ({"kind": "fixed", "quantity": 5, "buffer": 2}, "buffer"),
    ({"kind": "fixed", "quantity": 5, "cap": 2}, "cap"),
    ({"kind": "partition"}, "threshold"),
    ({"kind": "shared", "threshold": 4}, "threshold"),
    ({"kind": "partition", "threshold": 4, "quantity": 1}, "quantity"),
])
def test_invalid_policy_names_the_offending_field(stored: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_policy(stored)
    assert err.value.field == field


@pytest.mark.parametrize("rate", [-1.0, float("nan"), float("inf")])
def test_sales_rate_must_be_finite_and_not_negative(rate: float) -> None:
    with pytest.raises(Invalid) as err:
        ChannelShare("a", DEFAULT_POLICY, rate)
    assert err.value.field == "sales_rate"


# --- properties -------------------------------------------------------------------------------------------

counts = st.integers(0, 60)
percents = st.decimals(0, 100, places=1)
policies = st.one_of(
    st.builds(Policy, kind=st.just(SHARED), buffer=counts, cap=st.none() | counts),
    st.builds(Policy, kind=st.just(SHARE), buffer=counts, cap=st.none() | counts, percent=percents),
    st.builds(Policy, kind=st.just(FIXED), quantity=counts),
    st.builds(Policy, kind=st.just(PARTITION), buffer=counts, cap=st.none() | counts, threshold=st.integers(0, 200)),
)
rates = st.floats(0, 50, allow_nan=False, allow_infinity=False)


@st.composite
def skus(draw: st.DrawFn) -> list[ChannelShare]:
    names = draw(st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=5, unique=True))
    return [ChannelShare(n, draw(policies), draw(rates)) for n in names]


@st.composite
def partitioned_skus(draw: st.DrawFn) -> list[ChannelShare]:
    """A SKU one of whose channels partitions it at any available stock the tests draw."""
    flash = ChannelShare("z", draw(st.builds(Policy, kind=st.just(PARTITION), cap=st.none() | counts,
                                             threshold=st.just(250))), draw(rates))
    return [*draw(skus()), flash]


def limit_of(policy: Policy) -> int | None:
    return policy.quantity if policy.kind is FIXED else policy.cap


@settings(max_examples=100)
@given(skus(), st.integers(-10, 250))
def test_no_channel_is_ever_shown_a_negative_quantity(channels: list[ChannelShare], available: int) -> None:
    result = allocate(available, channels)
    assert list(result) == [c.channel for c in channels]
    assert all(q >= 0 for q in result.values())


@settings(max_examples=100)
@given(skus(), st.integers(-10, 250))
def test_fixed_allotments_plus_any_other_channel_never_exceed_available(channels: list[ChannelShare],
                                                                        available: int) -> None:
    if is_partitioned(available, channels):
        return
    result = allocate(available, channels)
    fixed = [c for c in channels if c.policy.kind is FIXED]
    fixed_total = sum(result[c.channel] for c in fixed)
    assert fixed_total <= max(available, 0)
    for c in fixed:
        assert result[c.channel] <= (c.policy.quantity or 0)
        if available >= sum(f.policy.quantity or 0 for f in fixed):
            assert result[c.channel] == c.policy.quantity
    for c in channels:
        if c.policy.kind is not FIXED:
            assert fixed_total + result[c.channel] <= max(available, 0)


@settings(max_examples=100)
@given(partitioned_skus(), st.integers(-10, 250))
def test_partition_never_shows_more_than_exists_in_total(channels: list[ChannelShare], available: int) -> None:
    result = allocate(available, channels)
    assert sum(result.values()) <= max(available, 0)
    for c in channels:
        limit = limit_of(c.policy)
        assert limit is None or result[c.channel] <= limit


@settings(max_examples=100)
@given(partitioned_skus(), st.integers(0, 250))
def test_partition_shows_every_unit_some_cap_allows(channels: list[ChannelShare], available: int) -> None:
    limits = [limit_of(c.policy) for c in channels]
    room = None if None in limits else sum(limit or 0 for limit in limits)
    expected = available if room is None else min(available, room)
    assert sum(allocate(available, channels).values()) == expected


@settings(max_examples=100)
@given(st.lists(rates, min_size=1, max_size=6), st.integers(0, 250))
def test_uncapped_partition_is_within_one_unit_of_the_proportional_share(rate_list: list[float],
                                                                         available: int) -> None:
    channels = [ChannelShare(f"c{i}", Policy(PARTITION, threshold=250), r) for i, r in enumerate(rate_list)]
    result = allocate(available, channels)
    weights = partition_weights(channels)
    total = sum(weights.values())
    for c in channels:
        exact = available * weights[c.channel] / total
        assert abs(result[c.channel] - exact) < 1
    for a in channels:
        for b in channels:
            if a.sales_rate > b.sales_rate:
                assert result[a.channel] >= result[b.channel]


@settings(max_examples=100)
@given(skus(), st.integers(-10, 250))
def test_above_the_threshold_every_channel_follows_its_normal_policy(channels: list[ChannelShare],
                                                                     available: int) -> None:
    if is_partitioned(available, channels):
        return
    normal = [ChannelShare(c.channel, Policy(SHARED, buffer=c.policy.buffer, cap=c.policy.cap), c.sales_rate)
              if c.policy.kind is PARTITION else c for c in channels]
    assert allocate(available, channels) == allocate(available, normal)


@settings(max_examples=100)
@given(st.integers(-50, 10_000), st.integers(1, 48))
def test_listing_quantity_is_the_floor_of_units_per_pack(units: int, pack: int) -> None:
    packs = listing_quantity(units, pack)
    assert packs >= 0
    assert packs * pack <= max(units, 0) < (packs + 1) * pack


@settings(max_examples=100)
@given(policies)
def test_stored_form_reads_back_to_the_same_policy(policy: Policy) -> None:
    assert parse_policy(policy_to_dict(policy)) == policy
