"""Answer members reliably: each chat's updates in order, chats side by side, replies retried.

A member's reply is the one message that must not be lost: it is paced to the chat (about one a
second, as Telegram asks), and one the platform refuses for now (429, the network) is sent
again after its wait, in order, while the rest of the turn's replies still follow. What is
refused for good is logged, and the caller is told, so that the step asked is asked again.
Telegram's replies go through python-telegram-bot's limiter hook (`ConversationLimiter`),
the Zalo channels' through `send_reply`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import FailureKind, SendFailure
from bot.ratelimit import SEND_METHODS, ChannelLimiter, Sleep

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRIED = frozenset({FailureKind.RETRY_AFTER, FailureKind.TRANSIENT, FailureKind.UNAVAILABLE})


@dataclass
class _Turn:
    """One chat's work taken in turn: the lock, and how many tasks hold or await it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class ChatTurns:
    """Run each chat's work in the order it came; different chats go side by side."""

    def __init__(self) -> None:
        self._chats: dict[Hashable, _Turn] = {}

    async def run(self, chat: Hashable, work: Awaitable[T]) -> T:
        """Await `work` once every earlier work for this chat is done."""
        turn = self._chats.get(chat) or self._chats.setdefault(chat, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                return await work
        finally:
            turn.users -= 1
            if not turn.users:  # nobody waits on this chat: forget it
                self._chats.pop(chat, None)

    def __len__(self) -> int:
        return len(self._chats)


async def send_reply(
    limiter: ChannelLimiter | None,
    chat_id: str,
    send: Callable[[], Awaitable[object]],
    *,
    patience: float = 600.0,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SendFailure | None:
    """Send one reply at its chat's pace; return None once sent, or the failure that stands.

    A 429 waits its retry_after (and pauses the channel's bulk sends), trouble with the network
    or the platform backs off; both are tried again for up to `patience` seconds.
    """
    deadline = clock() + patience
    backoff = 1.0
    while True:
        try:
            if limiter is None:
                await send()
            else:
                async with limiter.replying(chat_id, clock, sleep):
                    await send()
            return None
        except SendFailure as failure:
            if failure.kind not in RETRIED:
                return failure
            if failure.kind is FailureKind.RETRY_AFTER:
                wait = max(failure.retry_after, 1.0)
                if limiter is not None:
                    limiter.pause(clock(), wait)
            else:
                wait, backoff = max(backoff, failure.retry_after), min(backoff * 2, 30.0)
            if clock() + wait > deadline:
                return failure
            log.info("reply to chat %s refused (%s); again in %.1f s", chat_id, failure, wait)
            await sleep(wait)


async def send_turn(
    limiter: ChannelLimiter | None,
    chat_id: str,
    sends: Sequence[Callable[[], Awaitable[object]]],
    *,
    started: float,
    replied: Callable[[float], None] | None,
    platform: str,
) -> bool:
    """Send one turn's replies in order; return whether the member missed one (not blocked).

    One refused for good is logged and the rest still go. The time from `started` to the
    first answer delivered goes to `replied` (the reply latency of /metrics).
    """
    missed = False
    for send in sends:
        failure = await send_reply(limiter, chat_id, send)
        if failure is None:
            if replied is not None:
                replied(time.monotonic() - started)
                replied = None
            continue
        log.warning("%s reply to a member not delivered: %s", platform, failure)
        missed = missed or failure.kind is not FailureKind.BLOCKED
    return missed


class ConversationLimiter(BaseRateLimiter[None]):
    """python-telegram-bot limiter for conversation replies: paced per chat, never lost to a 429.

    A send refused with 429 is sent again after its retry_after, and one lost to the network
    after a backoff, for up to `patience` seconds; the channel pauses for a 429 as it would
    for a broadcast. What stays refused after that reaches the caller as the error.
    """

    def __init__(
        self,
        limiter: ChannelLimiter,
        clock: Callable[[], float],
        *,
        patience: float = 600.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limiter, self.clock = limiter, clock
        self.patience, self.sleep = patience, sleep

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
        """Wait for the chat's turn and a slot, send, and send again what is refused for now."""
        if endpoint not in SEND_METHODS:
            return await callback(*args, **kwargs)
        chat = str(data.get("chat_id"))
        deadline = self.clock() + self.patience
        backoff = 1.0
        while True:
            try:
                async with self.limiter.replying(chat, self.clock, self.sleep):
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                self.limiter.pause(self.clock(), wait)
                self.limiter.sent(chat, self.clock() + wait)
                if self.clock() + wait > deadline:
                    raise
            except (TimedOut, NetworkError) as exc:
                if isinstance(exc, BadRequest):  # refused for good: a caller's matter
                    raise
                wait, backoff = backoff, min(backoff * 2, 30.0)
                if self.clock() + wait > deadline:
                    raise
            log.info("reply to chat %s refused for now; sending again in %.1f s", chat, wait)
            await self.sleep(wait)


def retry_seconds(exc: RetryAfter) -> float:
    """Read a RetryAfter's wait in seconds (an int or a timedelta, by PTB's version)."""
    with warnings.catch_warnings():  # PTB 22.2 warns that it becomes a timedelta: both are read
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        seconds = exc.retry_after
    return float(seconds.total_seconds() if hasattr(seconds, "total_seconds") else seconds)
