"""Model subscribers, their topics, their consent records and the feedback they send."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, utcnow
from db.models.area import Area
from db.models.cooperative import Cooperative


class Channel(StrEnum):
    """Where a person talks to the bot."""

    TELEGRAM = "telegram"
    ZALO_BOT = "zalo_bot"  # Zalo Bot Platform
    ZALO_OA = "zalo_oa"  # Zalo Official Account


class SubscriberStatus(StrEnum):
    """Whether a subscriber receives broadcasts."""

    PENDING = "pending"  # registering: consent or profile not complete, receives nothing
    ACTIVE = "active"  # registered and receiving
    STOPPED = "stopped"  # said /stop; receives nothing until /start
    BLOCKED = "blocked"  # the member blocked the bot or deleted their account (403)
    INVALID = "invalid"  # the platform does not know this chat (400 chat not found)


class Role(StrEnum):
    """What a subscriber is, as they told us."""

    MEMBER = "member"  # thành viên HTX
    MANAGER = "manager"  # cán bộ quản lý HTX
    FARMER = "farmer"  # nông dân
    OFFICER = "officer"  # cán bộ xã, trưởng thôn
    OTHER = "other"


class Topic(StrEnum):
    """What a subscriber wants to hear about."""

    POLICY = "policy"  # chủ trương, chính sách
    OCOP = "ocop"  # sản phẩm OCOP
    TRAINING = "training"  # lớp tập huấn
    MARKET = "market"  # thông tin thị trường
    MODEL = "model"  # mô hình HTX điển hình


class FeedbackStatus(StrEnum):
    """Where a piece of feedback stands with staff."""

    OPEN = "open"  # not yet handled
    ANSWERED = "answered"  # an officer replied; open until someone closes it
    CLOSED = "closed"  # handled by staff


class FeedbackKind(StrEnum):
    """How a piece of feedback came in."""

    MESSAGE = "message"  # free text, or a reply to a broadcast
    DIFFICULTY = "difficulty"  # the guided "Báo khó khăn" report, with a category


class Subscriber(Base):
    """A person reachable on one channel; personal data, deleted whole on request."""

    __tablename__ = "subscriber"
    # AUTOINCREMENT on SQLite: a forgotten subscriber's id is never given to someone else.
    __table_args__ = (UniqueConstraint("channel", "chat_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel]
    chat_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(120))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    cooperative_id: Mapped[int | None] = mapped_column(
        ForeignKey("cooperative.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[Role | None]
    status: Mapped[SubscriberStatus] = mapped_column(default=SubscriberStatus.PENDING, index=True)
    consent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    person_id: Mapped[int | None] = mapped_column(
        index=True, comment="shared by one person's subscribers on several channels"
    )
    preferred: Mapped[bool] = mapped_column(
        default=True,
        server_default=true(),
        comment="receives broadcasts for the person: one of a person's subscribers",
    )
    phone: Mapped[str | None] = mapped_column(
        String(16), comment="84xxxxxxxxx, kept only with consent to be reached by it (ZNS)"
    )
    phone_consent_at: Mapped[datetime | None]
    conv_state: Mapped[str] = mapped_column(
        String(32), default="idle", comment="the conversation step awaiting this member's answer"
    )
    conv_data: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="the step's working values and the options last shown"
    )

    area: Mapped[Area | None] = relationship(lazy="joined")
    cooperative: Mapped[Cooperative | None] = relationship(lazy="joined")
    topics: Mapped[list[SubscriberTopic]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )
    consents: Mapped[list[Consent]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def topic_set(self) -> set[Topic]:
        """Return the topics as a set."""
        return {t.topic for t in self.topics}


class SubscriberTopic(Base):
    """One topic a subscriber wants; a row per topic so audiences are plain joins."""

    __tablename__ = "subscriber_topic"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[Topic] = mapped_column(primary_key=True)


class Consent(Base):
    """Evidence that a subscriber agreed to one purpose, to which notice, when and how."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(32), comment="e.g. 'outreach'")
    notice_version: Mapped[str] = mapped_column(String(32))
    notice_sha256: Mapped[str] = mapped_column(String(64), comment="hash of the exact text shown")
    granted_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    evidence: Mapped[dict[str, Any]] = mapped_column(
        JSON, comment="channel, provider message/update id and the answer given"
    )


class Feedback(Base):
    """Something a member wrote that was not a command: kept for staff to read and answer."""

    __tablename__ = "feedback"
    # The inbox: what is not closed, flagged first, newest first.
    __table_args__ = (Index("ix_feedback_inbox", "status", "flagged", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel]
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[FeedbackStatus] = mapped_column(default=FeedbackStatus.OPEN)
    kind: Mapped[FeedbackKind] = mapped_column(
        default=FeedbackKind.MESSAGE, server_default=FeedbackKind.MESSAGE.value
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcast.id", ondelete="SET NULL"),
        index=True,
        comment="the broadcast it answers: replied to, or the last one received shortly before",
    )
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("area.id"), index=True, comment="the member's commune when it was sent"
    )
    category: Mapped[str | None] = mapped_column(
        String(16), comment="the difficulty's category, as the member chose it"
    )
    topic: Mapped[str | None] = mapped_column(String(32), comment="given by the triage rules")
    flags: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]", comment="triage flags: abusive, sensitive"
    )
    flagged: Mapped[bool] = mapped_column(
        default=False, server_default=false(), comment="has flags: shown first, staff told at once"
    )
    photo: Mapped[str | None] = mapped_column(String(500), comment="the platform's file id")
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), comment="the officer who takes it"
    )
    answered_at: Mapped[datetime | None] = mapped_column(comment="the first reply from staff")
    closed_at: Mapped[datetime | None]


class FeedbackReply(Base):
    """An officer's answer to a piece of feedback, sent to the member through the outbox."""

    __tablename__ = "feedback_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(64), comment="staff:<id> or cli:<user>")
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcast.id", ondelete="SET NULL"), comment="the message of one that bore it"
    )
