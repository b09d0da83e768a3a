"""Model what members answer besides free text: reactions to broadcasts and poll answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class ReactionValue(StrEnum):
    """A member's one-tap verdict on a broadcast."""

    USEFUL = "useful"  # Hữu ích
    UNCLEAR = "unclear"  # Chưa rõ


class Reaction(Base):
    """A member's reaction to one broadcast; a second tap changes it, never adds one."""

    __tablename__ = "reaction"

    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcast.id", ondelete="CASCADE"), primary_key=True
    )
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    value: Mapped[ReactionValue]
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("area.id"), comment="the member's commune when they reacted"
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)


class PollStatus(StrEnum):
    """Whether a poll takes answers."""

    OPEN = "open"  # answers are taken and may be changed
    CLOSED = "closed"  # the results are final


class Poll(Base):
    """A question with options, sent to an audience as a broadcast with one button each."""

    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[PollStatus] = mapped_column(default=PollStatus.OPEN)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcast.id", ondelete="SET NULL"), comment="the broadcast that asked it"
    )
    created_by: Mapped[str] = mapped_column(String(64), comment="staff:<id> or cli:<user>")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime | None] = mapped_column(comment="closed by itself at this time")
    closed_at: Mapped[datetime | None]


class PollAnswer(Base):
    """One member's answer to a poll: one per member, changeable while the poll is open."""

    __tablename__ = "poll_answer"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    choice: Mapped[int] = mapped_column(comment="the option's index, from 0")
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("area.id"), comment="the member's commune when they answered"
    )
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["Poll", "PollAnswer", "PollStatus", "Reaction", "ReactionValue"]
