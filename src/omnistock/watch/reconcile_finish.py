"""Recording a reconciliation run: its differences (carried over from the last run when found again), the reads
no other record tells, what the channel's setting does about the differences (push again, alert, hold orders),
its alerts, and the lock released."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from omnistock.domain.reconciliation import DifferenceKind, Mode, action_for
from omnistock.store.tables import Channel, Sku
from omnistock.sync import calls, dirty
from omnistock.sync.listings import note_unmapped
from omnistock.sync.tables import ChannelSync, Listing
from omnistock.watch import alerts
from omnistock.watch.reconcile import Agreed, Found, PageCall, watch_settings
from omnistock.watch.tables import AgreedRead, Difference, Reconciliation

OPEN = ("open", "healing")
FAULTS = (DifferenceKind.DRIFT, DifferenceKind.MISSING)
SKU_ALERTS = 20  # SKUs alerted one by one per run; the rest share one alert
UNMAPPED_NOTED = 1000
BULK = 5000


def _release(session: Session, run: Reconciliation, now: datetime) -> None:
    settings = watch_settings(session, run.channel_id)
    if settings.running_id == run.id:
        settings.running_id, settings.running_until = None, None
    if settings.last_reconcile_at is None or settings.last_reconcile_at < run.started_at:
        settings.last_reconcile_at = run.started_at


def _record_calls(session: Session, run: Reconciliation, page_calls: Sequence[PageCall], now: datetime) -> None:
    for call in page_calls:
        calls.record(session, channel_id=run.channel_id, op="fetch_stock", ok=call.ok, latency_ms=call.latency_ms,
                     at=now, error=call.error)


def fail(session: Session, run_id: int, exc: BaseException, page_calls: Sequence[PageCall],
         now: datetime) -> Reconciliation:
    run = session.get(Reconciliation, run_id)
    assert run is not None
    run.status, run.finished_at, run.error = "failed", now, f"{type(exc).__name__}: {exc}"[:2000]
    _record_calls(session, run, page_calls, now)
    _release(session, run, now)
    return run


def finish(session: Session, run_id: int, found: Sequence[Found], checked: int, page_calls: Sequence[PageCall],
           now: datetime, *, agreed: Sequence[Agreed] = (), read_started: datetime | None = None,
           keep_reads: timedelta | None = None) -> Reconciliation:
    run = session.get(Reconciliation, run_id, with_for_update=True)
    assert run is not None
    channel = session.get(Channel, run.channel_id)
    assert channel is not None
    state = session.get(ChannelSync, run.channel_id)
    # A channel in shadow rollout pushes nothing: its differences are reported, never acted on.
    shadow = getattr(state, "mode", "live") == "shadow"
    mode = Mode(run.mode)
    previous = {(d.listing_id, d.external_id, d.kind): d for d in session.scalars(
        select(Difference).where(Difference.channel_id == run.channel_id, Difference.status.in_(OPEN)))}
    rows: list[dict[str, Any]] = []
    heal: list[int] = []
    for f in found:
        action = "none" if shadow else action_for(f.kind, mode)
        before = previous.pop((f.listing_id, f.external_id, f.kind.value), None)
        if before is not None:
            before.status, before.resolved_at = "superseded", now
        if action == "heal" and f.listing_id is not None:
            heal.append(f.listing_id)
        rows.append({"run_id": run.id, "channel_id": run.channel_id, "listing_id": f.listing_id, "sku_id": f.sku_id,
                     "external_id": f.external_id, "kind": f.kind.value, "expected": f.expected,
                     "platform": f.platform, "last_pushed": f.last_pushed, "action": action,
                     "status": "healing" if action == "heal" else "open",
                     "first_found_at": before.first_found_at if before else now, "found_at": now})
    for gone in previous.values():
        gone.status = "healed" if gone.status == "healing" else "gone"
        gone.resolved_at = now
    for start in range(0, len(rows), BULK):
        session.execute(insert(Difference), rows[start:start + BULK])
    _record_reads(session, run, agreed, now, keep_reads)
    run.read_started_at = read_started
    for start in range(0, len(heal), BULK):
        dirty.mark_listings(session, Listing.id.in_(heal[start:start + BULK]))
    for f in [f for f in found if f.kind is DifferenceKind.UNMAPPED][:UNMAPPED_NOTED]:
        note_unmapped(session, channel, f.external_id, None, "stock")
    _alerts(session, channel, found, now)
    counts = Counter(f.kind.value for f in found)
    run.status, run.finished_at, run.checked = "done", now, checked
    run.counts = {**{k.value: counts.get(k.value, 0) for k in DifferenceKind}, "healing": len(heal)}
    _record_calls(session, run, page_calls, now)
    _release(session, run, now)
    return run


def _record_reads(session: Session, run: Reconciliation, agreed: Sequence[Agreed], now: datetime,
                  keep: timedelta | None) -> None:
    """The reads no other record tells, in bulk; those older than the push records they sit beside go (a read
    derived from a push can be told only as long as the push is kept)."""
    if keep is not None:
        session.execute(delete(AgreedRead).where(AgreedRead.channel_id == run.channel_id,
                                                 AgreedRead.found_at < now - keep))
    rows = [{"run_id": run.id, "channel_id": run.channel_id, "listing_id": a.listing_id, "sku_id": a.sku_id,
             "platform": a.platform, "found_at": now} for a in agreed]
    for start in range(0, len(rows), BULK):
        session.execute(insert(AgreedRead), rows[start:start + BULK])


def _alerts(session: Session, channel: Channel, found: Sequence[Found], now: datetime) -> None:
    """One drift alert per SKU (the first SKU_ALERTS, then one for the rest), one for unmapped items; the
    channel's earlier drift alerts whose SKUs were not found again are resolved."""
    by_sku: dict[int, list[Found]] = defaultdict(list)
    for f in found:
        if f.kind in FAULTS and f.sku_id is not None:
            by_sku[f.sku_id].append(f)
    prefix = f"drift:{channel.id}:"
    keep: set[str] = set()
    ordered = sorted(by_sku)
    codes = dict(session.execute(select(Sku.id, Sku.code).where(Sku.id.in_(ordered[:SKU_ALERTS]))).all()) \
        if ordered else {}
    for sid in ordered[:SKU_ALERTS]:
        items = by_sku[sid]
        key = f"{prefix}sku:{sid}"
        keep.add(key)
        alerts.raise_alert(session, alerts.Condition(
            kind="drift", key=key, severity="warning", sku_id=sid, channel_id=channel.id,
            message=_drift_message(channel.code, codes.get(sid, str(sid)), items),
            detail={"listings": [_found_view(f) for f in items[:10]], "count": len(items)}), now)
    rest = ordered[SKU_ALERTS:]
    if rest:
        key = f"{prefix}more"
        keep.add(key)
        alerts.raise_alert(session, alerts.Condition(
            kind="drift", key=key, severity="warning", channel_id=channel.id,
            message=f"{channel.code}: {len(rest)} more SKUs show other quantities than they should",
            detail={"skus": len(rest)}), now)
    alerts.resolve_others(session, prefix, keep, now)
    strays = [f for f in found if f.kind is DifferenceKind.UNMAPPED]
    key = f"unmapped:{channel.id}"
    if strays:
        alerts.raise_alert(session, alerts.Condition(
            kind="unmapped", key=key, severity="info", channel_id=channel.id,
            message=f"{channel.code}: {len(strays)} platform item(s) with stock map to no SKU "
                    f"({', '.join(f.external_id for f in strays[:5])}{'…' if len(strays) > 5 else ''})",
            detail={"items": [_found_view(f) for f in strays[:20]], "count": len(strays)}), now)
    else:
        alerts.resolve(session, [key], now)


def _drift_message(channel: str, sku: str, items: Sequence[Found]) -> str:
    if len(items) == 1:
        f = items[0]
        if f.kind is DifferenceKind.MISSING:
            return f"{channel}: listing {f.external_id} of {sku} is missing on the platform"
        return f"{channel}: {sku} ({f.external_id}) shows {f.platform}, should show {f.expected}"
    return f"{channel}: {len(items)} listings of {sku} show other quantities than they should"


def _found_view(f: Found) -> dict[str, Any]:
    return {"external_id": f.external_id, "kind": f.kind.value, "expected": f.expected, "platform": f.platform}
