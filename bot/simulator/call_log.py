"""Record the requests a bot makes to a fake platform and let tests wait on what it does.

Both fakes (``FakeTelegram``, ``FakeZaloBot``) keep one ``CallLog``: every answered request is
recorded, and every change of a fake's state wakes the waiters, which re-check their condition
instead of sleeping for a fixed time. Timeouts name the last calls, so a failing test says what
the bot did instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass


@dataclass
class Call:
    """One request the bot made: decoded parameters, when, and the HTTP status answered."""

    method: str
    params: dict
    at: float
    status: int


class CallLog:
    """The calls a bot made, the 429s among them, and the waiters on a fake's state."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.closed = False  # set while the server stops: waiters give up at once
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self.clear()

    def clear(self) -> None:
        """Forget the calls, the 429 count and the next_sent cursors."""
        self.calls: list[Call] = []
        self.http_429 = 0
        self._cursors: dict[Hashable, int] = {}

    def record(self, method: str, params: dict, status: int, at: float | None = None) -> Call:
        """Keep one answered request (`at`: when it came, default now) and wake the waiters."""
        call = Call(method, params, self.clock() if at is None else at, status)
        self.calls.append(call)
        if status == 429:
            self.http_429 += 1
        self.notify()
        return call

    def notify(self) -> None:
        """Wake every waiter so it re-checks its condition; safe to call from other threads."""
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self.notify)
            return
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def bind_loop(self) -> None:
        """Take the running loop as the one notify() hands wake-ups from other threads to."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    async def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until condition() holds, re-checking after every change; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closed:
                return condition()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return condition()
        return True

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until predicate() is true, re-checked after every recorded call."""
        if not await self.wait_until(predicate, timeout):
            raise TimeoutError(f"condition still false after {timeout} s; {self.describe_calls()}")

    async def wait_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``count`` successful calls of ``method`` were recorded; return them all."""

        def done() -> list[Call]:
            return [c for c in self.calls if c.method == method and c.status == 200]

        if not await self.wait_until(lambda: len(done()) >= count, timeout):
            raise TimeoutError(
                f"{len(done())} of {count} successful {method} calls after "
                f"{timeout} s; {self.describe_calls()}"
            )
        return done()

    async def next_sent[K: Hashable, T](
        self, sent: Mapping[K, Sequence[T]], key: K, timeout: float, to: str
    ) -> T:
        """Return the next item of sent[key] not yet returned here; wait for it.

        ``to`` names the recipient in the timeout message, e.g. "chat 42".
        """

        def arrived() -> bool:
            return len(sent.get(key, ())) > self._cursors.get(key, 0)

        if not await self.wait_until(arrived, timeout):
            raise TimeoutError(
                f"no new message to {to} within {timeout} s; {self.describe_calls()}"
            )
        index = self._cursors.get(key, 0)
        self._cursors[key] = index + 1
        return sent[key][index]

    def describe_calls(self, last: int = 10) -> str:
        """Describe the last calls, for a timeout's message."""
        if not self.calls:
            return "the bot made no calls at all"
        lines = [f"  {c.method} {_brief(c.params)} -> {c.status}" for c in self.calls[-last:]]
        return f"last {len(lines)} of {len(self.calls)} calls:\n" + "\n".join(lines)


class LoggedCalls:
    """What a fake shows of its ``call_log``: the calls, the 429 count and wait_for."""

    call_log: CallLog

    @property
    def calls(self) -> list[Call]:
        """Return every request the bot made, in order, with the status it got."""
        return self.call_log.calls

    @property
    def http_429(self) -> int:
        """Count the 429 answers, from the rate limits and from fail_chat alike."""
        return self.call_log.http_429

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until predicate() is true, re-checked after every change and recorded call."""
        await self.call_log.wait_for(predicate, timeout)


def _brief(params: dict, width: int = 90) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return text if len(text) <= width else text[: width - 3] + "..."
