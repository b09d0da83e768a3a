"""Enforce Telegram's flood limits and inject the faults a test asks for, per chat.

Both only decide; ``TelegramState`` owns them and the HTTP layer turns their answers into
429s, injected errors and late answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.simulator.limits import PerKeyWindow, SlidingWindow, retry_after
from bot.simulator.telegram_errors import ApiError


class SendLimits:
    """A sliding window for the whole bot and one per chat, as Telegram's flood control has.

    The bot may send at most ``rate_limit`` messages in any one second, and a chat at most one
    in any 1/``per_chat_limit`` seconds; a refused send does not count against either.
    """

    def __init__(
        self, rate_limit: float | None, per_chat_limit: float | None, clock: Callable[[], float]
    ) -> None:
        self.clock = clock
        self._bot = SlidingWindow.per_second(rate_limit) if rate_limit else None
        self._chats = PerKeyWindow(1.0 / per_chat_limit) if per_chat_limit else None

    def admit(self, chat_id: int) -> float:
        """Count a send to the chat now and return the time, or answer 429 like Telegram."""
        now = self.clock()
        wait = 0.0
        if self._bot is not None:
            wait = self._bot.wait(now)
        if self._chats is not None:
            wait = max(wait, self._chats.wait(chat_id, now))
        if wait > 0:
            seconds = retry_after(wait)
            raise ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )
        if self._bot is not None:
            self._bot.take(now)
        if self._chats is not None:
            self._chats.take(chat_id, now)
        return now


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
