"""Allocation: how many units of one SKU each sales channel is shown, under the merchant's policies.

The input is the SKU's available stock after safety stock; the output is a quantity per channel, which a
listing turns into whole packs with `listing_quantity`. Policies are set per channel and may be overridden
per SKU (`effective_policy`); a channel without one is `shared` with no buffer and no cap.

- `shared`: all available stock (after the fixed allotments), minus the channel's `buffer`, at most `cap`.
- `share`: `percent`% of that pool, rounded down, then minus `buffer`, at most `cap`.
- `fixed`: exactly `quantity` units (a live-stream allotment), taken out of the pool the others see.
  When available is less than the sum of the fixed quantities, what there is is split among the fixed
  channels in proportion to their quantities by the largest-remainder method (ties to the alphabetically
  first channel), so each gets at most its quantity and the others see nothing.
- `partition`: above its `threshold` the channel behaves as `shared` (with its buffer and cap). When
  available falls to or below the threshold of any channel of the SKU, the whole SKU is partitioned: the
  units are split into disjoint quotas over all its channels in proportion to their recent sales rates
  (see `partition_weights`), by the largest-remainder method, so that the quantities shown add up to at
  most what exists. In that mode buffers and percentages are ignored (the quotas are disjoint already, and
  a buffer would leave units no channel can sell), caps are honoured and a fixed channel's quantity acts
  as its cap; units a capped channel cannot take go to the others.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from omnistock.errors import Invalid


class PolicyKind(StrEnum):
    SHARED = "shared"
    SHARE = "share"
    FIXED = "fixed"
    PARTITION = "partition"


# A channel with no recent sales is weighted as if it sold at a quarter of the average channel's rate:
# enough that a new channel gets a few units to prove itself, small enough not to starve the best sellers.
PARTITION_PRIOR = Fraction(1, 4)

_SETTINGS: dict[PolicyKind, frozenset[str]] = {
    PolicyKind.SHARED: frozenset({"buffer", "cap"}),
    PolicyKind.SHARE: frozenset({"buffer", "cap", "percent"}),
    PolicyKind.FIXED: frozenset({"quantity"}),
    PolicyKind.PARTITION: frozenset({"buffer", "cap", "threshold"}),
}
_REQUIRED: dict[PolicyKind, str] = {
    PolicyKind.SHARE: "percent",
    PolicyKind.FIXED: "quantity",
    PolicyKind.PARTITION: "threshold",
}
_FIELDS = ("kind", "buffer", "cap", "percent", "quantity", "threshold")


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{name} must be a whole number", field=name)
    if value < 0:
        raise Invalid(f"{name} cannot be negative", field=name)


def _kind(value: object) -> PolicyKind:
    for kind in PolicyKind:
        if value == kind.value:
            return kind
    choices = ", ".join(k.value for k in PolicyKind)
    raise Invalid(f"unknown policy kind {value!r} (one of {choices})", field="kind")


@dataclass(frozen=True)
class Policy:
    """How one channel is shown one SKU. Only the settings of its kind may be given (see module doc)."""

    kind: PolicyKind = PolicyKind.SHARED
    buffer: int = 0
    cap: int | None = None
    percent: Decimal | None = None
    quantity: int | None = None
    threshold: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _kind(self.kind))
        _check_count("buffer", self.buffer)
        for name in ("cap", "quantity", "threshold"):
            value = getattr(self, name)
            if value is not None:
                _check_count(name, value)
        if self.percent is not None:
            if not isinstance(self.percent, Decimal) or not self.percent.is_finite():
                raise Invalid("percent must be a decimal number", field="percent")
            if not 0 <= self.percent <= 100:
                raise Invalid("percent must be between 0 and 100", field="percent")
        allowed = _SETTINGS[self.kind]
        given = {name for name in ("cap", "percent", "quantity", "threshold") if getattr(self, name) is not None}
        if self.buffer:
            given.add("buffer")
        foreign = sorted(given - allowed)
        if foreign:
            raise Invalid(f"a {self.kind.value} policy takes no {foreign[0]}", field=foreign[0])
        required = _REQUIRED.get(self.kind)
        if required is not None and required not in given:
            raise Invalid(f"a {self.kind.value} policy needs {required}", field=required)


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class ChannelShare:
    """One channel of a SKU as the allocator sees it. `sales_rate` is units sold per unit of time over a
    recent window (any unit, the same for every channel of the SKU); it only weighs partition quotas."""

    channel: str
    policy: Policy = DEFAULT_POLICY
    sales_rate: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.sales_rate) or self.sales_rate < 0:
            raise Invalid("a sales rate is a finite number of at least 0", field="sales_rate")


def effective_policy(channel_policy: Policy | None, sku_policy: Policy | None) -> Policy:
    """The SKU's own override wins over the channel's policy; with neither, the channel is shared."""
    return sku_policy or channel_policy or DEFAULT_POLICY


def is_partitioned(available: int, channels: Iterable[ChannelShare]) -> bool:
    """Whether the SKU is in partition mode: some channel's partition threshold is reached."""
    return any(c.policy.kind is PolicyKind.PARTITION and available <= (c.policy.threshold or 0)
               for c in channels)


def allocate(available: int, channels: Sequence[ChannelShare]) -> dict[str, int]:
    """Units each channel should be shown, in the order given; never negative.

    The result depends only on today's numbers, so a sale may move a unit of partition quota from one
    channel to another; `exposure.plan_pushes` does not lower a listing for that alone (quotas are
    re-balanced when a channel sells out, when lowering is free, or when the listing is quiet).
    """
    names = [c.channel for c in channels]
    if len(set(names)) != len(names):
        raise Invalid("each channel may appear only once", field="channels")
    units = max(available, 0)
    if is_partitioned(units, channels):
        return _partition(units, channels)
    return _normal(units, channels)


def listing_quantity(channel_quantity: int, pack_size: int) -> int:
    """Whole packs a listing may show out of the channel's units: floor(quantity / pack), never below 0."""
    if isinstance(pack_size, bool) or not isinstance(pack_size, int) or pack_size < 1:
        raise Invalid("a pack holds at least 1 unit", field="pack_size")
    return max(channel_quantity, 0) // pack_size


def partition_weights(channels: Iterable[ChannelShare]) -> dict[str, Fraction]:
    """Each channel's weight in a partition: its sales rate plus a prior of PARTITION_PRIOR times the
    average rate of the SKU's channels; all channels weigh the same when none has sold. Exact fractions,
    so that a split never depends on floating-point rounding."""
    rates = {c.channel: Fraction(c.sales_rate) for c in channels}
    total = sum(rates.values(), Fraction(0))
    if total == 0:
        return dict.fromkeys(rates, Fraction(1))
    prior = PARTITION_PRIOR * total / len(rates)
    return {name: rate + prior for name, rate in rates.items()}


def largest_remainder(units: int, weights: Mapping[str, Fraction]) -> dict[str, int]:
    """Split `units` in proportion to `weights`: everyone gets the floor of their exact share and the
    units left go to the largest remainders (ties: larger weight, then name). Each share is the floor or
    the ceiling of the exact one, so the split never exceeds `units` and a zero weight gets nothing."""
    total = sum(weights.values(), Fraction(0))
    if units <= 0 or total <= 0:
        return dict.fromkeys(weights, 0)
    exact = {name: units * weight / total for name, weight in weights.items()}
    quotas = {name: math.floor(share) for name, share in exact.items()}
    left = units - sum(quotas.values())
    order = sorted(weights, key=lambda name: (quotas[name] - exact[name], -weights[name], name))
    for name in order[:left]:
        quotas[name] += 1
    return quotas


def _partition(units: int, channels: Sequence[ChannelShare]) -> dict[str, int]:
    limits = {c.channel: _partition_limit(c.policy) for c in channels}
    return _split_capped(units, partition_weights(channels), limits)


def _partition_limit(policy: Policy) -> int | None:
    if policy.kind is PolicyKind.FIXED:
        return policy.quantity
    return policy.cap


def _split_capped(units: int, weights: Mapping[str, Fraction], limits: Mapping[str, int | None]) -> dict[str, int]:
    """Largest-remainder split where no one gets more than their limit; what a full channel cannot take
    is split again over the others (water filling), so units are only left over when every limit binds."""
    quotas = dict.fromkeys(weights, 0)
    open_weights = dict(weights)
    left = units
    while open_weights and left > 0:
        shares = largest_remainder(left, open_weights)
        full = [name for name in open_weights if (limit := limits[name]) is not None and shares[name] >= limit]
        if not full:
            quotas.update(shares)
            break
        for name in full:
            limit = limits[name]
            assert limit is not None
            quotas[name] = limit
            left -= limit
            del open_weights[name]
    return quotas


def _normal(units: int, channels: Sequence[ChannelShare]) -> dict[str, int]:
    fixed = {c.channel: c.policy.quantity or 0 for c in channels if c.policy.kind is PolicyKind.FIXED}
    if units >= sum(fixed.values()):
        allotted = fixed
    else:
        allotted = largest_remainder(units, {name: Fraction(q) for name, q in fixed.items()})
    pool = units - sum(allotted.values())
    return {c.channel: allotted[c.channel] if c.channel in allotted else _from_pool(pool, c.policy)
            for c in channels}


def _from_pool(pool: int, policy: Policy) -> int:
    seen = pool
    if policy.kind is PolicyKind.SHARE:
        seen = math.floor(pool * Fraction(policy.percent or 0) / 100)
    seen = max(seen - policy.buffer, 0)
    return seen if policy.cap is None else min(seen, policy.cap)


# --- stored form --------------------------------------------------------------------------------------


def parse_policy(d: Mapping[str, object]) -> Policy:
    """A policy from its stored or submitted form, e.g. {"kind": "share", "percent": "20", "cap": 50}.
    A missing kind means shared (an empty mapping is the default policy). Raises `Invalid` naming the
    offending field."""
    for key in d:
        if key not in _FIELDS:
            raise Invalid(f"unknown policy setting {key!r}", field=str(key))
    return Policy(
        kind=_kind(d.get("kind", PolicyKind.SHARED.value)),
        buffer=_whole(d, "buffer") or 0,
        cap=_whole(d, "cap"),
        percent=_decimal(d, "percent"),
        quantity=_whole(d, "quantity"),
        threshold=_whole(d, "threshold"),
    )


def policy_to_dict(policy: Policy) -> dict[str, object]:
    """The stored form of a policy (JSON-ready: percent as a string); `parse_policy` reads it back."""
    out: dict[str, object] = {"kind": policy.kind.value}
    if policy.buffer:
        out["buffer"] = policy.buffer
    for name in ("cap", "quantity", "threshold"):
        if (value := getattr(policy, name)) is not None:
            out[name] = value
    if policy.percent is not None:
        out["percent"] = str(policy.percent)
    return out


def _whole(d: Mapping[str, object], name: str) -> int | None:
    value = d.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{name} must be a whole number", field=name)
    return value


def _decimal(d: Mapping[str, object], name: str) -> Decimal | None:
    value = d.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise Invalid(f"{name} must be a number", field=name)
    try:
        # str() of a float is its shortest repr, so 20.5 becomes Decimal("20.5"), not its binary expansion
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise Invalid(f"{name} must be a number", field=name) from None
    if not number.is_finite():
        raise Invalid(f"{name} must be a finite number", field=name)
    return number
