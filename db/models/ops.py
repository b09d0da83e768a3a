"""Keep what several instances of the bot share to run as one: the send rate, updates seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class RateBucket(Base):
    """One channel's token bucket, shared by every instance on PostgreSQL (see bot.ratelimit).

    `tokens` may go below zero: a reservation made ahead, which its taker waits out.
    """

    __tablename__ = "rate_bucket"

    key: Mapped[str] = mapped_column(String(32), primary_key=True, comment="the channel")
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(comment="when tokens was last refilled")


class SeenUpdate(Base):
    """An update a platform sent us and we handled: a second delivery of it is ignored.

    Kept two days: Telegram keeps undelivered updates for 24 hours, so none comes back later.
    """

    __tablename__ = "seen_update"

    ref: Mapped[str] = mapped_column(String(96), primary_key=True, comment="channel:update id")
    seen_at: Mapped[datetime] = mapped_column(index=True)
