"""Orders in the console: held orders with their reason, release and cancel (confirmed), the order page
with its events and the raw platform delivery."""

from __future__ import annotations

import re

import httpx

from conftest import Backend
from omnistock.channels.base import OrderEvent, OrderEventKind, PlatformOrderLine
from omnistock.services.lookup import channel_by_code
from omnistock.sync.intake import ingest
from support.core_api import seed
from support.server import LiveServer

from .conftest import csrf_of, make_user, signed_in


def _held_order(api: httpx.Client) -> int:
    seed(api, stock=1)
    order = api.post("/api/v1/orders", json={"channel": "m", "external_id": "H-1", "lines": [{"sku": "A", "qty": 3}]})
    assert order.json()["status"] == "held"
    return int(order.json()["id"])


def test_a_held_order_shows_why_and_is_released_from_the_console(api: httpx.Client, clean: Backend,
                                                                 server: LiveServer) -> None:
    order_id = _held_order(api)
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops", lang="en") as client:
        held = client.get("/orders?status=held").text
        assert "H-1" in held and "Not enough stock: A: 3 wanted, 1 can be reserved" in held
        token = csrf_of(client, "/orders?status=held")
        too_early = client.post(f"/orders/{order_id}/release", data={"csrf": token})
        assert too_early.status_code == 409 and "still cannot be reserved" in too_early.text
        api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 5})
        done = client.post(f"/orders/{order_id}/release", data={"csrf": token, "back": "/orders?status=held"})
        assert done.status_code == 303 and done.headers["location"] == "/orders?status=held&done=release"
        page = client.get(f"/orders/{order_id}").text
        assert "Released" in page and "Stock reserved" in page and "user:ops" in page
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "reserved"


def test_cancelling_asks_for_confirmation_first(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    order_id = _held_order(api)
    make_user(clean, "ops", "operator")
    with signed_in(server, "ops", lang="en") as client:
        token = csrf_of(client, f"/orders/{order_id}")
        ask = client.post(f"/orders/{order_id}/cancel", data={"csrf": token})
        assert ask.status_code == 200 and "Yes, cancel the order" in ask.text
        assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "held"
        done = client.post(f"/orders/{order_id}/cancel", data={"csrf": token, "confirmed": "1",
                                                               "reason": "customer asked"})
        assert done.status_code == 303
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "cancelled"


def test_an_agent_sees_orders_but_no_order_actions(api: httpx.Client, clean: Backend, server: LiveServer) -> None:
    order_id = _held_order(api)
    make_user(clean, "cs", "agent")
    with signed_in(server, "cs") as client:
        page = client.get(f"/orders/{order_id}").text
        assert f'action="/orders/{order_id}/release"' not in page
        refused = client.post(f"/orders/{order_id}/release", data={"csrf": csrf_of(client)})
        assert refused.status_code == 403
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "held"


def test_the_order_page_shows_the_raw_platform_delivery(api: httpx.Client, clean: Backend,
                                                        server: LiveServer) -> None:
    seed(api, stock=5)
    raw = {"tid": "TB-9", "buyer_nick": "小王", "orders": [{"num_iid": "A", "num": 2}]}
    with clean.db.transaction() as session:
        channel = channel_by_code(session, "m")
        ingest(session, channel, [OrderEvent(OrderEventKind.CREATED, "TB-9", [PlatformOrderLine("A", 2, "A")],
                                             event_id="evt-1", raw=raw)], "webhook")
    make_user(clean, "ops", "viewer")
    with signed_in(server, "ops", lang="en") as client:
        listed = client.get("/orders").text
        order_id = re.search(r'href="/orders/(\d+)">TB-9<', listed).group(1)  # type: ignore[union-attr]
        page = client.get(f"/orders/{order_id}").text
    assert "Platform deliveries" in page and "webhook" in page
    assert "&#34;buyer_nick&#34;: &#34;小王&#34;" in page or '"buyer_nick": "小王"' in page


def test_an_unknown_order_is_a_page_not_a_json_problem(api: httpx.Client, clean: Backend,
                                                       server: LiveServer) -> None:
    make_user(clean, "ops")
    with signed_in(server, "ops", lang="en") as client:
        missing = client.get("/orders/999999")
        bad = client.get("/orders/not-a-number")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Not found." in missing.text
    assert bad.status_code == 404 and "Not found." in bad.text
