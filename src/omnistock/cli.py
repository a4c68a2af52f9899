"""The `omnistock` command: serve, migrate, tokens, catalogue and stock by hand, ledger checks."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from omnistock.benchcli import bench_app
from omnistock.care.cli import care_app, case_app, incident_app
from omnistock.config import get_settings
from omnistock.domain.access import Principal, Role
from omnistock.domain.stock import MoveKind
from omnistock.errors import OmnistockError
from omnistock.money.cli import GROUPS as MONEY_GROUPS
from omnistock.onboarding import units
from omnistock.onboarding.cli import GROUPS as ONBOARDING_GROUPS
from omnistock.onboarding.cli import add_sku_commands
from omnistock.services import batches, catalogue, ledger, tokens
from omnistock.services.lookup import sku_by_code
from omnistock.store import migrate
from omnistock.store.db import Database
from omnistock.sync.cli import channel_app, feed_app, listing_app
from omnistock.sync.rollout_cli import rollout_app
from omnistock.sync.simulate import simulate
from omnistock.watch.cli import add_commands as add_watch_commands
from omnistock.web.cli import user_app

T = TypeVar("T")
app = typer.Typer(help="omnistock: one trustworthy stock for every sales channel.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
sku_app = typer.Typer(help="The catalogue: SKUs and bundles.", no_args_is_help=True)
location_app = typer.Typer(help="Warehouses, stores and distributors.", no_args_is_help=True)
stock_app = typer.Typer(help="Stock moves by hand (each one audited).", no_args_is_help=True)
ledger_app = typer.Typer(help="Checks of the stock ledger.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (token_app, "token"), (sku_app, "sku"), (location_app, "location"),
                  (stock_app, "stock"), (ledger_app, "ledger")):
    app.add_typer(sub, name=name)
for sub, name in MONEY_GROUPS:  # supplier, po, reorder, report, rate, channel-terms
    app.add_typer(sub, name=name)
for sub, name in ((case_app, "case"), (incident_app, "incident"), (care_app, "care")):  # complaint desk
    app.add_typer(sub, name=name)
for sub, name in ((channel_app, "channel"), (listing_app, "listing"), (feed_app, "feed"),
                  (rollout_app, "rollout")):  # channels
    app.add_typer(sub, name=name)
app.command("simulate")(simulate)
for sub, name in ONBOARDING_GROUPS:  # import, unit, repair, backup
    app.add_typer(sub, name=name)
add_sku_commands(sku_app)  # sku alias, sku duplicates, sku merge
app.add_typer(user_app, name="user")  # people who sign in to the web console
add_watch_commands(app, dict((n, s) for s, n in MONEY_GROUPS)["report"])  # reconcile, trace, alert, notifier
app.add_typer(bench_app, name="bench")  # bench flash-sale (the scripts under bench/)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """One-line messages and a non-zero exit instead of tracebacks."""
    try:
        yield
    except OmnistockError as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise fail(f"{exc.message}{where}") from None
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        if "no such table" in text or "does not exist" in text:
            raise fail("the database has no omnistock schema yet: run `omnistock db upgrade`") from None
        raise fail(f"database error: {text}") from None


def database() -> Database:
    return Database(get_settings())


def operator() -> Principal:
    return Principal(name=f"cli:{getpass.getuser()}", role=Role.ADMIN)


def in_transaction(action: Callable[[Session], T]) -> T:
    db = database()
    try:
        with handled(), db.transaction() as session:
            return action(session)
    finally:
        db.dispose()


# --- serve and schema --------------------------------------------------------------------------


def _ready_database() -> Database:
    settings = get_settings()
    db = Database(settings)
    with handled():
        if settings.is_sqlite:
            migrate.upgrade(db.engine)
        elif migrate.pending(db.engine):
            raise fail("the database schema is behind: run `omnistock db upgrade` first")
    return db


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
          workers: Annotated[bool, typer.Option(help="Run the sync workers in this process.")] = True) -> None:
    """Run the API and (by default) the sync workers; on the embedded default, migrate first."""
    import uvicorn

    from omnistock.api.app import create_app
    from omnistock.sync.worker import Worker

    db = _ready_database()
    worker = Worker(db, db.settings).start() if workers else None
    try:
        uvicorn.run(create_app(db.settings, db), host=host, port=port, log_level="info")
    finally:
        if worker:
            worker.stop()


@app.command()
def worker(rate_share: Annotated[float, typer.Option(
        help="This process's share of each platform's rate limit (1/N when running N worker processes).")] = 1.0,
           batch: Annotated[int | None, typer.Option(help="Listings claimed per round (default OMNISTOCK_SYNC_BATCH).")]
           = None) -> None:
    """Run the sync workers alone (any number of processes on PostgreSQL share the work)."""
    import signal
    import threading

    from omnistock.sync.worker import Worker, WorkerOptions

    db = _ready_database()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    running = Worker(db, db.settings, WorkerOptions(batch=batch, rate_share=rate_share)).start()
    err.print("sync worker running; stop with Ctrl+C")
    done.wait()
    running.stop()


@app.command()
def demo(port: Annotated[int, typer.Option(help="Port for the API.")] = 8000,
         directory: Annotated[str, typer.Option(help="Where the demo database lives.")] = ".demo",
         rate: Annotated[float, typer.Option(help="Shoppers per second over all shops.")] = 20.0,
         seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds (default: Ctrl+C).")]
         = None) -> None:
    """Start a demo: seeded catalogue, five simulated shops with shoppers, sync workers, and a live view."""
    from pathlib import Path

    from omnistock.demo.run import run

    with handled():
        result = run(Path(directory), port, rate, seconds, out)
    out.print(f"propagation over {result['pushes']:.0f} pushes: p50 {result['p50_ms']} ms, "
              f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (safe to run again)."""
    db = database()
    with handled():
        migrate.upgrade(db.engine)
    db.dispose()
    out.print("database is up to date")


# --- tokens ------------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what the token is for.")],
    role: Annotated[str, typer.Option(help="admin, operator, agent or viewer.")] = "viewer",
    location: Annotated[list[str] | None, typer.Option(help="Limit to this location (repeatable).")] = None,
    channel: Annotated[list[str] | None, typer.Option(help="Limit to this channel (repeatable).")] = None,
) -> None:
    """Create an API token. It is printed once; only its hash is stored."""
    row, token = in_transaction(lambda s: tokens.create_token(
        s, name=name, role=role, locations=location, channels=channel, actor=operator().name))
    err.print(f"token {row.name!r} ({row.role}) created; keep it now, it is not shown again:")
    print(token)


# --- catalogue ---------------------------------------------------------------------------------


def _components(values: list[str] | None) -> list[catalogue.ComponentSpec]:
    comps = []
    for value in values or []:
        code, _, qty = value.partition("*")
        if not qty.isdigit():
            raise fail(f"component {value!r} must look like SKU*QTY")
        comps.append(catalogue.ComponentSpec(code.strip(), int(qty)))
    return comps


@sku_app.command("add")
def sku_add(code: str, name: str,
            unit: Annotated[str, typer.Option(help="Unit of measure.")] = "pcs",
            barcode: Annotated[str | None, typer.Option(help="EAN/UPC barcode.")] = None,
            safety_stock: Annotated[int, typer.Option(help="Units never shown to platforms.")] = 0,
            component: Annotated[list[str] | None, typer.Option(help="Bundle component SKU*QTY (repeatable).")]
            = None) -> None:
    """Add a SKU, or a bundle when components are given."""
    spec = catalogue.SkuSpec(code=code, name=name, unit=unit, barcode=barcode, safety_stock=safety_stock,
                             components=_components(component))
    in_transaction(lambda s: catalogue.create_sku(s, spec, actor=operator().name))
    out.print(f"added {code}")


def _figures_table(figs: list[catalogue.SkuFigures]) -> Table:
    table = Table("SKU", "Name", "On hand", "Reserved", "Available")
    for f in figs:
        table.add_row(f.sku.code, f.sku.name, str(f.on_hand), str(f.reserved), str(f.available))
    return table


@sku_app.command("list")
def sku_list(search: Annotated[str | None, typer.Option(help="Part of a code or name, or a barcode.")] = None,
             limit: int = 100) -> None:
    """List SKUs with their stock figures."""
    page = in_transaction(lambda s: catalogue.list_skus(s, operator(), search=search, limit=limit))
    out.print(_figures_table(list(page.items)))
    out.print(f"{len(page.items)} of {page.total}")


@sku_app.command("show")
def sku_show(code: str) -> None:
    """Show one SKU per location."""
    fig = in_transaction(lambda s: catalogue.figures(s, sku_by_code(s, code, field="code"), operator()))
    out.print(_figures_table([fig]))
    table = Table("Location", "On hand", "Reserved", "Available")
    for lf in fig.locations:
        table.add_row(lf.location, str(lf.on_hand), str(lf.reserved), str(lf.available))
    out.print(table)


@location_app.command("add")
def location_add(code: str, name: str,
                 kind: Annotated[str, typer.Option(help="warehouse, store or distributor.")] = "warehouse",
                 sellable: Annotated[bool, typer.Option(help="Whether its stock can be sold.")] = True) -> None:
    """Add a location."""
    in_transaction(lambda s: catalogue.create_location(s, code=code, name=name, kind=kind, sellable=sellable,
                                                       actor=operator().name))
    out.print(f"added location {code}")


# --- stock -------------------------------------------------------------------------------------


def _move(kind: MoveKind, sku: str, qty: int, location: str, reason: str | None,
          to_location: str | None = None, reference: str | None = None, batch: str | None = None,
          expiry: datetime | None = None, unit: str | None = None) -> None:
    spec = ledger.MoveSpec(sku=sku, location=location, kind=kind, qty=qty, to_location=to_location,
                           reason=reason, reference=reference, batch=batch,
                           expiry=expiry.date() if expiry is not None else None)

    def action(session: Session) -> str:
        # A quantity in another unit (--unit 箱) is converted here, at the edge: the ledger counts in the SKU's unit.
        moved = spec if unit is None else replace(spec, qty=units.in_sku_unit(session, sku, qty, unit))
        result = ledger.post_move(session, moved, operator())
        fig = catalogue.figures(session, sku_by_code(session, sku), operator())
        parts = batches.move_parts(session, [result.moves[0].id])[result.moves[0].id]
        sign = -1 if kind is MoveKind.TRANSFER else 1
        taken = "".join(f"; batch {p.batch} {sign * p.qty:+d}" for p in parts)
        return f"{sku}: on hand {fig.on_hand}, reserved {fig.reserved}, available {fig.available}{taken}"
    out.print(in_transaction(action))


LocationOpt = Annotated[str, typer.Option("--location", "-l", help="Location code.")]
ReasonOpt = Annotated[str | None, typer.Option(help="Why (kept in the audit trail).")]
BatchOpt = Annotated[str | None, typer.Option(help="Batch (lot) number; without one, units leave first "
                                              "expiring first out.")]
ExpiryOpt = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="The batch's expiry date "
                                                    "(YYYY-MM-DD); alone, it names the batch after that day.")]
UnitOpt = Annotated[str | None, typer.Option(help="The unit the quantity is in (box, 箱...), converted to the "
                                             "SKU's own (omnistock unit define).")]


@stock_app.command("receive")
def stock_receive(sku: str, qty: int, location: LocationOpt, reason: ReasonOpt = None,
                  reference: Annotated[str | None, typer.Option(help="Delivery note, PO...")] = None,
                  batch: BatchOpt = None, expiry: ExpiryOpt = None, unit: UnitOpt = None) -> None:
    """Receive units into a location (into a batch with --batch / --expiry)."""
    _move(MoveKind.RECEIPT, sku, qty, location, reason, reference=reference, batch=batch, expiry=expiry,
          unit=unit)


@stock_app.command("adjust", context_settings={"ignore_unknown_options": True})
def stock_adjust(sku: str, qty: Annotated[int, typer.Argument(help="Signed change, e.g. -2.")],
                 location: LocationOpt,
                 reason: Annotated[str, typer.Option(help="Why (required for adjustments).")],
                 batch: BatchOpt = None, expiry: ExpiryOpt = None, unit: UnitOpt = None) -> None:
    """Add or remove units (damage, found stock...)."""
    _move(MoveKind.ADJUSTMENT, sku, qty, location, reason, batch=batch, expiry=expiry, unit=unit)


@stock_app.command("count")
def stock_count(sku: str, qty: Annotated[int, typer.Argument(help="The counted quantity.")],
                location: LocationOpt, reason: ReasonOpt = None, batch: BatchOpt = None,
                expiry: ExpiryOpt = None, unit: UnitOpt = None) -> None:
    """Record a stocktake count (of one batch with --batch); the difference is written as a move."""
    _move(MoveKind.COUNT, sku, qty, location, reason, batch=batch, expiry=expiry, unit=unit)


@stock_app.command("transfer")
def stock_transfer(sku: str, qty: int,
                   from_: Annotated[str, typer.Option("--from", help="Source location.")],
                   to: Annotated[str, typer.Option("--to", help="Destination location.")],
                   reason: ReasonOpt = None, batch: BatchOpt = None, unit: UnitOpt = None) -> None:
    """Move units between locations (their batches go with them)."""
    _move(MoveKind.TRANSFER, sku, qty, from_, reason, to_location=to, batch=batch, unit=unit)


@stock_app.command("batches")
def stock_batches(sku: str) -> None:
    """A SKU's stock per batch and location, earliest expiry first."""
    def action(session: Session) -> list[batches.BatchFigures]:
        return batches.figures(session, sku_by_code(session, sku))
    found = in_transaction(action)
    if not found:
        out.print(f"{sku}: no stock in batches")
        return
    table = Table("Batch", "Expiry", "Location", "On hand", "Reserved", "State")
    for f in found:
        state = "expired" if f.expired else ("out of sale" if not f.sellable_location else "sellable")
        table.add_row(f.batch, f.expiry.isoformat() if f.expiry else "-", f.location, str(f.on_hand),
                      str(f.reserved), state)
    out.print(table)


@stock_app.command("expire")
def stock_expire() -> None:
    """Take expired batches out of sale now (the scheduler does it every OMNISTOCK_WATCH_RULES_SECONDS): their
    units move to the location's -EXPIRED location, reservations on them move to fresher stock or hold
    their orders, and a batch_expired alert is raised."""
    from omnistock.watch import expiry

    db = database()
    try:
        with handled():
            moved = expiry.run(db)
    finally:
        db.dispose()
    for q in moved:
        out.print(f"{q.sku} batch {q.batch} (expired {q.expiry}): {q.qty} moved {q.location} -> {q.quarantine}")
    out.print(f"{len(moved)} expired batch level(s) taken out of sale")


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Rebuild every level from the moves and reservations and report any difference."""
    checked, diffs = in_transaction(ledger.verify)
    if not diffs:
        out.print(f"ledger ok: {checked} levels match their moves and reservations")
        return
    table = Table("SKU", "Location", "Figure", "Stored", "Rebuilt")
    for d in diffs:
        table.add_row(d.sku, d.location, d.field, str(d.stored), str(d.rebuilt))
    out.print(table)
    raise fail(f"{len(diffs)} difference(s) between the levels and the ledger")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
