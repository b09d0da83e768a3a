"""Define what the dispatcher needs from a channel: prepare once, send many, fail by kind."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from db.models import Channel


class FailureKind(StrEnum):
    """The few ways a send can fail, each with one way to handle it."""

    RETRY_AFTER = "retry_after"  # the platform's rate limit: pause the channel, send again
    OUTSIDE_WINDOW = "outside_window"  # the platform's rules forbid it now (Zalo's windows)
    QUOTA = "quota"  # a paid quota is used up: try again later
    UNAVAILABLE = "unavailable"  # the channel cannot send now (authorisation): after retry_after
    CREDENTIALS = "credentials"  # the platform refused our token: pause, tell the admins, wait
    BLOCKED = "blocked"  # the member blocked the bot or is gone: never retry
    INVALID_CHAT = "invalid_chat"  # the platform does not know the chat: never retry
    MIGRATED = "migrated"  # the chat has a new id: update it, send again
    REJECTED = "rejected"  # the platform refused this message: fail with its reason
    TRANSIENT = "transient"  # timeout, network, server error: back off and retry


@dataclass
class SendFailure(Exception):
    """A send that did not succeed, classified for the dispatcher."""

    kind: FailureKind
    reason: str
    retry_after: float = 0.0
    new_chat_id: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


@dataclass(frozen=True)
class Prepared:
    """A message ready to send to anyone but for the chat id: built once per broadcast."""

    method: str
    body: dict[str, Any] = field(default_factory=dict)
    via: str | None = None  # recorded on the delivery when it went a paid way (Zalo OA)
    # Further messages of the same delivery (a text too long for one), sent after the first.
    follow_ups: tuple[dict[str, Any], ...] = ()

    @property
    def parts(self) -> int:
        """Return how many messages this delivery sends."""
        return 1 + len(self.follow_ups)


class SeenRefs:
    """Remember the last update ids answered, so that a replayed update is not answered twice."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, ref: str | None) -> bool:
        """Tell whether this id is new, and remember it; an update without one counts as new."""
        if ref is None:
            return True
        if ref in self._seen:
            return False
        self._seen[ref] = None
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


class Sender(Protocol):
    """A channel's bulk sending side."""

    channel: Channel
    max_text: int

    def prepare(self, text: str, photo: str | None, buttons: list[dict[str, str]]) -> Prepared:
        """Build the request for a rendered message."""
        ...

    async def send(self, chat_id: str, prepared: Prepared) -> str:
        """Send to one chat and return the platform's message id, or raise SendFailure."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
