"""The HTTP edge shared by adapters: one client factory and one mapping of transport failures to typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

from omnistock.errors import PlatformAuthFailed, PlatformThrottled, PlatformTransient

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def make_client(client: httpx.Client | None = None) -> httpx.Client:
    return client if client is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)


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
