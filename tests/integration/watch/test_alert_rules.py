"""The periodic alert rules against real orders, stock and platform pushes: order intake gone silent on a channel
that usually sells, low stock by days of cover (with its link to the reorder suggestion), and sync failing
because a listing keeps failing or changes wait too long. Each raises one alert, updates it on a repeat and
resolves it when its condition clears. The rules are evaluated with a clock passed in (time, not logic)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from conftest import Backend
from omnistock.channels.base import RateLimit
from omnistock.channels.simulator import Simulator
from omnistock.store.tables import Channel, Order
from omnistock.store.types import utcnow
from omnistock.sync import pusher
from omnistock.sync.limiter import TokenBucket
from omnistock.sync.tables import Listing
from omnistock.sync.worker import Worker
from omnistock.watch import rules, scheduler
from omnistock.watch.tables import WatchJob
from support.core_api import seed
from support.platforms import connect, list_item, wait_until
from support.watch_api import alerts_of


def order(api: httpx.Client, channel: str, ext: str, sku: str = "A", qty: int = 1) -> dict[str, Any]:
    r = api.post("/api/v1/orders", json={"channel": channel, "external_id": ext, "lines": [{"sku": sku, "qty": qty}]})
    assert r.status_code == 201, r.text
    return dict(r.json())


def backdate_orders(backend: Backend, channel: str, first: datetime, gap: timedelta) -> None:
    """Move a channel's orders into the past, one every `gap` from `first` (as if they had come in then)."""
    with backend.db.transaction() as session:
        cid = session.scalar(select(Channel.id).where(Channel.code == channel))
        for n, row in enumerate(session.scalars(select(Order).where(Order.channel_id == cid).order_by(Order.id))):
            row.created_at = row.updated_at = first + gap * n


def sync_alert(api: httpx.Client, what: str) -> list[dict[str, Any]]:
    return [a for a in alerts_of(api, "sync_failing") if what in a["detail"]]


def test_intake_silent_on_a_channel_that_usually_sells(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=100)
    assert api.post("/api/v1/channels", json={"code": "quiet", "kind": "manual"}).status_code == 201
    for n in range(20):
        order(api, "m", f"m-{n}")
    for n in range(5):
        order(api, "quiet", f"q-{n}")
    now = utcnow()
    # 20 orders two minutes apart, the last 2 h 22 min ago; the quiet channel took only 5 (under min_orders).
    backdate_orders(clean, "m", now - timedelta(hours=3), timedelta(minutes=2))
    backdate_orders(clean, "quiet", now - timedelta(hours=3), timedelta(minutes=2))

    rules.evaluate(clean.db, now)
    [alert] = alerts_of(api, "intake_silent")
    assert alert["channel"] == "m" and alert["severity"] == "warning"
    assert "m: no order for 142 min; it usually takes one every 2 min" in alert["message"], alert["message"]
    assert alert["detail"]["usual_gap_minutes"] == 2.0

    # The usual pace is judged up to the last order: a silence longer than the lookback keeps the alert open.
    r = api.put("/api/v1/alert-rules/intake_silent", json={"settings": {"lookback_days": 0.05}})
    assert r.status_code == 200, r.text
    rules.evaluate(clean.db, now + timedelta(minutes=1))
    [again] = alerts_of(api, "intake_silent")
    assert again["id"] == alert["id"] and again["occurrences"] == 2

    order(api, "m", "m-new")
    rules.evaluate(clean.db, utcnow())
    assert alerts_of(api, "intake_silent") == []
    assert [a["id"] for a in alerts_of(api, "intake_silent", status="resolved")] == [alert["id"]]


def test_intake_silent_waits_for_the_shortest_gap_and_a_switched_off_rule(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=100)
    for n in range(20):
        order(api, "m", f"m-{n}")
    now = utcnow()
    backdate_orders(clean, "m", now - timedelta(minutes=50), timedelta(seconds=30))
    rules.evaluate(clean.db, now)  # 40 min of silence: under min_minutes (60) whatever the usual gap
    assert alerts_of(api, "intake_silent") == []
    rules.evaluate(clean.db, now + timedelta(minutes=30))
    assert len(alerts_of(api, "intake_silent")) == 1
    assert api.put("/api/v1/alert-rules/intake_silent", json={"enabled": False}).status_code == 200
    rules.evaluate(clean.db, now + timedelta(minutes=31))
    assert alerts_of(api, "intake_silent") == []


def test_low_stock_by_days_of_cover_links_to_the_reorder_suggestion(api: httpx.Client, clean: Backend) -> None:
    seed(api, stock=10)
    r = api.post("/api/v1/skus", json={"code": "PAIR", "name": "Two Alphas", "components": [{"sku": "A", "qty": 2}]})
    assert r.status_code == 201, r.text
    r = api.put("/api/v1/alert-rules/low_stock", json={"settings": {"cover_days": 5, "sales_days": 7}})
    assert r.status_code == 200, r.text
    order(api, "m", "o1", qty=3)
    rules.evaluate(clean.db)
    assert alerts_of(api, "low_stock") == []  # 7 left at 3 a week: 16 days of cover

    # A sold only inside bundles runs out all the same: 2 pairs take 4 more, 7 a week in all, 3 left.
    order(api, "m", "o2", sku="PAIR", qty=2)
    rules.evaluate(clean.db)
    found = {a["sku"]: a for a in alerts_of(api, "low_stock")}
    assert set(found) == {"A", "PAIR"}
    alert = found["A"]
    assert "A is low: 3 available, 3.0 days of cover at 1.0/day" in alert["message"], alert["message"]
    assert (alert["detail"]["available"], alert["detail"]["cover_days"]) == (3, 3.0)
    link = alert["detail"]["reorder"]
    assert link == "/api/v1/reorder/suggestions?sku=A"
    suggestion = api.get(link)
    assert suggestion.status_code == 200, suggestion.text
    assert [s["sku"] for s in suggestion.json()["items"]] == ["A"]

    rules.evaluate(clean.db)
    assert {a["sku"]: a["occurrences"] for a in alerts_of(api, "low_stock")} == {"A": 2, "PAIR": 2}

    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 40})
    rules.evaluate(clean.db)
    assert alerts_of(api, "low_stock") == []
    assert alert["id"] in [a["id"] for a in alerts_of(api, "low_stock", status="resolved")]


def test_a_listing_failing_longer_than_the_setting_raises_sync_failing(api: httpx.Client, clean: Backend,
                                                                      sim: Simulator, worker: Worker) -> None:
    # The worker's own rule round runs on the real clock; these evaluations pass their own. Its scheduler may
    # have written the job's row already: claim it once, then push its next run a day away.
    scheduler.claim(clean.db, "rules", timedelta(0), utcnow())
    with clean.db.transaction() as session:
        session.execute(update(WatchJob).where(WatchJob.name == "rules")
                        .values(last_run_at=utcnow() + timedelta(days=1)))
    seed(api, stock=5)
    jd = connect(api, sim, "jd")
    jd.shop.faults.error_rate = 1.0  # the platform fails every call
    item = list_item(api, jd, "A", 1)

    def failing_since() -> datetime | None:
        with clean.db.reading() as session:
            return session.scalar(select(Listing.failing_since).where(Listing.external_id == item))
    wait_until(lambda: failing_since() is not None, what="the push failing")
    since = failing_since()
    assert since is not None
    rules.evaluate(clean.db, since + timedelta(minutes=14))
    assert sync_alert(api, "failing") == []  # not for long enough yet (failing_minutes 15)
    rules.evaluate(clean.db, since + timedelta(minutes=16))
    [alert] = sync_alert(api, "failing")
    assert alert["channel"] == jd.code and alert["severity"] == "critical" and alert["detail"]["failing"] == 1
    assert f"{jd.code}: 1 listing(s) failing to push since" in alert["message"]
    rules.evaluate(clean.db, since + timedelta(minutes=17))
    [again] = sync_alert(api, "failing")
    assert again["id"] == alert["id"] and again["occurrences"] == 2

    jd.shop.faults.error_rate = 0.0
    wait_until(lambda: jd.shows(item) == 5 and failing_since() is None, what="the push going through")
    rules.evaluate(clean.db, since + timedelta(minutes=18))
    assert alerts_of(api, "sync_failing") == []  # the failing and the backlog alert both resolved
    assert alert["id"] in [a["id"] for a in alerts_of(api, "sync_failing", status="resolved")]


def test_a_backlog_older_than_the_setting_raises_sync_failing(api: httpx.Client, clean: Backend,
                                                             sim: Simulator) -> None:
    seed(api, stock=5)
    jd = connect(api, sim, "jd")
    item = list_item(api, jd, "A", 1)  # waiting to be pushed: no worker runs in this test
    now = utcnow()
    rules.evaluate(clean.db, now + timedelta(seconds=200))
    assert alerts_of(api, "sync_failing") == []  # under backlog_seconds (300)
    rules.evaluate(clean.db, now + timedelta(seconds=400))
    [alert] = sync_alert(api, "backlog")
    assert alert["channel"] == jd.code and alert["detail"]["backlog"] == 1
    assert f"{jd.code}: 1 change(s) waiting, the oldest for" in alert["message"]
    rules.evaluate(clean.db, now + timedelta(seconds=410))
    [again] = sync_alert(api, "backlog")
    assert again["id"] == alert["id"] and again["occurrences"] == 2

    with clean.db.reading() as session:
        channel_id = session.scalar(select(Channel.id).where(Channel.code == jd.code))
    assert channel_id is not None
    pusher.push_once(clean.db, clean.settings, channel_id, TokenBucket(RateLimit(100, 100)))
    assert jd.shows(item) == 5
    rules.evaluate(clean.db, now + timedelta(seconds=420))
    assert alerts_of(api, "sync_failing") == []

    # A channel switched off is pushed nothing by design: its waiting changes are no sync failure.
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 1})
    rules.evaluate(clean.db, utcnow() + timedelta(seconds=400))
    assert len(sync_alert(api, "backlog")) == 1
    assert api.patch(f"/api/v1/channels/{jd.code}", json={"enabled": False}).status_code == 200
    rules.evaluate(clean.db, utcnow() + timedelta(seconds=400))
    assert alerts_of(api, "sync_failing") == []
