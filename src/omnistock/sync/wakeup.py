"""Waking workers when listings become dirty: in-process by a condition variable, across processes by
PostgreSQL LISTEN/NOTIFY (see `sync.dirty`), so that idle workers do not poll the database in a tight loop."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("omnistock.sync")


class Wakeup:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def generation(self) -> int:
        with self._cond:
            return self._generation

    def wait(self, seen: int, timeout: float) -> int:
        """Wait until something happened after generation `seen` (or timeout); returns the generation."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout=timeout)
            return self._generation


WAKEUP = Wakeup()


def listen_postgres(dsn: str, channel: str, stop: threading.Event, wakeup: Wakeup = WAKEUP) -> None:
    """Forward NOTIFYs on `channel` to `wakeup` until `stop` is set (runs in its own thread)."""
    import psycopg

    while not stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"LISTEN {channel}")
                while not stop.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        wakeup.notify()
        except psycopg.Error as exc:
            log.warning("LISTEN connection lost (%s); reconnecting", exc)
            stop.wait(1.0)
