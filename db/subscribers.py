"""Query and change subscribers; callers own the session and commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from db.models import (
    Channel,
    Consent,
    Delivery,
    Feedback,
    FeedbackReply,
    LinkCode,
    PollAnswer,
    Reaction,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
    TrainingRegistration,
)


def get_subscriber(session: Session, channel: Channel, chat_id: str) -> Subscriber | None:
    """Return the subscriber behind a chat on a channel, if any."""
    return session.scalar(
        select(Subscriber).where(Subscriber.channel == channel, Subscriber.chat_id == chat_id)
    )


def create_pending(session: Session, channel: Channel, chat_id: str, now: datetime) -> Subscriber:
    """Create a subscriber that is registering and receives nothing yet."""
    subscriber = Subscriber(
        channel=channel,
        chat_id=chat_id,
        status=SubscriberStatus.PENDING,
        created_at=now,
        last_seen_at=now,
        conv_state="idle",
        conv_data={},
    )
    session.add(subscriber)
    session.flush()
    return subscriber


def record_consent(
    session: Session,
    subscriber: Subscriber,
    *,
    purpose: str,
    notice_version: str,
    notice_sha256: str,
    now: datetime,
    evidence: dict[str, Any],
) -> Consent:
    """Keep the evidence of an explicit consent to one purpose."""
    consent = Consent(
        subscriber_id=subscriber.id,
        purpose=purpose,
        notice_version=notice_version,
        notice_sha256=notice_sha256,
        granted_at=now,
        evidence=evidence,
    )
    session.add(consent)
    return consent


def set_topics(subscriber: Subscriber, topics: Iterable[Topic]) -> None:
    """Replace the subscriber's topics."""
    wanted = set(topics)
    subscriber.topics[:] = [t for t in subscriber.topics if t.topic in wanted]
    have = subscriber.topic_set
    subscriber.topics.extend(SubscriberTopic(topic=t) for t in sorted(wanted - have))


def count_feedback(session: Session, subscriber: Subscriber) -> int:
    """Count the feedback a subscriber has sent."""
    query = select(func.count()).where(Feedback.subscriber_id == subscriber.id)
    return session.scalar(query) or 0


def forget_subscriber(session: Session, subscriber: Subscriber) -> None:
    """Delete a subscriber and everything linked to them (consents, feedback, answers)."""
    # Explicit deletes keep this correct even where the database does not enforce cascades.
    theirs = select(Feedback.id).where(Feedback.subscriber_id == subscriber.id)
    session.execute(delete(FeedbackReply).where(FeedbackReply.feedback_id.in_(theirs)))
    for table in (
        SubscriberTopic,
        Consent,
        Feedback,
        LinkCode,
        TrainingRegistration,
        Reaction,
        PollAnswer,
    ):
        session.execute(delete(table).where(table.subscriber_id == subscriber.id))
    # Delivery history stays for the counts, no longer linked to the person.
    session.execute(
        update(Delivery).where(Delivery.subscriber_id == subscriber.id).values(subscriber_id=None)
    )
    session.execute(delete(Subscriber).where(Subscriber.id == subscriber.id))
    session.expunge(subscriber)


def count_active(session: Session) -> int:
    """Count subscribers who currently receive broadcasts."""
    query = select(func.count()).where(Subscriber.status == SubscriberStatus.ACTIVE)
    return session.scalar(query) or 0
