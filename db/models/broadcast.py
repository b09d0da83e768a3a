"""Model broadcasts and the outbox: one delivery row per recipient, whose status is the truth."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow
from db.models.member import Channel


class BroadcastStatus(StrEnum):
    """Where a broadcast stands."""

    DRAFT = "draft"  # being written; nothing happens at its time
    AWAITING_APPROVAL = "awaiting_approval"  # written; waits for an approver other than its author
    REJECTED = "rejected"  # an approver said no (the reason is in decision_note)
    SCHEDULED = "scheduled"  # will start at send_at
    SENDING = "sending"  # audience snapshotted; deliveries are going out
    PAUSED = "paused"  # deliveries wait until resumed
    DONE = "done"  # every delivery reached a final state
    CANCELLED = "cancelled"  # stopped for good; unsent deliveries were dropped


class DeliveryStatus(StrEnum):
    """What happened to one message for one recipient."""

    QUEUED = "queued"  # waiting to be sent
    WIRED = "wired"  # claimed by a dispatcher and handed to the API; outcome not yet known
    SENT = "sent"  # the platform accepted it (provider_message_id set)
    ERRORED = "errored"  # a temporary failure; retried at next_attempt_at
    FAILED = "failed"  # will not be sent (reason in error)
    SKIPPED = "skipped"  # the subscriber stopped, was blocked or deleted after the snapshot
    EXPIRED = "expired"  # not sent before the broadcast's expiry; dropped, not sent late
    OUTSIDE_WINDOW = "outside_window"  # the platform's rules forbid sending to them now (Zalo)


PENDING_DELIVERY = (DeliveryStatus.QUEUED, DeliveryStatus.ERRORED)
FINAL_DELIVERY = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.SKIPPED,
    DeliveryStatus.EXPIRED,
    DeliveryStatus.OUTSIDE_WINDOW,
)


class Broadcast(Base):
    """A message, an audience and a time; its deliveries say what happened to each recipient."""

    __tablename__ = "broadcast"
    __table_args__ = (Index("ix_broadcast_campaign_started", "campaign_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="policy", comment="policy, ocop, ...")
    text: Mapped[str] = mapped_column(Text, comment="Jinja2 template, rendered per recipient")
    photo: Mapped[str | None] = mapped_column(String(500), comment="file id or URL; text = caption")
    buttons: Mapped[list[dict[str, str]]] = mapped_column(
        JSON,
        default=list,
        comment="buttons under the message: {label, url} links or {label, data, typed} actions",
    )
    templated: Mapped[bool] = mapped_column(
        default=True,
        server_default=true(),
        comment="text is a Jinja2 template; false: final HTML from content or data",
    )
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="filters")
    status: Mapped[BroadcastStatus] = mapped_column(default=BroadcastStatus.SCHEDULED, index=True)
    send_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(64), comment="cli, staff:<id>, campaign:<id>")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(comment="when the audience was taken")
    finished_at: Mapped[datetime | None]
    recipients: Mapped[int | None] = mapped_column(comment="deliveries created at the snapshot")
    # What the broadcast carries, when it comes from the library, the catalog or a course.
    content_id: Mapped[int | None] = mapped_column(
        ForeignKey("content_item.id", ondelete="SET NULL"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocop_product.id", ondelete="SET NULL"), index=True
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_course.id", ondelete="SET NULL"), index=True
    )
    # Sent by the scheduler for a campaign (or the calendar): counted against the daily cap.
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL"), comment="the campaign that fired it"
    )
    firing_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_firing.id", ondelete="SET NULL"), comment="which planned send"
    )
    # Written by an officer in the bot: who wrote it and who approved or rejected it.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True, comment="the officer who wrote it"
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), comment="the approver who approved or rejected"
    )
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(300), comment="why it was rejected")
    reactions: Mapped[bool] = mapped_column(
        default=True,
        server_default=true(),
        comment="carries the one-tap reactions (Hữu ích / Chưa rõ) under the message",
    )


class Delivery(Base):
    """One recipient of one broadcast: the outbox row the dispatcher claims and completes."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "subscriber_id"),
        Index("ix_delivery_claim", "status", "next_attempt_at"),
    )

    # Millions of rows a year at national scale; SQLite needs INTEGER to keep rowid aliasing.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    # No index of its own: the unique (broadcast_id, subscriber_id) index serves lookups by
    # broadcast, and one index fewer makes a million-row snapshot markedly faster.
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcast.id", ondelete="CASCADE"))
    # Deliberately no foreign key: PostgreSQL would lock each subscriber row (FOR KEY SHARE)
    # for every one of a million inserted deliveries. /forget empties it explicitly, and
    # subscriber ids are never reused.
    subscriber_id: Mapped[int | None] = mapped_column(
        index=True, comment="emptied when the subscriber asks to be forgotten"
    )
    channel: Mapped[Channel]
    status: Mapped[DeliveryStatus] = mapped_column(default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64), comment="dispatcher instance")
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(
        String(300), comment="why it failed; on a sent row, the last problem before it went"
    )
    via: Mapped[str | None] = mapped_column(
        String(16), comment="how a Zalo OA message went when not free: promotion (paid) or zns"
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
