"""Orders placed from client processes, each with its own engine, through the service function behind
`POST /api/v1/orders` (with every feature's hooks registered, as in the API process).

Processes, not threads: threads of the test process share one interpreter lock with the live server, the
sync worker and the simulator running beside them, and a client holding a level's row lock while it waits
for that lock makes every other client queue behind it; the burst then lasts minutes instead of seconds."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence

from omnistock.config import Settings


def _place(url: str, secret: str, channel: str, sku: str, ids: Sequence[str]) -> int:
    import omnistock.api.app  # noqa: F401  (registers every feature's hooks, as the API process does)
    from omnistock.api.deps import run
    from omnistock.domain.access import Principal, Role
    from omnistock.services import orders
    from omnistock.store.db import Database

    db = Database(Settings(database_url=url, secret_key=secret))
    principal = Principal(name="burst", role=Role.ADMIN)
    try:
        for external_id in ids:
            spec = orders.OrderSpec(channel, external_id, [orders.LineSpec(sku, 1)])
            run(db, lambda s, spec=spec: orders.create_order(s, spec, principal))
    finally:
        db.dispose()
    return len(ids)


def place_orders(settings: Settings, channel: str, sku: str, count: int, *, clients: int = 2,
                 prefix: str = "burst") -> int:
    """Place `count` one-unit orders of `sku` on `channel` from `clients` processes; returns orders placed."""
    ids = [f"{prefix}-{i}" for i in range(count)]
    chunks = [ids[i::clients] for i in range(clients)]
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        done = pool.starmap(_place, [(settings.database_url, settings.secret_key or "", channel, sku, chunk)
                                     for chunk in chunks])
    return sum(done)
