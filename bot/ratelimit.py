"""Keep each channel under its platform's limits: one token bucket and per-chat spacing.

All arithmetic is pure (the time is passed in); the dispatcher and the conversation's
python-telegram-bot limiter share one `ChannelLimiter`, so that member replies go first and
bulk sends make room for them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.shared_rate import SharedRate

SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage"}
)


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up; a pause empties it for a while."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens = capacity
        self.updated: float | None = None
        self.paused_until = 0.0

    @property
    def burst(self) -> float:
        """Return how many tokens can be taken at once."""
        return self.capacity

    def _refill(self, now: float) -> None:
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay(self, now: float, tokens: int = 1) -> float:
        """Take `tokens` and return 0, or return how long to wait before asking again."""
        self._refill(now)
        if now < self.paused_until:
            return self.paused_until - now
        if self.tokens >= tokens:
            self.tokens -= tokens
            return 0.0
        return (tokens - self.tokens) / self.rate

    def force(self, now: float, tokens: int = 1) -> None:
        """Take tokens even if none are left (priority sends); bulk sends then wait longer."""
        self._refill(now)
        self.tokens -= tokens

    def pause(self, now: float, seconds: float) -> None:
        """Send nothing for `seconds` (the platform's retry_after) and start again empty."""
        self.paused_until = max(self.paused_until, now + seconds)
        self.tokens = 0.0
        self.updated = self.paused_until


class ChannelLimiter:
    """The whole channel's bucket and the spacing of messages to one chat."""

    def __init__(
        self, rate: float, per_chat_interval: float = 1.0, *, shared: SharedRate | None = None
    ) -> None:
        # A quarter second's burst: a full second's worth at once would meet the platform's
        # own bucket at its edge and draw 429s from network jitter.
        self.bucket = TokenBucket(rate, capacity=max(1.0, rate * 0.25))
        self.per_chat_interval = per_chat_interval
        self.last_sent: dict[str, float] = {}
        # Several instances on PostgreSQL: the rate is theirs together (bot.shared_rate).
        self.shared = shared

    def force(self, now: float, tokens: int) -> None:
        """Count sends made without waiting (replies, a long text's further parts)."""
        self.bucket.force(now, tokens)
        if self.shared is not None:
            self.shared.owe(tokens)

    def pause(self, now: float, seconds: float) -> None:
        """Send nothing for `seconds` (the platform's retry_after), here and in every instance."""
        self.bucket.pause(now, seconds)
        if self.shared is not None:
            self.shared.pause(seconds)

    def chat_wait(self, chat_id: str, now: float) -> float:
        """Return how long until this chat may receive another message (0 if now)."""
        last = self.last_sent.get(chat_id)
        return 0.0 if last is None else max(0.0, last + self.per_chat_interval - now)

    def sent(self, chat_id: str, now: float) -> None:
        """Note a message to a chat; forget chats quiet for longer than the interval."""
        self.last_sent[chat_id] = now
        if len(self.last_sent) > 50_000:
            horizon = now - self.per_chat_interval
            self.last_sent = {c: t for c, t in self.last_sent.items() if t > horizon}

    def reply(self, chat_id: str, now: float) -> None:
        """Count a reply to a member: it goes at once, and bulk sends make room after it."""
        self.force(now, 1)
        self.sent(chat_id, now)


class ConversationLimiter(BaseRateLimiter[None]):
    """python-telegram-bot limiter for conversation replies: never queued behind bulk sends."""

    def __init__(self, limiter: ChannelLimiter, clock: Callable[[], float]) -> None:
        self.limiter, self.clock = limiter, clock

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Debit the shared bucket for a send, and pause bulk sends if Telegram says 429."""
        if endpoint in SEND_METHODS:
            self.limiter.reply(str(data.get("chat_id")), self.clock())
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            seconds = exc.retry_after
            wait = seconds.total_seconds() if hasattr(seconds, "total_seconds") else seconds
            self.limiter.pause(self.clock(), float(wait))
            raise
