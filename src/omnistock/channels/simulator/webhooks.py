"""Webhook delivery as platforms really do it: late, sometimes twice, sometimes never, sometimes out of order,
retried only as often as the platform retries. Every attempt is recorded so tests can read what happened.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from omnistock.channels.simulator.state import WebhookConfig

# Platforms wait about 5 s for an answer (Shopify documents 5 s) before they count a delivery as failed.
DELIVERY_TIMEOUT_S = 5.0
# Spread of arrival times when deliveries may be reordered but no delay was configured.
REORDER_JITTER_S = 0.2
SENDER_LIMITS = httpx.Limits(max_connections=2000, max_keepalive_connections=200)


@dataclass(frozen=True)
class Delivery:
    """One push the platform decided to send (a duplicate is a second Delivery of the same bytes)."""

    id: int
    shop: str
    order_id: str
    event: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    retries: int
    duplicate: bool = False
    lost: bool = False  # the platform never sends it


@dataclass(frozen=True)
class WebhookAttempt:
    delivery_id: int
    shop: str
    order_id: str
    event: str
    attempt: int  # 1 for the first try, 2.. for the platform's retries
    duplicate: bool
    at: float  # unix time the answer (or failure) came
    status: int | None  # HTTP status, None when no answer
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookDispatcher:
    """Sends deliveries from a background asyncio loop (started on first use).

    With `reorder` off, deliveries of one shop reach the receiver in the order the events happened
    (first attempts only: a retry arrives whenever it arrives, as on the real platforms).
    """

    def __init__(self, seed: int | None = None, timeout_s: float = DELIVERY_TIMEOUT_S,
                 retry_backoff_s: float = 0.2, max_backoff_s: float = 5.0) -> None:
        # Real platforms space retries over hours; the simulator compresses that schedule.
        self.timeout_s = timeout_s
        self.retry_backoff_s = retry_backoff_s
        self.max_backoff_s = max_backoff_s
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)
        self._deliveries: list[Delivery] = []
        self._attempts: list[WebhookAttempt] = []
        self._pending = 0
        self._idle = threading.Condition()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        self._lanes: dict[str, asyncio.Future[None]] = {}

    # --- what the shops call -----------------------------------------------------------------------

    def submit(self, shop: str, config: WebhookConfig, order_id: str, event: str,
               headers: Mapping[str, str], body: bytes, retries: int = 0) -> list[Delivery]:
        """Plan the delivery of one event (plus a duplicate by chance); returns what was planned."""
        if config.url is None:
            return []
        loop = self._ensure_loop()
        with self._lock:
            copies = 2 if self._rng.random() < config.duplicate_rate else 1
            planned = []
            for n in range(copies):
                lost = self._rng.random() < config.loss_rate
                delivery = Delivery(next(self._ids), shop, order_id, event, config.url, dict(headers), body,
                                    retries, duplicate=n > 0, lost=lost)
                self._deliveries.append(delivery)
                planned.append(delivery)
                if lost:
                    continue
                low, high = config.delay_s
                delay = self._rng.uniform(low, high)
                if config.reorder and high <= low:
                    delay += self._rng.uniform(0, REORDER_JITTER_S)
                with self._idle:
                    self._pending += 1
                # Scheduled under the lock so that the loop sees deliveries in submission order.
                loop.call_soon_threadsafe(self._launch, delivery, delay, not config.reorder)
        return planned

    # --- what tests read ---------------------------------------------------------------------------

    def deliveries(self, shop: str | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in self._deliveries if shop is None or d.shop == shop]

    def attempts(self, shop: str | None = None) -> list[WebhookAttempt]:
        with self._lock:
            return [a for a in self._attempts if shop is None or a.shop == shop]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every planned delivery is done (delivered or out of retries); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
        except TimeoutError:
            pass  # deliveries still in flight after 5 s are dropped with the loop: a stopped platform sends nothing
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
        self._loop = self._thread = self._client = None

    # --- the loop ----------------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        """Drop deliveries still waiting (a stopped platform sends nothing more) and close the client."""
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    # A platform sends from many machines at once: no small connection pool of our own may
                    # hold deliveries back (a wait for a free connection would count against the receiver).
                    self._client = httpx.AsyncClient(timeout=self.timeout_s, limits=SENDER_LIMITS)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="sim-webhooks", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def _launch(self, delivery: Delivery, delay: float, in_order: bool) -> None:
        loop = asyncio.get_running_loop()
        previous = self._lanes.get(delivery.shop) if in_order else None
        first_done: asyncio.Future[None] = loop.create_future()
        if in_order:
            self._lanes[delivery.shop] = first_done
        loop.create_task(self._deliver(delivery, delay, previous, first_done))

    async def _deliver(self, delivery: Delivery, delay: float, previous: asyncio.Future[None] | None,
                       first_done: asyncio.Future[None]) -> None:
        try:
            await asyncio.sleep(delay)
            if previous is not None:
                await previous
            attempt = 1
            ok = await self._attempt(delivery, attempt)
            first_done.set_result(None)
            while not ok and attempt <= delivery.retries:
                await asyncio.sleep(min(self.retry_backoff_s * 2 ** (attempt - 1), self.max_backoff_s))
                attempt += 1
                ok = await self._attempt(delivery, attempt)
        finally:
            if not first_done.done():
                first_done.set_result(None)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    async def _attempt(self, delivery: Delivery, attempt: int) -> bool:
        assert self._client is not None
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(delivery.url, content=delivery.body,
                                               headers=dict(delivery.headers))
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{exc.__class__.__name__}: {exc}"
        record = WebhookAttempt(delivery.id, delivery.shop, delivery.order_id, delivery.event, attempt,
                                delivery.duplicate, time.time(), status, error)
        with self._lock:
            self._attempts.append(record)
        return record.ok
