"""Share a channel's send rate between instances: one token bucket row in PostgreSQL.

Several `outreach run` processes send for one bot token, and Telegram counts their messages
together. Each instance reserves tokens in one atomic statement (the row's lock orders them);
the bucket may go below zero, and whoever took a reservation ahead waits until its tokens would
have been there. Time is the database server's, so the instances' clocks do not matter.

PostgreSQL rather than Redis: the instances need PostgreSQL anyway (outbox claims, the
scheduler lease), so this adds no service to run, secure and back up. The load is small:
tokens are taken a quarter second's worth at a time, about four statements a second per
sending instance at Telegram's 30/s.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, text

_RESERVE = text(
    """
    INSERT INTO rate_bucket AS b (key, tokens, updated_at)
    VALUES (:key, :burst - :n, statement_timestamp())
    ON CONFLICT (key) DO UPDATE SET
        tokens = LEAST(:burst, b.tokens + :rate * GREATEST(0,
                 EXTRACT(EPOCH FROM statement_timestamp() - b.updated_at))) - :n,
        updated_at = GREATEST(b.updated_at, statement_timestamp())
    RETURNING tokens, EXTRACT(EPOCH FROM statement_timestamp()) AS at
    """
)
# After a 429, nobody sends until `seconds` have passed: the bucket owes that many seconds.
_PAUSE = text(
    """
    UPDATE rate_bucket AS b SET
        tokens = LEAST(-:rate * :seconds, LEAST(:burst, b.tokens + :rate * GREATEST(0,
                 EXTRACT(EPOCH FROM statement_timestamp() - b.updated_at)))),
        updated_at = GREATEST(b.updated_at, statement_timestamp())
    WHERE key = :key
    """
)


class SharedRate:
    """One channel's rate, shared through the `rate_bucket` row `key`."""

    def __init__(self, engine: Engine, key: str, rate: float, burst: float) -> None:
        self.engine, self.key, self.rate, self.burst = engine, key, rate, burst
        self._lock = threading.Lock()  # debts are noted on the event loop, paid from a thread
        self._debt = 0.0
        self._pause = 0.0
        self.monotonic = time.monotonic
        self._best: tuple[float, float] | None = None  # (round trip, clock offset)
        self._trips = 0  # since the best was measured: it is measured again now and then

    def owe(self, tokens: float) -> None:
        """Note tokens used without asking (a reply to a member); the next reservation pays."""
        with self._lock:
            self._debt += tokens

    def pause(self, seconds: float) -> None:
        """Note that the platform asked every sender to wait; written with the next call."""
        with self._lock:
            self._pause = max(self._pause, seconds)

    @property
    def pending(self) -> bool:
        """Tell whether debts or a pause wait to be written."""
        return bool(self._debt or self._pause)

    def reserve(self, tokens: int) -> float:
        """Take `tokens` (and what is owed); return the seconds to wait before using them.

        Blocking (a database round trip): call it from a worker thread.
        """
        return max(0.0, self.reserve_at(tokens) - self.monotonic())

    def reserve_at(self, tokens: int) -> float:
        """Take `tokens` (and what is owed); return when the last is due, on `time.monotonic`.

        The time comes from the database server's clock, turned into this machine's by the
        offset measured over the quickest round trip seen: the instances' slots then follow
        each other to about a millisecond, where the round trip's own length (a few
        milliseconds, more when threads are busy) would bunch them at each change of hands.
        """
        with self._lock:
            owed, pause = self._debt, self._pause
            self._debt = self._pause = 0.0
        params = {"key": self.key, "rate": self.rate, "burst": self.burst}
        with self.engine.begin() as connection:
            if pause:
                connection.execute(_PAUSE, {**params, "seconds": pause})
            before = self.monotonic()
            left, at = connection.execute(_RESERVE, {**params, "n": tokens + owed}).one()
            after = self.monotonic()
        offset = self._offset(float(at), before, after)
        return float(at) - offset + max(0.0, -float(left) / self.rate)

    def _offset(self, server: float, before: float, after: float) -> float:
        """Keep the server-minus-local clock offset from the quickest of recent round trips."""
        trip = after - before
        with self._lock:
            self._trips += 1
            if self._best is None or trip <= self._best[0] or self._trips >= 256:
                self._best, self._trips = (trip, server - (before + after) / 2), 0
            return self._best[1]
