"""Local far ends for notifier tests, on 127.0.0.1 only: an HTTP endpoint that records every POST and answers
like a chat robot would (JSON or plain text), and an SMTP server (aiosmtpd) that keeps every message."""

from __future__ import annotations

import email
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from support.server import free_port


@dataclass(frozen=True)
class Hit:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float


class RobotReceiver:
    """Records POSTs; answers `answer` (bytes) with `status`, or the next of `script` [(status, body), ...]."""

    def __init__(self, answer: bytes = b'{"errcode":0,"errmsg":"ok"}', status: int = 200) -> None:
        self.answer, self.status = answer, status
        self.script: deque[tuple[int, bytes]] = deque()
        self.hits: list[Hit] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                with receiver._changed:
                    status, answer = receiver.script.popleft() if receiver.script else (receiver.status,
                                                                                         receiver.answer)
                    receiver.hits.append(Hit(parts.path, query, {k.lower(): v for k, v in self.headers.items()},
                                             body, time.time()))
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Hit]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.hits) < count and deadline > time.monotonic():
                self._changed.wait(deadline - time.monotonic())
            return list(self.hits)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Keep:
    def __init__(self, box: list[Message], changed: threading.Condition) -> None:
        self.box, self.changed = box, changed

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            self.box.append(email.message_from_bytes(envelope.content))
            self.changed.notify_all()
        return "250 OK"


class SmtpReceiver:
    """An SMTP server on 127.0.0.1 that keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._changed = threading.Condition()
        self.port = free_port()
        self._controller = Controller(_Keep(self.messages, self._changed), hostname="127.0.0.1", port=self.port)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count and deadline > time.monotonic():
                self._changed.wait(deadline - time.monotonic())
            return list(self.messages)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._controller.stop()
