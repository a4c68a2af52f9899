"""WebhookChannelAdapter against a merchant's shop played by a small HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from omnistock.channels.base import OrderEventKind, StockUpdate
from omnistock.channels.webhook import WebhookChannelAdapter
from omnistock.errors import PlatformAuthFailed, PlatformInvalid, PlatformThrottled, PlatformTransient

SECRET = "shop-secret"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    raw_query: bytes  # the query string exactly as it came in the request line
    headers: dict[str, str]
    body: bytes


# An answer: (status, headers, JSON body or None)
Answer = tuple[int, dict[str, str], object]


@dataclass
class Shop:
    """The merchant's web shop: records requests and answers from a script, else with `default`."""

    requests: list[Request] = field(default_factory=list)
    script: deque[Answer | Callable[[Request], Answer]] = field(default_factory=deque)
    default: Answer = (200, {}, {"ok": True})
    url: str = ""


def _verify(secret: str, message: bytes, given: str) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, given)


@pytest.fixture
def shop() -> Iterator[Shop]:
    state = Shop()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Request(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                              parts.query.encode(), {k.lower(): v for k, v in self.headers.items()}, body)
            with lock:
                state.requests.append(request)
                answer = state.script.popleft() if state.script else state.default
            status, headers, payload = answer(request) if callable(answer) else answer
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def adapter_for(shop: Shop, **extra: str) -> WebhookChannelAdapter:
    return WebhookChannelAdapter({"url": f"{shop.url}/omnistock/stock", "secret": SECRET, **extra})


# --- pushing stock ---------------------------------------------------------------------------------------


def test_stock_changes_arrive_signed_in_batches_of_100(shop: Shop) -> None:
    updates = [StockUpdate(f"SKU-{n}", n, external_sku=f"S{n}") for n in range(150)]
    with closing(adapter_for(shop)) as adapter:
        results = adapter.set_stock(updates)
    assert [r.ok for r in results] == [True] * 150
    assert [len(json.loads(r.body)["items"]) for r in shop.requests] == [100, 50]
    for request in shop.requests:
        assert request.method == "POST" and request.path == "/omnistock/stock"
        assert _verify(SECRET, request.body, request.headers["x-omnistock-signature"])
        uuid.UUID(request.headers["x-omnistock-delivery"])
        payload = json.loads(request.body)
        assert payload["type"] == "stock.set"
        assert datetime.fromisoformat(payload["sent_at"]).tzinfo is not None
    assert json.loads(shop.requests[0].body)["items"][7] == {"external_id": "SKU-7", "external_sku": "S7",
                                                             "quantity": 7}
    first, second = (r.headers["x-omnistock-delivery"] for r in shop.requests)
    assert first != second


def test_per_item_errors_reported_by_the_shop_fail_only_those_items(shop: Shop) -> None:
    shop.script.append((200, {}, {"results": [{"external_id": "B", "ok": False, "error": "unknown sku"},
                                              {"external_id": "A", "ok": True}]}))
    with closing(adapter_for(shop)) as adapter:
        results = adapter.set_stock([StockUpdate("A", 1), StockUpdate("B", 2), StockUpdate("C", 3)])
    assert [(r.external_id, r.ok) for r in results] == [("A", True), ("B", False), ("C", True)]
    assert isinstance(results[1].error, PlatformInvalid) and "unknown sku" in str(results[1].error)


def test_a_throttled_shop_surfaces_as_platform_throttled_with_retry_after(shop: Shop) -> None:
    shop.script.append((429, {"Retry-After": "7"}, {"error": "slow down"}))
    with closing(adapter_for(shop)) as adapter, pytest.raises(PlatformThrottled) as caught:
        adapter.set_stock([StockUpdate("A", 1)])
    assert caught.value.retry_after == 7


@pytest.mark.parametrize(("status", "error"), [(401, PlatformAuthFailed), (403, PlatformAuthFailed),
                                               (500, PlatformTransient), (422, PlatformInvalid)])
def test_shop_errors_become_typed_errors(shop: Shop, status: int, error: type[Exception]) -> None:
    shop.script.append((status, {}, {"error": "no"}))
    with closing(adapter_for(shop)) as adapter, pytest.raises(error) as caught:
        adapter.set_stock([StockUpdate("A", 1)])
    assert caught.type is error


def test_an_unreachable_shop_is_transient() -> None:
    adapter = WebhookChannelAdapter({"url": "http://127.0.0.1:9/closed", "secret": SECRET})
    with closing(adapter), pytest.raises(PlatformTransient):
        adapter.set_stock([StockUpdate("A", 1)])


def test_test_connection_sends_a_signed_ping(shop: Shop) -> None:
    with closing(adapter_for(shop)) as adapter:
        adapter.test_connection()
    [ping] = shop.requests
    assert json.loads(ping.body)["type"] == "ping"
    assert _verify(SECRET, ping.body, ping.headers["x-omnistock-signature"])


# --- reading stock and orders ----------------------------------------------------------------------------


def test_fetch_stock_follows_the_cursor_through_all_pages(shop: Shop) -> None:
    pages = {"": {"items": [{"external_id": "A", "quantity": 3, "title": "Mug"}], "next_cursor": "p2"},
             "p2": {"items": [{"external_id": "B", "quantity": 0, "external_sku": "B-1"}],
                    "next_cursor": None}}
    shop.default = (200, {}, None)
    for _ in pages:
        shop.script.append(lambda r: (200, {}, pages[r.query["cursor"][0]]))
    with closing(adapter_for(shop, stock_url=f"{shop.url}/stock")) as adapter:
        first = adapter.fetch_stock()
        second = adapter.fetch_stock(first.next_cursor)
    assert [(i.external_id, i.quantity, i.title) for i in first.items] == [("A", 3, "Mug")]
    assert [(i.external_id, i.external_sku) for i in second.items] == [("B", "B-1")]
    assert second.next_cursor is None
    assert [r.raw_query for r in shop.requests] == [b"cursor=", b"cursor=p2"]
    for request in shop.requests:  # a GET has no body: its signature covers the raw query string
        assert request.method == "GET"
        assert _verify(SECRET, request.raw_query, request.headers["x-omnistock-signature"])


def test_without_a_stock_url_the_stock_read_is_empty_and_silent(shop: Shop) -> None:
    with closing(adapter_for(shop)) as adapter:
        page = adapter.fetch_stock()
    assert (list(page.items), page.next_cursor, shop.requests) == ([], None, [])


def test_fetch_orders_reads_the_orders_url_in_the_webhook_format(shop: Shop) -> None:
    order = {"id": "W-7", "currency": "EUR", "lines": [{"external_id": "A", "qty": 2, "unit_price": "3.00"}]}
    shop.script.append((200, {}, {"events": [{"event": "order.created", "id": "e1", "order": order},
                                             {"event": "order.cancelled", "id": "e2", "order": order}]}))
    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    with closing(adapter_for(shop, orders_url=f"{shop.url}/orders")) as adapter:
        events = adapter.fetch_orders(since, until)
    assert [(e.kind, e.event_id, e.external_order_id) for e in events] == [
        (OrderEventKind.CREATED, "e1", "W-7"), (OrderEventKind.CANCELLED, "e2", "W-7")]
    [request] = shop.requests
    assert datetime.fromisoformat(request.query["since"][0]) == since
    assert datetime.fromisoformat(request.query["until"][0]) == until
    assert _verify(SECRET, request.raw_query, request.headers["x-omnistock-signature"])


def test_a_malformed_orders_answer_is_a_platform_error(shop: Shop) -> None:
    shop.script.append((200, {}, {"events": [{"event": "order.created", "id": "e1"}]}))
    adapter = adapter_for(shop, orders_url=f"{shop.url}/orders")
    with closing(adapter), pytest.raises(PlatformInvalid):
        adapter.fetch_orders(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


def test_without_an_orders_url_there_is_nothing_to_poll(shop: Shop) -> None:
    with closing(adapter_for(shop)) as adapter:
        assert adapter.fetch_orders(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)) == []
    assert shop.requests == []
