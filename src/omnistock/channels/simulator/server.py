"""Run the simulator over real HTTP: in a background thread for tests, or in the foreground for demos."""

from __future__ import annotations

import argparse
import socket
import threading
import time
from types import TracebackType
from typing import Self

import httpx
import uvicorn

from omnistock.channels.simulator.app import build_app
from omnistock.channels.simulator.state import SimRegistry


class Simulator:
    """The simulator app served by uvicorn on `host:port` (port 0 picks a free one)."""

    def __init__(self, registry: SimRegistry | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.registry = registry if registry is not None else SimRegistry()
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        """Serve in a daemon thread and return the base URL once the control API answers."""
        if self._server is not None:
            return self.url
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP, and without it
        # every small response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(build_app(self.registry), log_level="warning", access_log=False,
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="sim-server", daemon=True)
        self._thread.start()
        self._wait_ready(timeout)
        return self.url

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._server is not None and self._server.started:
                try:
                    httpx.get(f"{self.url}/_sim/health", timeout=1.0).raise_for_status()
                    return
                except httpx.HTTPError:
                    pass
            if self._thread is not None and not self._thread.is_alive():
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("simulator did not start")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None
        self.registry.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """`python -m omnistock.channels.simulator.server --port 8900`: a simulator for demos and benchmarks."""
    parser = argparse.ArgumentParser(description="omnistock platform simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    uvicorn.run(build_app(SimRegistry(seed=args.seed)), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
