"""Count sends in sliding windows, the strict way the platforms state their limits.

Telegram says "at most N messages in any one second" and "about one message a second" per
chat; Zalo states a rate per second too. A sliding window enforces exactly that: a send is
accepted only if fewer than ``limit`` sends were accepted in the ``span`` seconds before it,
so no burst of a full bucket plus its refill gets through. Refused sends are not counted.
The fakes (``telegram_limits``, ``zalo_bot_state``, ``zalo_oa_state``) all use these.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable

# A send accepted at s has left the window at now once now - s >= span - EPSILON: sends spread
# evenly at exactly the cap all pass despite float error, even on epoch-second clocks (whose
# resolution near 1.7e9 is about 2.4e-7 s).
EPSILON = 1e-6


def retry_after(wait: float) -> int:
    """Return the whole seconds to tell a refused sender to wait: wait rounded up, at least 1."""
    return max(1, math.ceil(wait - EPSILON))


class SlidingWindow:
    """At most ``limit`` accepted sends in any ``span`` seconds; refused tries do not count."""

    def __init__(self, limit: int, span: float = 1.0) -> None:
        if limit < 1 or span <= 0:
            raise ValueError(f"a window needs limit >= 1 and span > 0, not {limit}, {span}")
        self.limit, self.span = limit, span
        self._accepted: deque[float] = deque()  # times of the sends still in the window

    @classmethod
    def per_second(cls, rate: float) -> SlidingWindow:
        """Return the window of a rate: ``rate`` sends a second, or one per 1/rate s below 1."""
        if rate >= 1:
            return cls(math.floor(rate + EPSILON), 1.0)
        return cls(1, 1.0 / rate)

    def wait(self, now: float) -> float:
        """Return 0 if a send may go now, else the seconds until the oldest one leaves."""
        accepted = self._accepted
        while accepted and now - accepted[0] >= self.span - EPSILON:
            accepted.popleft()
        if len(accepted) < self.limit:
            return 0.0
        return accepted[0] + self.span - now

    def take(self, now: float) -> None:
        """Count a send accepted at ``now`` (after wait(now) returned 0)."""
        self._accepted.append(now)


class PerKeyWindow:
    """At most one accepted send per key in any ``span`` seconds, remembering only live keys.

    The keys are kept in the order of their last accepted send, so those whose send has left
    the window are dropped from the front as time goes on: memory is bounded by the keys sent
    to within one span, however many there were over the run.
    """

    def __init__(self, span: float) -> None:
        if span <= 0:
            raise ValueError(f"a window needs span > 0, not {span}")
        self.span = span
        self._last: dict[Hashable, float] = {}  # key -> its last accepted send, oldest first

    def wait(self, key: Hashable, now: float) -> float:
        """Return 0 if a send to ``key`` may go now, else the seconds until one may."""
        last = self._last
        while last:
            oldest = next(iter(last))
            if now - last[oldest] < self.span - EPSILON:
                break
            del last[oldest]
        at = last.get(key)
        return 0.0 if at is None else at + self.span - now

    def take(self, key: Hashable, now: float) -> None:
        """Count a send to ``key`` accepted at ``now`` (after wait(key, now) returned 0)."""
        self._last.pop(key, None)  # re-inserted last: the dict stays ordered by send time
        self._last[key] = now

    def __len__(self) -> int:
        return len(self._last)


class BusiestSecond:
    """The most sends accepted in any sliding one-second window so far (times in order)."""

    def __init__(self) -> None:
        self.most = 0
        self._recent: deque[float] = deque()

    def add(self, at: float) -> None:
        """Count one accepted send at ``at``."""
        recent = self._recent
        while recent and at - recent[0] >= 1.0 - EPSILON:
            recent.popleft()
        recent.append(at)
        self.most = max(self.most, len(recent))
