"""Turning a value read from a backup (JSON text, or another engine's type) into what a column takes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Column
from sqlalchemy.types import TypeDecorator

from omnistock.store.types import UTCDateTime


def _python_type(column: Column[Any]) -> type | None:
    """The Python type of a column's values; a TypeDecorator answers for the type it decorates."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    try:
        found = kind.python_type
    except NotImplementedError:
        return None
    return found if found is not object else None


def decoder(column: Column[Any]) -> Callable[[Any], Any]:
    kind = _python_type(column)
    aware = isinstance(column.type, UTCDateTime)

    def decode(value: Any) -> Any:
        if value is None:
            return None
        if kind is datetime:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else value
            if aware and moment.tzinfo is None:
                return moment.replace(tzinfo=timezone.utc)
            if not aware and moment.tzinfo is not None:
                return moment.astimezone(timezone.utc).replace(tzinfo=None)
            return moment
        if kind is date and isinstance(value, str):
            return date.fromisoformat(value[:10])
        if kind is Decimal and not isinstance(value, Decimal):
            return Decimal(str(value))
        if kind is bytes and isinstance(value, str):
            return base64.b64decode(value)
        if kind is bool and not isinstance(value, bool):
            return bool(value)
        if kind is str and not isinstance(value, str):
            return str(value)
        return value
    return decode
