"""Move broadcasts through their lifecycle and read their progress; callers commit."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.audience import Audience, snapshot
from db.models import (
    PENDING_DELIVERY,
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
)

# Messages that are not announcements: nothing to find useful or unclear.
NO_REACTIONS = frozenset(
    {"reply", "poll", "training_reminder", "training_notice", "training_rating"}
)


def create_broadcast(
    session: Session,
    *,
    text: str,
    audience: Audience,
    send_at: datetime,
    created_by: str,
    now: datetime,
    kind: str = "policy",
    photo: str | None = None,
    buttons: list[dict[str, str]] | None = None,
    expires_at: datetime | None = None,
    templated: bool = True,
    content_id: int | None = None,
    product_id: int | None = None,
    course_id: int | None = None,
    reactions: bool | None = None,
) -> Broadcast:
    """Schedule a broadcast; it starts at send_at (now or later).

    `reactions` puts the one-tap "Hữu ích / Chưa rõ" under it; by default every announcement
    carries them, and replies, polls and course notices to a member do not.

    `templated=False` marks text already rendered (content, a product, a course): it is sent
    as it is, so braces in data are never read as a template.
    """
    broadcast = Broadcast(
        kind=kind,
        templated=templated,
        content_id=content_id,
        product_id=product_id,
        course_id=course_id,
        reactions=kind not in NO_REACTIONS if reactions is None else reactions,
        text=text,
        photo=photo,
        buttons=buttons or [],
        audience=audience.to_json(),
        status=BroadcastStatus.SCHEDULED,
        send_at=send_at,
        expires_at=expires_at,
        created_by=created_by,
        created_at=now,
    )
    session.add(broadcast)
    session.flush()
    return broadcast


def start_due(session: Session, now: datetime, *, skip_locked: bool) -> list[Broadcast]:
    """Snapshot the audience of every scheduled broadcast whose time has come."""
    query = (
        select(Broadcast)
        .where(Broadcast.status == BroadcastStatus.SCHEDULED, Broadcast.send_at <= now)
        .order_by(Broadcast.send_at)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    started = list(session.scalars(query))
    for broadcast in started:
        broadcast.recipients = snapshot(session, broadcast, now)
        broadcast.status = BroadcastStatus.SENDING
        broadcast.started_at = now
    return started


def expire_overdue(session: Session, now: datetime) -> int:
    """Drop unsent deliveries of broadcasts past their expiry: not sent late."""
    overdue = select(Broadcast.id).where(
        Broadcast.expires_at <= now,
        Broadcast.status.in_([BroadcastStatus.SENDING, BroadcastStatus.PAUSED]),
    )
    result = session.execute(
        update(Delivery)
        .where(Delivery.broadcast_id.in_(overdue), Delivery.status.in_(PENDING_DELIVERY))
        .values(
            status=DeliveryStatus.EXPIRED, error="expired before it could be sent", updated_at=now
        )
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def finish_completed(session: Session, now: datetime) -> list[int]:
    """Mark sending broadcasts done once no delivery is left to send."""
    open_work = (
        select(Delivery.id)
        .where(
            Delivery.broadcast_id == Broadcast.id,
            Delivery.status.in_([*PENDING_DELIVERY, DeliveryStatus.WIRED]),
        )
        .exists()
    )
    finished = list(
        session.scalars(
            select(Broadcast.id).where(Broadcast.status == BroadcastStatus.SENDING, ~open_work)
        )
    )
    if finished:
        session.execute(
            update(Broadcast)
            .where(Broadcast.id.in_(finished))
            .values(status=BroadcastStatus.DONE, finished_at=now)
        )
    return finished


class LifecycleError(ValueError):
    """A broadcast cannot make that move from its current status."""


MOVES = {
    "pause": ({BroadcastStatus.SENDING, BroadcastStatus.SCHEDULED}, BroadcastStatus.PAUSED),
    "resume": ({BroadcastStatus.PAUSED}, BroadcastStatus.SENDING),
    "cancel": (
        {
            BroadcastStatus.DRAFT,
            BroadcastStatus.AWAITING_APPROVAL,
            BroadcastStatus.SCHEDULED,
            BroadcastStatus.SENDING,
            BroadcastStatus.PAUSED,
        },
        BroadcastStatus.CANCELLED,
    ),
}


def move(session: Session, broadcast_id: int, action: str, now: datetime) -> Broadcast:
    """Pause, resume or cancel a broadcast; cancelling drops what is not yet sent."""
    broadcast = session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None:
        raise LookupError(f"no broadcast has the id {broadcast_id}")
    allowed, target = MOVES[action]
    if broadcast.status not in allowed:
        raise LifecycleError(f"broadcast {broadcast_id} is {broadcast.status}; cannot {action}")
    if action == "resume" and broadcast.started_at is None:
        target = BroadcastStatus.SCHEDULED  # paused before its time: it starts when due
    broadcast.status = target
    if target == BroadcastStatus.CANCELLED:
        broadcast.finished_at = now
        session.execute(
            update(Delivery)
            .where(Delivery.broadcast_id == broadcast_id, Delivery.status.in_(PENDING_DELIVERY))
            .values(status=DeliveryStatus.SKIPPED, error="broadcast cancelled", updated_at=now)
        )
    return broadcast


@dataclass
class Progress:
    """How far a broadcast has got, from its delivery rows."""

    broadcast: Broadcast
    by_status: Counter[str] = field(default_factory=Counter)
    failed_by_reason: Counter[str] = field(default_factory=Counter)
    newly_blocked: int = 0
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None

    @property
    def total(self) -> int:
        """Return the number of deliveries."""
        return sum(self.by_status.values())

    @property
    def left(self) -> int:
        """Return deliveries not yet in a final state."""
        return sum(self.by_status[s] for s in ("queued", "wired", "errored"))


def progress(session: Session, broadcast_id: int) -> Progress:
    """Count a broadcast's deliveries by status and failures by reason."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise LookupError(f"no broadcast has the id {broadcast_id}")
    result = Progress(broadcast)
    rows = session.execute(
        select(
            Delivery.status, func.count(), func.min(Delivery.sent_at), func.max(Delivery.sent_at)
        )
        .where(Delivery.broadcast_id == broadcast_id)
        .group_by(Delivery.status)
    ).all()
    for status, count, first, last in rows:
        result.by_status[str(status)] = count
        if status == DeliveryStatus.SENT:
            result.first_sent_at, result.last_sent_at = first, last
    reasons = session.execute(
        select(Delivery.error, func.count())
        .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.FAILED)
        .group_by(Delivery.error)
    ).all()
    result.failed_by_reason.update({str(reason): n for reason, n in reasons})
    result.newly_blocked = (
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.status == DeliveryStatus.FAILED,
                Subscriber.status.in_([SubscriberStatus.BLOCKED, SubscriberStatus.INVALID]),
            )
        )
        or 0
    )
    return result
