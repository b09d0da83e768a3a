"""Run a fake platform's Starlette app under uvicorn inside the caller's event loop.

``ServedFake`` gives both fakes (``FakeTelegram``, ``FakeZaloBot``) their start, stop,
``base_url`` and ``async with``; ``EmbeddedServer`` is uvicorn without its signal handling
and its shutdown polling, so a test starts and stops one server per test quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Self

import uvicorn
from starlette.applications import Starlette

from bot.simulator.call_log import CallLog


class ServedFake(ABC):
    """Serve ``self.app`` on a local port: start(), stop(), base_url and ``async with``."""

    app: Starlette
    call_log: CallLog
    _server: EmbeddedServer | None = None
    _address: tuple[str, int] = ("127.0.0.1", 0)

    @property
    def base_url(self) -> str:
        """Return the URL prefix a client (PTB's base_url) appends "<token>/<method>" to."""
        host, port = self._address
        return f"http://{host}:{port}/bot"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on host:port (0: any free port) inside the running event loop."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        self.call_log.bind_loop()
        self._set_stopping(False)
        self._server = await start_server(self.app, host, port)
        self._address = self._server.address

    async def stop(self) -> None:
        """Answer pending long polls and hung sends now, then close the server."""
        if self._server is None:
            return
        self._set_stopping(True)
        await self._server.stop()
        self._server = None

    @abstractmethod
    def _set_stopping(self, stopping: bool) -> None:
        """Tell the fake's waiters whether the server stops, and wake them."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def start_server(app: Starlette, host: str, port: int) -> EmbeddedServer:
    """Serve app on host:port (0: any free port) in the running loop; return once it listens."""
    # Binding here makes a busy port raise OSError; uvicorn would call sys.exit instead.
    # IPPROTO_TCP must be explicit: asyncio sets TCP_NODELAY only on such sockets, and
    # without it every answer waits ~40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = EmbeddedServer(config)
    server.task = task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("the fake server stopped while starting")
        await asyncio.sleep(0.001)
    return server


class EmbeddedServer(uvicorn.Server):
    """Run uvicorn in the caller's loop: leave signals to the host, stop without polling."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task[None] | None = None  # serve(), as start_server runs it

    @property
    def address(self) -> tuple[str, int]:
        """Return the host and port the server listens on."""
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        return host, port

    async def stop(self) -> None:
        """Close the server and wait until serve() has returned."""
        self.stop_event.set()
        if self.task is not None:
            await self.task

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the host program (pytest, the demo, main()) owns SIGINT and SIGTERM

    async def main_loop(self) -> None:
        # uvicorn would poll should_exit every 0.1 s; once a second is enough to keep the
        # Date header true (`outreach doctor` compares the clock with it).
        while True:
            await self.on_tick(0)  # counter 0: refreshes the default headers, Date among them
            try:
                await asyncio.wait_for(self.stop_event.wait(), 1.0)
                return
            except TimeoutError:
                continue

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's own shutdown sleeps 0.1 s at least; tests stop one server per test.
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # closes idle keep-alive connections, ends busy ones after
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 2)
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.002)
        for task in state.tasks:
            task.cancel()
        for server in self.servers:
            await server.wait_closed()
