"""Answer members reliably: each chat's updates in order, chats side by side, replies retried.

A member's reply is the one message that must not be lost: it is paced to the chat (about one a
second, as Telegram asks), and one the platform refuses for now (429, the network) is sent
again after its wait, in order, while the rest of the turn's replies still follow. What is
refused for good is logged, and the caller is told, so that the step asked is asked again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.channels.base import FailureKind, SendFailure
from bot.ratelimit import ChannelLimiter, Sleep

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
