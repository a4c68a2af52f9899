"""ORM objects for rows written or read with Core statements, made without another query.

The order intake writes its rows with Core (a few statements instead of the unit of work's flushes), yet its
callers and hooks work with ORM objects. `attached` puts an object for a row in the session as if a query had
loaded it: its attributes are the row's, nothing is pending, and relationships given with `committed` read
without loading."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

T = TypeVar("T")


def attached(session: Session, cls: type[T], values: Mapping[str, Any], *,
             committed: Mapping[str, Any] | None = None) -> T:
    """The session's object for this row: the one it already holds (left as it is), or a new one built from
    `values` (every column of the row) with the `committed` relationship values."""
    mapper = cls.__mapper__  # type: ignore[attr-defined]
    key = identity_key(cls, tuple(values[col.key] for col in mapper.primary_key))
    held = session.identity_map.get(key)
    if held is not None:
        return held
    obj = cls(**values)
    make_transient_to_detached(obj)  # as if loaded: no history, nothing to insert
    session.add(obj)
    for name, value in (committed or {}).items():
        set_committed_value(obj, name, value)
    return obj


def forget_columns(session: Session, cls: type[Any], keys: Mapping[tuple[Any, ...], Any], *names: str) -> None:
    """Expire these columns of objects the session holds for the given primary keys, after a Core UPDATE
    changed their rows (the next read loads the new values)."""
    for pk in keys:
        held = session.identity_map.get(identity_key(cls, pk))
        if held is not None:
            session.expire(held, list(names))
