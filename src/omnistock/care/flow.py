"""The vocabulary and the status flow of a case: new → open → waiting on customer → resolved → closed,
and reopen. Pure rules, no I/O."""

from __future__ import annotations

from enum import StrEnum

from omnistock.errors import Conflict, Invalid

BUILT_IN_CATEGORIES: dict[str, str] = {
    "out_of_stock": "Out of stock / 缺货",
    "late_shipment": "Late shipment / 发货延迟",
    "wrong_quantity": "Wrong quantity / 数量错误",
    "other": "Other / 其他",
}
PRIORITIES = ("low", "normal", "high", "urgent")
SOURCES = ("customer", "proactive", "platform")
LOCALES = ("zh", "en")


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


ACTIVE = frozenset({Status.NEW, Status.OPEN, Status.WAITING})

_NEXT: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.WAITING, Status.RESOLVED}),
    Status.OPEN: frozenset({Status.WAITING, Status.RESOLVED}),
    Status.WAITING: frozenset({Status.OPEN, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset({Status.OPEN}),
}


def parse_status(value: str, *, field: str = "status") -> Status:
    try:
        return Status(value)
    except ValueError:
        raise Invalid(f"status must be one of {', '.join(s.value for s in Status)}", field=field) from None


def check_transition(current: Status, wanted: Status) -> None:
    """Raise Conflict when a case may not go from `current` to `wanted` (staying put is refused too:
    a repeated click should not write history twice)."""
    if wanted not in _NEXT[current]:
        allowed = ", ".join(sorted(s.value for s in _NEXT[current]))
        raise Conflict(f"a {current.value} case cannot become {wanted.value} (it can become: {allowed})",
                       field="status")


def is_reopen(current: Status, wanted: Status) -> bool:
    return current in (Status.RESOLVED, Status.CLOSED) and wanted is Status.OPEN


def check_priority(value: str) -> str:
    if value not in PRIORITIES:
        raise Invalid(f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
    return value


def check_locale(value: str) -> str:
    if value not in LOCALES:
        raise Invalid(f"locale must be one of {', '.join(LOCALES)}", field="locale")
    return value
