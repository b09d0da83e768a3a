"""Carry one member event through the conversation: the session, the member, the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.conversation.events import Inbound
from db.models import Subscriber


@dataclass
class Turn:
    """One unit of work: an event, the subscriber it comes from (if known), and the clock."""

    session: Session
    event: Inbound
    now: datetime
    tz: ZoneInfo
    subscriber: Subscriber | None
    rules: Path | None = None  # the feedback triage rules file; None: the shipped one

    @property
    def member(self) -> Subscriber:
        """Return the subscriber, which every step after /start has."""
        if self.subscriber is None:
            raise LookupError("this step needs a subscriber")
        return self.subscriber

    @property
    def data(self) -> dict[str, Any]:
        """Return a copy of the conversation's working values."""
        return dict(self.member.conv_data or {})

    def set_state(self, state: str, **data: Any) -> None:
        """Move to a step, replacing its working values (a new dict, so the change is saved)."""
        self.member.conv_state = state
        self.member.conv_data = dict(data)

    def update_data(self, **data: Any) -> None:
        """Change some working values of the current step."""
        self.member.conv_data = {**(self.member.conv_data or {}), **data}
