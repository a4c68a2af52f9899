"""How long a reconciliation of one channel with many listings takes: the platform's pages streamed in, every
listing's expected value computed set-based, compared, and the differences recorded.

The platform is an IN-PROCESS FAKE PAGE SOURCE (clearly not HTTP): it yields `PlatformItem` pages of 1,000 from
memory, so the numbers measure omnistock's side (compare and record), not a platform's API, which would dominate
in real life (a platform serves 50-250 items per call within its rate limit). Everything after the read is the
production code path: `reconcile.start`, `read_all`, `compare` (chunked; `targets_for` where needed),
`reconcile_finish`.

The scenario: N SKUs each with stock at one warehouse and one listing on one channel, last pushed the right
value; the platform shows 1% of them drifted, 0.1% missing, plus 0.1% extra items that map to no SKU.

    python bench/reconcile.py                         # 1,000,000 listings, SQLite and PostgreSQL
    python bench/reconcile.py --listings 100000 --sqlite-only --out /tmp/b.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from _common import (
    BENCHMARKS_MD,
    PG_ADMIN_DSN,
    MachineLoad,
    machine_load,
    markdown_table,
    pg_reason_unavailable,
    run_facts,
    throwaway_pg_database,
    write_section,
)
from sqlalchemy import insert, select

from omnistock.channels.base import PlatformItem, StockPage
from omnistock.config import Settings
from omnistock.domain.access import Principal, Role
from omnistock.services import channels
from omnistock.store import migrate
from omnistock.store.db import Database
from omnistock.store.tables import Level, Location, Sku
from omnistock.store.types import utcnow
from omnistock.sync.tables import Listing
from omnistock.watch import reconcile, reconcile_finish
from omnistock.watch.tables import Difference

HEADING = "## Reconciliation (bench/reconcile.py)"
PAGE = 1000
STOCK = 50
BATCH = 20_000
ADMIN = Principal(name="bench", role=Role.ADMIN)


@dataclass(frozen=True)
class Result:
    database: str
    listings: int
    seed_s: float
    read_s: float
    compare_s: float
    record_s: float
    differences: dict[str, int]

    @property
    def total_s(self) -> float:
        return self.read_s + self.compare_s + self.record_s


def seed(db: Database, settings: Settings, n: int) -> str:
    """N SKUs with stock, one listing each on one channel, pushed: rows written in bulk, not through the API."""
    now = utcnow()
    with db.transaction() as session:
        session.add(Location(code="WH", name="Main", kind="warehouse", sellable=True, created_at=now))
        channel = channels.create_channel(session, settings, code="bench", kind="jd", name=None, actor="bench",
                                          settings={"app_key": "k", "app_secret": "s", "access_token": "t",
                                                    "gateway_url": "http://127.0.0.1:9/routerjson"})
        channel_id = channel.id
        wh = session.scalar(select(Location.id).where(Location.code == "WH"))
    for start in range(0, n, BATCH):
        ids = range(start + 1, min(n, start + BATCH) + 1)
        with db.transaction() as session:
            session.execute(insert(Sku), [{"id": i, "code": f"S{i:07d}", "name": f"SKU {i}", "unit": "pcs",
                                           "safety_stock": 0, "active": True, "is_bundle": False, "created_at": now}
                                          for i in ids])
            session.execute(insert(Level), [{"sku_id": i, "location_id": wh, "on_hand": STOCK, "reserved": 0}
                                            for i in ids])
            session.execute(insert(Listing), [
                {"channel_id": channel_id, "sku_id": i, "external_id": f"{7000000 + i}", "pack_size": 1, "extra": {},
                 "created_at": now, "dirty": False, "dirty_since": None, "attempts": 0, "last_pushed_value": STOCK,
                 "last_pushed_at": now} for i in ids])
    return "bench"


def platform_pages(n: int) -> Iterator[list[PlatformItem]]:
    """What the platform shows: 1 in 100 drifted, 1 in 1,000 missing, n/1,000 extra unmapped items."""
    items: list[PlatformItem] = []
    for i in range(1, n + 1):
        if i % 1000 == 7:
            continue  # missing on the platform
        items.append(PlatformItem(f"{7000000 + i}", STOCK + 3 if i % 100 == 1 else STOCK))
        if len(items) == PAGE:
            yield items
            items = []
    items += [PlatformItem(f"X{k}", 2) for k in range(n // 1000)]
    yield items


class FakeSource:
    """The in-process page source standing in for a platform's paged stock read (no HTTP)."""

    def __init__(self, n: int) -> None:
        self.pages = list(platform_pages(n))

    def __call__(self, cursor: str | None) -> StockPage:
        index = int(cursor or 0)
        nxt = str(index + 1) if index + 1 < len(self.pages) else None
        return StockPage(self.pages[index], nxt)


def measure(name: str, url: str, n: int) -> Result:
    settings = Settings(database_url=url, secret_key="bench")
    db = Database(settings)
    try:
        migrate.upgrade(db.engine)
        started = time.perf_counter()
        code = seed(db, settings, n)
        seed_s = time.perf_counter() - started
        source = FakeSource(n)
        with db.transaction() as session:
            run_id = reconcile.start(session, code, ADMIN, trigger="cli", heal=False).id
        t0 = time.perf_counter()
        reading = reconcile.read_all(source)
        t1 = time.perf_counter()
        with db.reading() as session:
            found, checked = reconcile.compare(session, _channel_id(db), reading.items, utcnow(), utcnow())
        t2 = time.perf_counter()
        with db.transaction() as session:
            reconcile_finish.finish(session, run_id, found, checked, reading.calls, utcnow())
        t3 = time.perf_counter()
        assert checked == n
        with db.reading() as session:
            kinds = [k for (k,) in session.execute(select(Difference.kind).where(Difference.run_id == run_id))]
        counts = {k: kinds.count(k) for k in sorted(set(kinds))}
        return Result(name, n, seed_s, t1 - t0, t2 - t1, t3 - t2, counts)
    finally:
        db.dispose()


def _channel_id(db: Database) -> int:
    from omnistock.store.tables import Channel

    with db.reading() as session:
        found = session.scalar(select(Channel.id).where(Channel.code == "bench"))
        assert found is not None
        return found


@contextmanager
def targets(args: argparse.Namespace) -> Iterator[list[tuple[str, str]]]:
    with ExitStack() as stack:
        out = []
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="omnistock-bench-"))
        out.append(("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}"))
        if not args.sqlite_only:
            reason = pg_reason_unavailable(args.pg)
            if reason:
                print(f"PostgreSQL skipped: {reason}", file=sys.stderr)
            else:
                pg = stack.enter_context(throwaway_pg_database("omnistock_bench_rec", args.pg))
                out.append(("PostgreSQL", pg.url))
        yield out


def section(args: argparse.Namespace, results: list[Result], loads: tuple[MachineLoad, MachineLoad]) -> str:
    facts = run_facts(args.pg if any(r.database == "PostgreSQL" for r in results) else None, *loads)
    rows: list[tuple[str, ...]] = [
        (r.database, f"{r.listings:,}", f"{r.read_s:.2f}", f"{r.compare_s:.2f}", f"{r.record_s:.2f}",
         f"{r.total_s:.2f}", f"{r.listings / r.total_s:,.0f}",
         ", ".join(f"{k} {v:,}" for k, v in r.differences.items()), f"{r.seed_s:.0f}") for r in results]
    table = markdown_table(("database", "listings", "read s", "compare s", "record s", "total s", "listings/s",
                            "differences", "seeding s (not timed)"), rows)
    return f"""{facts.markdown()}

The platform side is an **in-process fake page source** (pages of {PAGE:,} `PlatformItem`s from memory, no HTTP),
so these numbers are omnistock's own cost of a reconciliation; a real platform's paged read (50-250 items per call
within its rate limit) takes far longer than everything measured here. Scenario: one listing per SKU on one
channel, all pushed; the platform shows 1% drifted, 0.1% missing and 0.1% extra unmapped items.

- read: consuming the pages into one dict; compare: walking the channel's listings in chunks of
  {reconcile.CHUNK:,} (one indexed query each, none per listing), settling at once every listing that shows
  the value last pushed with no push pending, and computing what the others should show now with the sync
  engine's `targets_for` (one call per chunk); record: inserting the differences in bulk, superseding the last
  run's, the alerts (one per SKU for the first {reconcile_finish.SKU_ALERTS}, one for the rest) and the
  unmapped items.

{table}
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg", default=PG_ADMIN_DSN, help="PostgreSQL admin DSN (a throwaway database is made)")
    parser.add_argument("--out", type=Path, default=BENCHMARKS_MD, help="Markdown file whose section is rewritten")
    args = parser.parse_args(argv)
    results = []
    before = machine_load()
    with targets(args) as dbs:
        for name, url in dbs:
            print(f"{name}: seeding {args.listings:,} listings…", file=sys.stderr)
            result = measure(name, url, args.listings)
            print(f"{name}: read {result.read_s:.2f} s, compare {result.compare_s:.2f} s, record "
                  f"{result.record_s:.2f} s, total {result.total_s:.2f} s; {result.differences}", file=sys.stderr)
            results.append(result)
    body = section(args, results, (before, machine_load()))
    write_section(args.out, HEADING, body)
    print(body)


if __name__ == "__main__":
    main()
