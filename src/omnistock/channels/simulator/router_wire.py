"""What the simulated router platforms (Taobao, JD) share: reading the form parameters and Beijing time.

Kept apart from omnistock's adapter helpers on purpose: the simulator must not reuse the code it checks.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl

from fastapi import Request

BEIJING = timezone(timedelta(hours=8))
WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"


async def read_params(request: Request) -> dict[str, str]:
    """Query string and url-encoded body together, as the gateways accept both (the body wins)."""
    params = dict(request.query_params)
    body = await request.body()
    if body and "multipart/" not in request.headers.get("content-type", ""):
        params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


def beijing_text(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime(WIRE_FORMAT)


def parse_beijing(text: str) -> datetime:
    """A gateway time string as aware UTC; ValueError when it is not `yyyy-MM-dd HH:mm:ss`."""
    return datetime.strptime(text, WIRE_FORMAT).replace(tzinfo=BEIJING).astimezone(UTC)


def to_the_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def request_id() -> str:
    return format(time.time_ns(), "x")
