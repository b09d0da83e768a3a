"""Keep each channel under its platform's limits: even pacing for the channel, spacing per chat.

Telegram states its limits as "at most N messages in any one second" for a bot and "about one
a second" in one chat, and counts them with a sliding window. So sends are paced evenly: a
token bucket that starts empty and can save up only a few milliseconds' worth, at a rate a
little under the cap (the headroom absorbs the network's jitter between our clock and theirs).
All arithmetic is pure (the time is passed in); the dispatcher and the conversations share one
`ChannelLimiter` per channel, so that member replies go first and bulk sends make room.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from bot.shared_rate import SharedRate

log = logging.getLogger(__name__)

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
    }
)
Sleep = Callable[[float], Coroutine[Any, Any, None]]
HEADROOM = 0.005  # pace at 99.5% of the cap: 5 ms a second for jitter between us and them
SHARED_HEADROOM = 0.015  # several instances: 15 ms a second for their slots to disagree
TOLERANCE = 0.004  # seconds of lateness that may be caught up at once (a sleep's overshoot)


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up; it starts empty, a pause empties it."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens = 0.0  # a restart must not send a second's worth at once
        self.updated: float | None = None
        self.paused_until = 0.0

    def _refill(self, now: float) -> None:
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = max(now, self.updated or now)

    def delay(self, now: float, tokens: int = 1) -> float:
        """Take `tokens` and return 0, or return how long to wait before asking again."""
        self._refill(now)
        if now < self.paused_until:
            return self.paused_until - now
        if self.tokens >= tokens - 1e-9:
            self.tokens -= tokens
            return 0.0
        return (tokens - self.tokens) / self.rate

    def force(self, now: float, tokens: int = 1) -> float:
        """Take tokens ahead of anyone waiting; return how long until the last is due."""
        self._refill(now)
        self.tokens -= tokens
        due = max(0.0, self.paused_until - now) + max(0.0, -self.tokens) / self.rate
        return due

    def pause(self, now: float, seconds: float) -> None:
        """Send nothing for `seconds` (the platform's retry_after) and start again empty."""
        self.paused_until = max(self.paused_until, now + seconds)
        self.tokens = min(self.tokens, 0.0)
        self.updated = self.paused_until


class InFlight:
    """Count the sends that may reach the platform within one second, as the platform counts.

    A request reaches the platform somewhere between leaving and its answer coming back, and
    the answer's way back takes about half the quickest round trip. So a send counts from
    `max(left, answered - (quickest / 2 - 2 ms))`: one answered late (a partition that heals,
    a stalled platform) counts from just before its answer, and one still under way counts as
    arriving now. A send starts only while fewer than `limit` count within the last second:
    pacing keeps the rate even, this keeps the bound when the network bunches what was even.
    """

    def __init__(self, limit: int, span: float = 1.0) -> None:
        self.limit, self.span = max(1, limit), span
        self.under_way = 0
        self._arrived: list[float] = []  # when each answered send may have arrived, sorted
        self._head = 0  # entries before it have left the second
        self._latencies: deque[float] = deque(maxlen=256)
        self.fastest = 0.0  # the lowest recent answer time: the network's own delay

    def wait(self, now: float) -> float:
        """Return 0 if a send may start now, else how long to wait before looking again."""
        arrived, horizon = self._arrived, now - self.span
        while self._head < len(arrived) and arrived[self._head] <= horizon:
            self._head += 1
        if self._head > 4096:  # forget what has left the second
            del arrived[: self._head]
            self._head = 0
        if self.under_way + len(arrived) - self._head < self.limit:
            return 0.0
        if self._head < len(arrived):  # the oldest leaves the second
            return max(0.001, arrived[self._head] - horizon)
        return 0.01  # every place is taken by sends under way: an answer frees one

    def start(self, sends: int = 1) -> None:
        """Count sends leaving now."""
        self.under_way += sends

    def end(self, left: float, now: float, sends: int = 1) -> None:
        """Count sends that left at `left` and are answered now (or failed: they may have come)."""
        self.under_way = max(0, self.under_way - sends)
        latency = now - left
        self._latencies.append(latency)
        if len(self._latencies) == 1 or latency < self.fastest:
            self.fastest = latency
        elif len(self._latencies) % 32 == 0:  # let an old fastest go
            self.fastest = min(self._latencies)
        # It arrived at the latest when its answer set off back, which takes about half the
        # quickest round trip, less 2 ms for the two ways differing: so it counts from then
        # (or from when it left, if later). On a machine's own loopback that is its answer.
        arrived = max(left, now - max(0.0, self.fastest / 2 - 0.002))
        for _ in range(sends):
            bisect.insort(self._arrived, arrived, lo=self._head)


class Grant:
    """Send slots reserved in the bucket every instance shares: `left` of them, evenly spaced."""

    def __init__(self) -> None:
        self.next_at = 0.0
        self.left = 0

    def give(self, first_at: float, count: int) -> None:
        """Hold `count` slots, the first at `first_at` (monotonic time)."""
        self.next_at, self.left = first_at, count

    def take(self, now: float, interval: float) -> float | None:
        """Return how long until the next slot held (None if none is left), and use it.

        Slots gone by for longer than the tolerance are dropped, not caught up: sent late
        together, they would crowd the second after them, which the other instances fill.
        """
        while self.left and self.next_at < now - TOLERANCE:
            self.next_at += interval
            self.left -= 1
        if not self.left:
            return None
        due = self.next_at
        self.next_at += interval
        self.left -= 1
        return max(0.0, due - now)


class ChannelLimiter:
    """The whole channel's pace and the spacing of messages to one chat."""

    def __init__(
        self,
        rate: float,
        per_chat_interval: float = 1.05,
        *,
        shared: SharedRate | None = None,
        headroom: float = HEADROOM,
    ) -> None:
        self.cap = rate
        paced = rate * (1 - headroom)
        self.bucket = TokenBucket(paced, capacity=1.0 + paced * TOLERANCE)
        # A little over Telegram's one a second, so that jitter never puts two within one.
        self.per_chat_interval = per_chat_interval
        self.last_sent: dict[str, float] = {}
        # Several instances on PostgreSQL: the rate is theirs together (bot.shared_rate).
        self.shared = shared
        self.grant = Grant()
        self.in_flight = InFlight(math.floor(rate))

    @property
    def interval(self) -> float:
        """Return the time between two sends at the paced rate."""
        return 1.0 / self.bucket.rate

    def force(self, now: float, tokens: int) -> float:
        """Count sends made ahead of the bulk (replies, further parts); return when they are due."""
        if self.shared is not None:
            waits = [self.grant.take(now, self.interval) for _ in range(tokens)]
            owed = sum(1 for wait in waits if wait is None)
            if owed:  # nothing held here: the next reservation pays for them
                self.shared.owe(owed)
            return max([0.0, *(w for w in waits if w is not None)])
        return self.bucket.force(now, tokens)

    def pause(self, now: float, seconds: float) -> None:
        """Send nothing for `seconds` (the platform's retry_after), here and in every instance."""
        self.bucket.pause(now, seconds)
        self.grant.give(0.0, 0)
        if self.shared is not None:
            self.shared.pause(seconds)

    def chat_wait(self, chat_id: str, now: float) -> float:
        """Return how long until this chat may receive another message (0 if now)."""
        last = self.last_sent.get(chat_id)
        return 0.0 if last is None else max(0.0, last + self.per_chat_interval - now)

    def sent(self, chat_id: str, now: float) -> None:
        """Note a message to a chat at `now` (or later); forget chats quiet for long."""
        self.last_sent[chat_id] = max(now, self.last_sent.get(chat_id, now))
        if len(self.last_sent) > 50_000:
            horizon = now - self.per_chat_interval
            self.last_sent = {c: t for c, t in self.last_sent.items() if t > horizon}

    def reply_wait(self, chat_id: str, now: float) -> float:
        """Book a reply to a member: its chat's turn and a channel slot ahead of bulk sends.

        Return how long to wait before sending it (its chat's last message a second ago, and
        one interval of the channel's pace at most).
        """
        chat = self.chat_wait(chat_id, now)
        self.sent(chat_id, now + chat)
        return max(chat, self.force(now, 1))

    @contextlib.asynccontextmanager
    async def replying(
        self, chat_id: str, clock: Callable[[], float], sleep: Sleep = asyncio.sleep
    ) -> AsyncIterator[None]:
        """Hold a reply until its chat's turn, its slot and a place in the second; count it.

        On PostgreSQL a reply takes a slot this instance holds, or reserves one in the bucket
        every instance shares (one round trip): a reply sent unannounced would be one too
        many in a second that the other instances fill.
        """
        now = clock()
        if self.shared is None:
            wait = self.reply_wait(chat_id, now)
        else:
            chat = self.chat_wait(chat_id, now)
            self.sent(chat_id, now + chat)
            slot = self.grant.take(now, self.interval)
            if slot is None:  # none held here: one from the bucket every instance shares
                slot = await asyncio.to_thread(self.shared.reserve_at, 1) - now
            wait = max(chat, slot) - (clock() - now)
        if wait > 0:
            await sleep(wait)
        while (wait := self.in_flight.wait(clock())) > 0:
            await sleep(wait)
        self.in_flight.start()
        left = clock()
        try:
            yield
        finally:
            now = clock()
            self.in_flight.end(left, now)
            self.sent(chat_id, now)  # the chat's second counts from the answer
