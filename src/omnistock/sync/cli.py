"""Commands for channels, listings and feeds: `omnistock channel ...`, `omnistock listing ...`,
`omnistock feed ...`. Each one calls the same service function as the API."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omnistock import cli as core
from omnistock.config import get_settings
from omnistock.errors import Invalid
from omnistock.services import channels, secrets
from omnistock.services.lookup import channel_by_code
from omnistock.sync import feed, listing_import, proposals
from omnistock.sync.adapters import adapter_for, has_adapter
from omnistock.sync.channel_edit import ChannelPatch, update_channel, update_schedule
from omnistock.sync.feed_format import parse_feed
from omnistock.sync.listings import ListingSpec, create_listing, list_listings
from omnistock.sync.tables import Listing

channel_app = typer.Typer(help="Shops on platforms, feeds and web shops: connect, list, test, change.",
                          no_args_is_help=True)
listing_app = typer.Typer(help="Which platform item shows which SKU: add, import, propose.", no_args_is_help=True)
feed_app = typer.Typer(help="Feeds of offline stores and distributors: counts and sales in, allocations out.",
                       no_args_is_help=True)

T = TypeVar("T")
ChannelOpt = Annotated[str, typer.Option("--channel", "-c", help="Channel code.")]


@contextmanager
def detailed() -> Iterator[None]:
    """Each bad field or row on its own line before the one-line error."""
    try:
        yield
    except Invalid as exc:
        for e in exc.errors:
            core.err.print(f"  {e.get('message') or e.get('field')}", highlight=False, markup=False)
        raise


def in_transaction(action: Callable[[Session], T]) -> T:
    """`omnistock.cli.in_transaction` that also lists every bad field or row."""
    db = core.database()
    try:
        with core.handled(), detailed(), db.transaction() as session:
            return action(session)
    finally:
        db.dispose()


def _settings_pairs(values: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value in values or []:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise core.fail(f"--setting {value!r} must look like key=value")
        out[key.strip()] = text
    return out


# --- channels ----------------------------------------------------------------------------------


@channel_app.command("add")
def channel_add(code: str,
                kind: Annotated[str, typer.Option(help="shopify, woocommerce, taobao, jd, pinduoduo, douyin, "
                                                       "webhook, feed or manual.")],
                name: Annotated[str | None, typer.Option(help="A name people recognise.")] = None,
                setting: Annotated[list[str] | None, typer.Option(
                    "--setting", "-s", help="key=value, repeatable (docs/platforms.md lists each kind's keys).")]
                = None) -> None:
    """Connect a channel; its settings are checked exactly as the API checks them."""
    config = get_settings()
    values = _settings_pairs(setting)
    ch = in_transaction(lambda s: channels.create_channel(
            s, config, code=code, kind=kind, name=name, settings=values, actor=core.operator().name))
    core.out.print(f"added {ch.kind} channel {ch.code}; webhooks (if the platform sends them) go to "
                   f"https://<your omnistock>/webhooks/{ch.code}")


@channel_app.command("list")
def channel_list() -> None:
    """Every channel with its listings; secrets are masked."""
    def rows(session: Session) -> list[tuple[str, ...]]:
        counts = dict(session.execute(select(Listing.channel_id, func.count()).group_by(Listing.channel_id)).all())
        return [(ch.code, ch.kind, ch.name, "yes" if ch.enabled else "no", str(counts.get(ch.id, 0)),
                 json.dumps(secrets.masked(ch.settings), ensure_ascii=False))
                for ch in channels.list_channels(session)]
    table = Table("Code", "Kind", "Name", "Enabled", "Listings", "Settings")
    for row in in_transaction(rows):
        table.add_row(*row)
    core.out.print(table)


@channel_app.command("test")
def channel_test(code: str) -> None:
    """Call the platform once with the stored credentials."""
    db = core.database()
    try:
        with core.handled():
            with db.reading() as session:
                ch = channel_by_code(session, code)
                kind = ch.kind
                adapter = adapter_for(ch, get_settings()) if has_adapter(ch) else None
            if adapter is None:
                core.out.print(f"{code}: a {kind} channel has no platform to call")
                return
            with core.err.status(f"calling {kind}…"):
                adapter.test_connection()
    finally:
        db.dispose()
    core.out.print(f"{code}: ok, {kind} accepted the credentials")


@channel_app.command("edit")
def channel_edit(code: str, name: Annotated[str | None, typer.Option(help="New name.")] = None,
                 enabled: Annotated[bool | None, typer.Option("--enable/--disable", help="Switch on or off.")]
                 = None,
                 setting: Annotated[list[str] | None, typer.Option(
                     "--setting", "-s", help="key=value to change, repeatable.")] = None,
                 unset: Annotated[list[str] | None, typer.Option(help="Setting to remove, repeatable.")] = None
                 ) -> None:
    """Change a channel; settings given are merged into the stored ones and checked again."""
    values: dict[str, Any] = {**_settings_pairs(setting), **{key: None for key in unset or []}}
    patch = ChannelPatch(name, enabled, values or None)
    config = get_settings()
    ch = in_transaction(lambda s: update_channel(s, config, code, patch, core.operator()))
    core.out.print(f"{ch.code}: {'enabled' if ch.enabled else 'disabled'}, settings "
                   f"{json.dumps(secrets.masked(ch.settings), ensure_ascii=False)}")


@channel_app.command("schedule")
def channel_schedule(code: str,
                     poll_minutes: Annotated[float | None, typer.Option(help="Poll orders every N minutes.")]
                     = None,
                     full_sync_minutes: Annotated[float | None, typer.Option(
                         help="Push every listing again every N minutes.")] = None) -> None:
    """How often a channel's orders are polled and its listings fully re-pushed."""
    def action(session: Session) -> tuple[float, float]:
        state = update_schedule(session, code, core.operator(), poll_minutes=poll_minutes,
                                full_sync_minutes=full_sync_minutes)
        return state.poll_minutes, state.full_sync_minutes
    poll, full = in_transaction(action)
    core.out.print(f"{code}: orders polled every {poll} min, full sync every {full} min")


# --- listings ----------------------------------------------------------------------------------


@listing_app.command("add")
def listing_add(channel: ChannelOpt, sku: Annotated[str, typer.Option(help="Our SKU code.")],
                external_id: Annotated[str, typer.Option(help="The platform's id of the item (see docs).")],
                pack_size: Annotated[int, typer.Option(help="Units one platform item sells.")] = 1,
                external_sku: Annotated[str | None, typer.Option(help="The merchant's code on the platform.")]
                = None) -> None:
    """Map one platform item to one SKU."""
    spec = ListingSpec(sku, external_id, external_sku, pack_size)
    in_transaction(lambda s: create_listing(s, channel, spec, core.operator()))
    core.out.print(f"{channel}: {external_id} shows {sku}" + (f" in packs of {pack_size}" if pack_size > 1 else ""))


@listing_app.command("list")
def listing_list(channel: ChannelOpt, limit: int = 200) -> None:
    """The listings of a channel and what was last pushed to each."""
    def rows(session: Session) -> tuple[list[tuple[str, ...]], int]:
        page = list_listings(session, channel, core.operator(), limit=limit)
        return [(lst.external_id, sku, str(lst.pack_size), "" if lst.last_pushed_value is None
                 else str(lst.last_pushed_value), "yes" if lst.dirty else "", lst.last_error or "")
                for lst, sku in page.items], page.total
    found, total = in_transaction(rows)
    table = Table("External id", "SKU", "Pack", "Last pushed", "Pending", "Last error")
    for row in found:
        table.add_row(*row)
    core.out.print(table)
    core.out.print(f"{len(found)} of {total}")


def _import_table(plan: listing_import.ImportPlan) -> Table:
    table = Table("Row", "Action", "External id", "SKU", "Pack", "Before")
    for item in plan.items:
        before = "" if item.before is None else f"{item.before.get('sku')} ×{item.before.get('pack_size')}"
        table.add_row("" if item.row is None else str(item.row), item.action, item.external_id, item.sku,
                      str(item.pack_size), before)
    return table


@listing_app.command("import")
def listing_import_cmd(file: Annotated[Path, typer.Argument(help="CSV or XLSX: sku,external_id,pack_size "
                                                                 "(or 商品编码,平台商品ID,每包数量).")],
                       channel: ChannelOpt,
                       dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only; write nothing.")]
                       = False) -> None:
    """Map many items at once. Every row is written, or none when any row is wrong."""
    from omnistock.onboarding.imports import ImportFile, import_listings  # applied with the automatic backup

    data, db = _read(file), core.database()
    try:
        with core.handled(), detailed():
            plan = import_listings(db, ImportFile(data, file.name), core.operator(), channel=channel,
                                   dry_run=dry_run)
    finally:
        db.dispose()
    if plan.ignored_headers:
        core.err.print(f"ignored column(s): {', '.join(plan.ignored_headers)}", markup=False)
    core.out.print(_import_table(plan))
    if plan.backup:
        core.out.print(f"backup taken before applying: {plan.backup}", markup=False, highlight=False)
    verb = ("would create", "would update", "would leave") if dry_run else ("created", "updated", "left")
    core.out.print(f"{channel}: {verb[0]} {plan.count('create')}, {verb[1]} {plan.count('update')}, "
                   f"{verb[2]} {plan.count('unchanged')} unchanged")
    if plan.errors:
        for e in plan.errors.items:
            core.err.print(f"  {e.message}", markup=False, highlight=False)
        raise core.fail(f"{len(plan.errors)} row(s) have errors; nothing would be written until they are fixed")


@listing_app.command("propose")
def listing_propose(channel: ChannelOpt,
                    out: Annotated[Path | None, typer.Option(
                        help="Write the proposals as an import file (sku,external_id,pack_size) to review and "
                             "import.")] = None) -> None:
    """Read the platform's items and propose a SKU for each unmapped one (outer id, barcode, name)."""
    db = core.database()
    try:
        with core.handled(), core.err.status("reading every item of the platform…"):
            found = proposals.propose(db, get_settings(), channel, core.operator())
    finally:
        db.dispose()
    table = Table("External id", "Title", "Platform code", "Proposed SKU", "Matched by")
    for m in found.matches:
        proposed = m.sku or (f"one of {', '.join(m.candidates)}" if m.candidates else "—")
        table.add_row(m.item.external_id, m.item.title or "", m.item.external_sku or "", proposed,
                      m.matched_by.value if m.matched_by else "")
    core.out.print(table)
    core.out.print(f"{found.items_read} item(s) read, {found.already_mapped} already mapped, "
                   f"{len(found.proposed)} proposed, {len(found.unmatched)} without a proposal")
    if out is not None:
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(("sku", "external_id", "pack_size"))
            for m in found.proposed:
                writer.writerow((m.sku, m.item.external_id, 1))
        core.out.print(f"wrote {out}; check it, then: omnistock listing import {out} --channel {channel}")


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise core.fail(f"cannot read {file}: {exc.strerror}") from None


# --- feeds -------------------------------------------------------------------------------------


@feed_app.command("import")
def feed_import(file: Annotated[Path, typer.Argument(help="CSV, XLSX or JSON feed (docs/platforms.md).")],
                channel: ChannelOpt) -> None:
    """Apply a feed's counts and sales, exactly as POST /api/v1/channels/{code}/feed does."""
    data = _read(file)
    zone = get_settings().zone
    with core.handled(), detailed():
        batch = parse_feed(data, zone, filename=file.name)
    report = in_transaction(lambda s: feed.apply_feed(s, channel, batch, core.operator()))
    if report.counts:
        table = Table("SKU", "Location", "Counted", "Change")
        for c in report.counts:
            table.add_row(c.sku, c.location, str(c.counted), f"{c.change:+d}")
        core.out.print(table)
    if report.sales:
        table = Table("Sale", "Status", "Order", "Order status", "Results")
        for s in report.sales:
            table.add_row(s.sale_id, s.status, "" if s.order_id is None else str(s.order_id),
                          s.order_status or "", ", ".join(s.results))
        core.out.print(table)
    core.out.print(f"{channel}: {len(report.counts)} count(s) and {len(report.sales)} sale(s) applied")


@feed_app.command("allocations")
def feed_allocations(channel: ChannelOpt,
                     fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
                     out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")]
                     = None) -> None:
    """What each listing of the feed should show now."""
    if fmt not in ("csv", "json"):
        raise core.fail("--format must be csv or json")
    items = in_transaction(lambda s: feed.allocations(s, channel, core.operator()))
    text = feed.allocations_csv(items) if fmt == "csv" else json.dumps(
        {"channel": channel, "items": [a.__dict__ for a in items]}, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        print(text, end="")
    else:
        out.write_text(text, encoding="utf-8")
        core.out.print(f"wrote {len(items)} allocation(s) to {out}")
