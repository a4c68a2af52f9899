"""What the recorded platform calls say about how pushes were made."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from conftest import Backend
from omnistock.sync.tables import PlatformCall


def overlapping_pushes(backend: Backend) -> list[int]:
    """Listings that two recorded calls were pushing at the same time."""
    spans: dict[int, list[tuple[float, float]]] = defaultdict(list)
    with backend.db.reading() as s:
        for lid, at, ms in s.execute(select(PlatformCall.listing_id, PlatformCall.at, PlatformCall.latency_ms)
                                     .where(PlatformCall.op == "set_stock")):
            end = at.timestamp()
            spans[lid].append((end - ms / 1000, end))
    bad = []
    for lid, items in spans.items():
        items.sort()
        if any(b[0] < a[1] - 0.01 for a, b in zip(items, items[1:])):
            bad.append(lid)
    return bad
