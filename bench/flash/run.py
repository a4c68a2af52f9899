"""One strategy's run: build the stage, start the omnistock side, let it fill the shops, replay the demand
script against the shops, observe until late orders and pushes have landed, then collect what happened."""

from __future__ import annotations

import random
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _common import throwaway_pg_database
from sqlalchemy import func, select

from flash.measure import Change, Outcome
from flash.scenario import Catalogue, Demand, Shape
from flash.side import Side, SideConfig
from flash.stage import SECRET_KEY, Stage, aim_webhooks, build
from omnistock.store.tables import Channel, Level, Order, OrderLine, Reservation
from omnistock.sync.tables import PlatformCall


@dataclass(frozen=True)
class Strategy:
    name: str
    engine: bool
    period_s: float = 0.0  # the export period of a periodic strategy in the real (60 s) sale
    partition: bool = False


STRATEGIES = (Strategy("periodic-5min", False, 300.0), Strategy("periodic-1min", False, 60.0),
              Strategy("realtime-shared", True), Strategy("realtime-partition", True, partition=True))


@dataclass
class RunResult:
    strategy: Strategy
    sale_at: float  # unix time the first shopper could come
    until: float  # end of observation
    outcomes: list[Outcome]
    displays: dict[str, dict[str, list[tuple[float, int]]]]  # platform -> SKU -> (time, shown)
    changes: list[Change]
    held_units: int  # units of orders omnistock held for insufficient stock
    platform_orders: int  # orders the platforms accepted
    omnistock_orders: int  # of which omnistock has taken in
    api_calls: int  # platform API calls during observation (simulator's count)
    api_calls_by_op: dict[str, int]
    cpu_s: float  # the omnistock process's CPU from the sale's start until every order was taken in
    engine_propagation_ms: list[int]  # what the engine itself recorded per push (realtime only)
    settle_s: float
    period_s: float | None  # the export period used (periodic only), after time compression
    phase_s: float | None  # first export this long after the sale started
    webhooks_failed: int  # delivery attempts omnistock did not answer in time (the platform may retry)
    webhooks_lost: int  # deliveries the platforms never sent (by design: the polls must find those orders)
    shoppers_late_s: list[float]  # how late each shopper came against the script (a busy machine)


@contextmanager
def fresh_database(kind: str, directory: Path, pg_admin_dsn: str) -> Iterator[str]:
    """The URL of an empty database for one run: a SQLite file (the embedded default) or a throwaway PostgreSQL
    database, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'omnistock.db'}"
        return
    with throwaway_pg_database("flash_sale", pg_admin_dsn) as pg:
        yield pg.url


@dataclass(frozen=True)
class Setup:
    """What every strategy of one benchmark run shares."""

    shape: Shape
    catalogue: Catalogue
    demand: Demand
    seed: int
    threshold: int  # realtime-partition's
    database: str  # sqlite | postgres
    pg_admin_dsn: str
    workdir: Path


def run(strategy: Strategy, setup: Setup, side: Side,
        say: Callable[[str], None]) -> tuple[RunResult, threading.Thread]:
    """The run's results, and the thread that shuts its omnistock process and simulator down (join it later:
    shutting down takes seconds and uses next to no CPU, so the next strategy need not wait for it)."""
    shape, seed = setup.shape, setup.seed
    directory = setup.workdir / strategy.name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    resources = ExitStack()
    try:
        url = resources.enter_context(fresh_database(setup.database, directory, setup.pg_admin_dsn))
        stage = build(shape, setup.catalogue, directory, url, seed)
    except BaseException:
        resources.close()
        raise
    period = strategy.period_s * shape.time_scale if not strategy.engine else None
    # A merchant's timer does not start with the sale: its phase is random (seeded, so every run sees the same).
    phase = random.Random(f"{seed}:{strategy.name}:phase").uniform(0, period) if period else None
    config = SideConfig(stage.settings.database_url, SECRET_KEY, strategy.engine, period or 0.0, phase or 0.0,
                        shape.poll_s)

    def close() -> None:
        side.stop()
        stage.close()
        resources.close()
    closing = threading.Thread(target=close, name=f"close-{strategy.name}")
    try:
        api_url = side.start(config)
        aim_webhooks(stage, api_url)
        if strategy.partition:
            _partition(stage, api_url, setup.threshold)
        settle_s, settled = _settle(stage, api_url, strategy.engine, shape)
        say(f"{strategy.name}: shops filled in {settle_s:.1f} s" + ("" if settled else " (pushes never went quiet)")
            + "; the sale starts")
        result = _sale(strategy, shape, setup.demand, stage, side, settle_s, period, phase, say)
    except BaseException:
        close()
        raise
    closing.start()
    return result, closing


def _partition(stage: Stage, api_url: str, threshold: int) -> None:
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {stage.token}"}, timeout=30) as api:
        for code in stage.codes.values():
            r = api.put(f"/api/v1/channels/{code}/policy",
                        json={"policy": {"kind": "partition", "threshold": threshold}})
            r.raise_for_status()


def _settle(stage: Stage, api_url: str, engine: bool, shape: Shape) -> tuple[float, bool]:
    """Wait until every listing was pushed once and pushes went quiet (for the engine also: no backlog)."""
    started = time.monotonic()
    quiet = 2.0 if engine else 1.0
    timeout = 10 * shape.poll_s + 30
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {stage.token}"}, timeout=30) as api:
        while time.monotonic() - started < timeout:
            last_push = 0.0
            every_listing = True
            for shop in stage.shops.values():
                with shop.lock:
                    for listing in shop.listings.values():
                        pushes = [t for t, _, source in listing.history if source == "api"]
                        every_listing = every_listing and bool(pushes)
                        last_push = max([last_push, *pushes])
            backlog = sum(api.get(f"/api/v1/channels/{code}/health").json().get("backlog", 0)
                          for code in stage.codes.values()) if engine else 0
            # The export pushed every listing before the process said it was ready; the engine is waited for.
            if (every_listing or not engine) and not backlog and time.time() - last_push >= quiet:
                return time.monotonic() - started, True
            time.sleep(0.25)
    return time.monotonic() - started, False


def _sale(strategy: Strategy, shape: Shape, demand: Demand, stage: Stage, side: Side, settle_s: float,
          period: float | None, phase: float | None, say: Callable[[str], None]) -> RunResult:
    calls_before = _calls(stage)
    cpu_before = side.cpu_seconds()
    sale_at = time.time() + 0.2
    side.sale_started(sale_at)
    outcomes: list[Outcome] = []
    late: list[float] = []
    shoppers = threading.Thread(target=_replay, args=(stage, demand, sale_at, outcomes, late), name="shoppers")
    shoppers.start()
    until = sale_at + shape.sale_s + shape.tail_s
    shoppers.join()
    time.sleep(max(0.0, until - time.time()))
    calls_after = _calls(stage)
    platform_orders = sum(len(shop.orders) for shop in stage.shops.values())
    # Every platform order must have reached omnistock before holds are counted; its CPU is counted until then.
    omnistock_orders = _wait_for_intake(stage, platform_orders, shape.intake_timeout_s)
    cpu_s = side.cpu_seconds() - cpu_before
    say(f"{strategy.name}: {omnistock_orders:,} of {platform_orders:,} platform orders taken in by omnistock")
    deliveries = stage.sim.registry.dispatcher
    displays = {platform: {sku: [(t, q) for t, q, _ in shop.listings[ext].history]
                           for sku, ext in stage.items[platform].items()}
                for platform, shop in stage.shops.items()}
    ops = {op: calls_after.get(op, 0) - calls_before.get(op, 0) for op in calls_after}
    return RunResult(strategy, sale_at, until, outcomes, displays, _changes(stage, sale_at, until),
                     _held_units(stage), platform_orders, omnistock_orders, sum(ops.values()),
                     {op: n for op, n in sorted(ops.items()) if n}, cpu_s, _engine_propagation(stage, sale_at, until),
                     settle_s, period, phase, sum(1 for a in deliveries.attempts() if not a.ok),
                     sum(1 for d in deliveries.deliveries() if d.lost), late)


def _replay(stage: Stage, demand: Demand, sale_at: float, outcomes: list[Outcome], late: list[float]) -> None:
    """The shoppers, in the script's order, each at their moment (late when the machine is slow, never early)."""
    for a in demand.arrivals:
        wait = sale_at + a.at - time.time()
        if wait > 0:
            time.sleep(wait)
        late.append(max(0.0, -wait))
        order = stage.shops[a.platform].buy(stage.items[a.platform][a.sku], a.qty,
                                            {"name": "shopper", "phone": "13800000000"})
        outcomes.append(Outcome(time.time(), a.platform, a.sku, a.qty, order is not None))


def _calls(stage: Stage) -> dict[str, int]:
    total: dict[str, int] = {}
    for shop in stage.shops.values():
        with shop.lock:
            for op, n in shop.calls.items():
                total[op] = total.get(op, 0) + n
    return total


def _wait_for_intake(stage: Stage, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        with stage.db.reading() as session:
            taken = session.scalar(select(func.count(Order.id))) or 0
        if taken >= expected or time.monotonic() > deadline:
            return int(taken)
        time.sleep(0.5)


def _held_units(stage: Stage) -> int:
    with stage.db.reading() as session:
        return int(session.scalar(select(func.coalesce(func.sum(OrderLine.qty), 0))
                                  .join(Order, Order.id == OrderLine.order_id)
                                  .where(Order.status == "held", Order.hold_reason.like("insufficient_stock%")))
                   or 0)


def _changes(stage: Stage, since: float, until: float) -> list[Change]:
    """Every reservation as a fall of its SKU's available (nothing else moves stock during the sale)."""
    codes = {sid: code for code, sid in stage.sku_ids.items()}
    platform_of = {code: platform for platform, code in stage.codes.items()}
    left = _opening(stage)
    with stage.db.reading() as session:
        rows = session.execute(select(Reservation.sku_id, Reservation.qty, Reservation.created_at, Channel.code)
                               .join(Order, Order.id == Reservation.order_id)
                               .join(Channel, Channel.id == Order.channel_id)
                               .order_by(Reservation.created_at, Reservation.id)).all()
    out = []
    for sid, qty, at, code in rows:
        left[sid] -= qty
        moment = at.timestamp()
        if since <= moment <= until:
            out.append(Change(moment, codes[sid], left[sid], platform_of.get(code, code)))
    return out


def _opening(stage: Stage) -> dict[int, int]:
    with stage.db.reading() as session:
        rows = session.execute(select(Level.sku_id, func.sum(Level.on_hand)).group_by(Level.sku_id)).all()
    return {sid: int(units) for sid, units in rows}


def _engine_propagation(stage: Stage, since: float, until: float) -> list[int]:
    start, end = (datetime.fromtimestamp(t, UTC) for t in (since, until))
    with stage.db.reading() as session:
        return [ms for ms in session.scalars(select(PlatformCall.propagation_ms).where(
            PlatformCall.op == "set_stock", PlatformCall.ok.is_(True), PlatformCall.propagation_ms.is_not(None),
            PlatformCall.at >= start, PlatformCall.at <= end)) if ms is not None]
