"""Model campaigns: plans the scheduler carries out, every firing recorded, one scheduler."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class CampaignKind(StrEnum):
    """Where a campaign comes from."""

    PLAN = "plan"  # a campaign file staff wrote
    CALENDAR = "calendar"  # the built-in calendar of cooperative days


class CampaignStatus(StrEnum):
    """Whether the scheduler carries a campaign out."""

    ACTIVE = "active"  # fires at next_fire_at
    PAUSED = "paused"  # nothing fires; sends planned meanwhile are skipped on resume
    FINISHED = "finished"  # its window is over, or it has nothing left to send


class FiringOutcome(StrEnum):
    """What became of one planned send."""

    SENT = "sent"  # fired on time: its broadcasts were created
    LATE = "late"  # fired late after downtime, within the campaign's grace
    SKIPPED = "skipped"  # missed by more than the grace (or into quiet hours): not sent
    COLLAPSED = "collapsed"  # missed during downtime; a later send went in its place
    EMPTY = "empty"  # fired, but nobody was left to send to (audience empty or capped)
    FAILED = "failed"  # could not be fired (e.g. its content is gone); the note says why


class Campaign(Base):
    """A plan staff wrote once, or the calendar: the database holds when it fires next."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, comment="the file's id")
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CampaignKind] = mapped_column(default=CampaignKind.PLAN)
    status: Mapped[CampaignStatus] = mapped_column(default=CampaignStatus.ACTIVE)
    spec: Mapped[dict[str, Any]] = mapped_column(
        JSON, comment="the checked campaign file (or the calendar's settings), as JSON"
    )
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="resolved filters")
    pool: Mapped[list[str]] = mapped_column(JSON, default=list, comment="content slugs, in order")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    next_fire_at: Mapped[datetime | None] = mapped_column(
        index=True, comment="the planned time of its next send; null when nothing is left"
    )
    source: Mapped[str | None] = mapped_column(String(500), comment="the file it was loaded from")
    checksum: Mapped[str | None] = mapped_column(String(64), comment="sha256 of that file")
    created_by: Mapped[str] = mapped_column(String(64), default="cli")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignFiring(Base):
    """One planned send of a campaign and what became of it: the history staff can read."""

    __tablename__ = "campaign_firing"
    # One row per planned send: a second scheduler that somehow fired it again would fail here.
    __table_args__ = (UniqueConstraint("campaign_id", "planned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    planned_at: Mapped[datetime]
    fired_at: Mapped[datetime]
    outcome: Mapped[FiringOutcome]
    content: Mapped[str | None] = mapped_column(String(80), comment="the planned item's slug")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(300))


class SchedulerLease(Base):
    """Who may fire schedules now: renewed by the holder, taken over once it has expired."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), comment="host:pid:random of the instance")
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
