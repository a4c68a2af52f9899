"""The HTTP edge shared by adapters: one client factory and one mapping of transport failures to typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

from omnistock.errors import PlatformAuthFailed, PlatformThrottled, PlatformTransient

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ANSWER_CHARS = 500  # of each response body kept as evidence
_heard: ContextVar[list[str] | None] = ContextVar("omnistock_platform_answers", default=None)


def _keep_answer(response: httpx.Response) -> None:
    heard = _heard.get()
    if heard is not None:
        response.read()
        heard.append(f"HTTP {response.status_code} {response.text[:ANSWER_CHARS]}")


@contextmanager
def answers() -> Iterator[list[str]]:
    """What the platform answered to the requests made inside (status and the start of each body, in order), so
    that the sync engine can keep the answer beside each call it records."""
    heard: list[str] = []
    token = _heard.set(heard)
    try:
        yield heard
    finally:
        _heard.reset(token)


def make_client(client: httpx.Client | None = None) -> httpx.Client:
    if client is not None:
        return client
    return httpx.Client(timeout=DEFAULT_TIMEOUT, event_hooks={"response": [_keep_answer]})


def retry_after_seconds(value: str | None, default: float = 1.0) -> float:
    """Parse a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


@contextmanager
def transport_errors(platform: str) -> Iterator[None]:
    """Turn httpx's transport failures into PlatformTransient so the sync engine can retry them."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise PlatformTransient(f"{platform}: timed out ({exc.__class__.__name__})") from exc
    except httpx.TransportError as exc:
        raise PlatformTransient(f"{platform}: connection failed ({exc})") from exc


def raise_for_http_status(platform: str, response: httpx.Response) -> None:
    """Map the HTTP status codes every platform shares: 429/503 throttle, 401/403 auth, 5xx transient."""
    status = response.status_code
    if status == 429 or (status == 503 and "retry-after" in response.headers):
        raise PlatformThrottled(f"{platform}: throttled (HTTP {status})",
                                retry_after=retry_after_seconds(response.headers.get("retry-after")),
                                http_status=status)
    if status in (401, 403):
        raise PlatformAuthFailed(f"{platform}: authentication failed (HTTP {status}): {response.text[:200]}",
                                 http_status=status)
    if status >= 500:
        raise PlatformTransient(f"{platform}: server error (HTTP {status})", http_status=status)
