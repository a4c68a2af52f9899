"""Alert messages and hold reasons in the visitor's language: the services store English sentences; the console
says them again in Chinese (or English) from the alert's detail and the hold's cause, and shows the stored text
where there is nothing structured to go by."""

from __future__ import annotations

import httpx

from conftest import Backend
from omnistock.channels.base import OrderEvent, OrderEventKind, PlatformOrderLine
from omnistock.services.lookup import channel_by_code
from omnistock.store.types import utcnow
from omnistock.sync.intake import ingest
from omnistock.watch import alerts, rules
from support.core_api import seed
from support.server import LiveServer

from .conftest import make_user, signed_in


def _held_and_low(api: httpx.Client, clean: Backend) -> None:
    """An oversold order (an `oversell` alert), an order whose platform item maps to no SKU, and a low-stock
    alert from the watch's own rule."""
    seed(api, stock=1)
    assert api.post("/api/v1/orders", json={"channel": "m", "external_id": "H-1",
                                            "lines": [{"sku": "A", "qty": 3}]}).json()["status"] == "held"
    with clean.db.transaction() as session:
        ingest(session, channel_by_code(session, "m"), [OrderEvent(
            OrderEventKind.CREATED, "TB-7", [PlatformOrderLine("ZZ-9", 1, "ZZ-9")], event_id="evt-7")], "webhook")
    assert api.put("/api/v1/alert-rules/low_stock", json={"settings": {"threshold": 5}}).status_code == 200
    with clean.db.transaction() as session:
        rules.low_stock(session, utcnow())


def test_the_chinese_dashboard_and_held_list_say_why_in_chinese(api: httpx.Client, clean: Backend,
                                                                server: LiveServer) -> None:
    _held_and_low(api, clean)
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops") as client:
        dashboard = client.get("/").text
        held = client.get("/orders?status=held").text
        reports = client.get("/reports").text
    assert "库存不足：A：需要 3，可预占 1" in dashboard
    assert "m 订单 H-1 超卖：无法预占库存（库存不足：A：需要 3，可预占 1）" in dashboard
    assert "A 库存低：可售 1（阈值 5）" in dashboard and "A 库存低：可售 1（阈值 5）" in reports
    assert "库存不足：A：需要 3，可预占 1" in held and "未映射：平台商品 ZZ-9 没有对应的 SKU" in held
    for page in (dashboard, held, reports):
        # none of the services' English sentences is left on a Chinese page
        assert "insufficient_stock" not in page and "map to no SKU" not in page and "is low:" not in page


def test_the_english_pages_say_the_same_in_english(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    _held_and_low(api, clean)
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops", lang="en") as client:
        dashboard = client.get("/").text
        held = client.get("/orders?status=held").text
        order = client.get(f"/orders/{api.get('/api/v1/orders', params={'status': 'held'}).json()['items'][-1]['id']}")
    assert "Order H-1 on m oversold: it could not be reserved (Not enough stock: A: 3 wanted, 1 can be reserved)" \
        in dashboard
    assert "A is low: 1 available (threshold 5)" in dashboard
    assert "Not mapped: platform item(s) ZZ-9 map to no SKU" in held
    assert "Not enough stock: A: 3 wanted, 1 can be reserved" in order.text


def test_an_alert_without_a_known_detail_shows_its_own_text(api: httpx.Client, clean: Backend,
                                                            server: LiveServer) -> None:
    seed(api)
    with clean.db.transaction() as session:
        alerts.raise_alert(session, alerts.Condition(kind="drift", key="drift:old", severity="warning",
                                                     message="JD shows 40 of A, it should show 1"))
    make_user(clean, "ops", "viewer")
    with signed_in(server, "ops") as client:
        assert "JD shows 40 of A, it should show 1" in client.get("/").text
