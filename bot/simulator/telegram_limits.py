"""Enforce Telegram's flood limits and inject the faults a test asks for, per chat.

Both only decide; ``TelegramState`` owns them and the HTTP layer turns their answers into
429s, injected errors and late answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.simulator.telegram_errors import ApiError


class TokenBucket:
    """Refill ``rate`` tokens a second up to ``capacity``; a send needs one whole token."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.stamp = capacity, now

    def wait(self, now: float) -> float:
        """Return 0 if a token is there now, else the seconds until one will be."""
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        # The epsilon absorbs float error when the clock advanced exactly 1/rate.
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate


class SendLimits:
    """One bucket for the whole bot and one per chat, as Telegram's flood control has."""

    def __init__(
        self, rate_limit: float | None, per_chat_limit: float | None, clock: Callable[[], float]
    ) -> None:
        self.per_chat_limit = per_chat_limit
        self.clock = clock
        self._chat_buckets: dict[int, TokenBucket] = {}
        self._bot_bucket = TokenBucket(rate_limit, rate_limit, clock()) if rate_limit else None

    def admit(self, chat_id: int) -> None:
        """Take a token from the bot and chat buckets, or answer 429 like Telegram's flood limit."""
        now = self.clock()
        waits = [0.0]
        if self._bot_bucket is not None:
            waits.append(self._bot_bucket.wait(now))
        chat_bucket = None
        if self.per_chat_limit:
            chat_bucket = self._chat_buckets.get(chat_id)
            if chat_bucket is None:
                chat_bucket = TokenBucket(self.per_chat_limit, 1.0, now)
                self._chat_buckets[chat_id] = chat_bucket
            waits.append(chat_bucket.wait(now))
        wait = max(waits)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        for bucket in (self._bot_bucket, chat_bucket):
            if bucket is not None:
                bucket.tokens -= 1


@dataclass
class _Fault:
    remaining: int | None  # None: forever
    error: ApiError | None = None
    delay: float = 0.0

    def consume(self) -> bool:
        """Use the fault once; return False once it is spent."""
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


class Faults:
    """Errors and late answers injected into the sends to a chat, some times or forever."""

    def __init__(self) -> None:
        self._errors: dict[int, _Fault] = {}
        self._hangs: dict[int, _Fault] = {}

    def fail(self, chat_id: int, error: ApiError, times: int | None) -> None:
        self._errors[chat_id] = _Fault(times, error=error)

    def hang(self, chat_id: int, seconds: float, times: int | None) -> None:
        self._hangs[chat_id] = _Fault(times, delay=seconds)

    def clear(self) -> None:
        self._errors.clear()
        self._hangs.clear()

    def error(self, chat_id: Any) -> ApiError | None:
        fault = self._errors.get(chat_id)
        return fault.error if fault is not None and fault.consume() else None

    def delay(self, chat_id: Any) -> float:
        fault = self._hangs.get(chat_id)
        return fault.delay if fault is not None and fault.consume() else 0.0
