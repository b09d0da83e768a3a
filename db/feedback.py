"""Keep what members say and what staff answer: feedback, its replies, reactions; callers commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from db.audience import Audience
from db.broadcasts import NO_REACTIONS, create_broadcast
from db.models import (
    Area,
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Feedback,
    FeedbackKind,
    FeedbackReply,
    FeedbackStatus,
    Reaction,
    ReactionValue,
    Staff,
    StaffRole,
    Subscriber,
)

# A message written this soon after a broadcast arrived is taken as an answer to it.
ANSWER_WINDOW = timedelta(hours=24)


class FeedbackProblem(ValueError):
    """A staff action on feedback that cannot be done; the message says why (English)."""


@dataclass(frozen=True)
class Triaged:
    """What the triage rules said of a text: its topic and its flags."""

    topic: str
    flags: tuple[str, ...] = ()


def answered_broadcast(
    session: Session, member: Subscriber, reply_to: str | None, now: datetime
) -> int | None:
    """Find the broadcast a member's message answers: the one replied to, else a recent one."""
    mine = Delivery.subscriber_id == member.id
    if reply_to:
        query = select(Delivery.broadcast_id).where(mine, Delivery.provider_message_id == reply_to)
        found = session.scalar(query.limit(1))
        if found is not None:
            return found
    query = (
        select(Delivery.broadcast_id)
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(
            mine,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.sent_at >= now - ANSWER_WINDOW,
            Broadcast.kind.not_in(NO_REACTIONS),
        )
        .order_by(Delivery.sent_at.desc())
        .limit(1)
    )
    return session.scalar(query)


def add_feedback(
    session: Session,
    member: Subscriber,
    text: str,
    now: datetime,
    triaged: Triaged,
    *,
    broadcast_id: int | None = None,
    kind: FeedbackKind = FeedbackKind.MESSAGE,
    category: str | None = None,
    photo: str | None = None,
) -> Feedback:
    """Store what a member wrote, with its triage and the member's commune at the time."""
    feedback = Feedback(
        subscriber_id=member.id,
        channel=member.channel,
        text=text,
        received_at=now,
        kind=kind,
        broadcast_id=broadcast_id,
        area_id=member.area_id,
        category=category,
        topic=triaged.topic,
        flags=list(triaged.flags),
        flagged=bool(triaged.flags),
        photo=photo,
    )
    session.add(feedback)
    session.flush()
    return feedback


def count_feedback(session: Session, member: Subscriber, since: datetime) -> int:
    """Count what a member has written since a moment (flood control, /forget summaries)."""
    query = select(func.count()).where(
        Feedback.subscriber_id == member.id, Feedback.received_at >= since
    )
    return session.scalar(query) or 0


def react(
    session: Session, member: Subscriber, broadcast_id: int, value: ReactionValue, now: datetime
) -> ReactionValue | None:
    """Record a member's reaction to a broadcast; return the one it replaces, if any."""
    if session.get(Broadcast, broadcast_id) is None:
        raise LookupError(f"broadcast {broadcast_id} does not exist")
    reaction = session.get(Reaction, (broadcast_id, member.id))
    if reaction is None:
        session.add(
            Reaction(
                broadcast_id=broadcast_id,
                subscriber_id=member.id,
                value=value,
                area_id=member.area_id,
                at=now,
            )
        )
        return None
    before = ReactionValue(reaction.value)
    reaction.value, reaction.at = value, now
    return before


def reaction_counts(session: Session, broadcast_id: int) -> dict[ReactionValue, int]:
    """Count a broadcast's reactions by value."""
    query = (
        select(Reaction.value, func.count())
        .where(Reaction.broadcast_id == broadcast_id)
        .group_by(Reaction.value)
    )
    counts = {ReactionValue(value): count for value, count in session.execute(query)}
    return {value: counts.get(value, 0) for value in ReactionValue}


def get_feedback(session: Session, feedback_id: int) -> Feedback:
    """Return one piece of feedback, or raise LookupError."""
    feedback = session.get(Feedback, feedback_id)
    if feedback is None:
        raise LookupError(f"feedback {feedback_id} does not exist")
    return feedback


def inbox(
    session: Session,
    area_ids: set[int] | None,
    *,
    limit: int = 10,
    offset: int = 0,
    closed: bool = False,
) -> list[Feedback]:
    """List feedback not closed in these areas (None: everywhere), flagged first, newest first."""
    wanted = [FeedbackStatus.CLOSED] if closed else [FeedbackStatus.OPEN, FeedbackStatus.ANSWERED]
    query = select(Feedback).where(Feedback.status.in_(wanted))
    if area_ids is not None:
        query = query.where(Feedback.area_id.in_(area_ids))
    query = query.order_by(Feedback.flagged.desc(), Feedback.received_at.desc(), Feedback.id.desc())
    return list(session.scalars(query.offset(offset).limit(limit)))


def count_open(session: Session, area_ids: set[int] | None) -> int:
    """Count the feedback still to handle in these areas."""
    query = select(func.count()).where(
        Feedback.status.in_([FeedbackStatus.OPEN, FeedbackStatus.ANSWERED])
    )
    if area_ids is not None:
        query = query.where(Feedback.area_id.in_(area_ids))
    return session.scalar(query) or 0


def replies(session: Session, feedback_id: int) -> list[FeedbackReply]:
    """Return what staff answered to one piece of feedback, oldest first."""
    query = select(FeedbackReply).where(FeedbackReply.feedback_id == feedback_id)
    return list(session.scalars(query.order_by(FeedbackReply.sent_at, FeedbackReply.id)))


def send_reply(
    session: Session,
    feedback: Feedback,
    text: str,
    *,
    author: str,
    staff_id: int | None,
    now: datetime,
) -> FeedbackReply:
    """Queue an answer to the member who wrote it, as a message of one through the outbox.

    `text` is the final message (already marked as from the alliance), sent as it is.
    """
    if feedback.status is FeedbackStatus.CLOSED:
        raise FeedbackProblem(f"feedback {feedback.id} is closed: reopen it before answering")
    message = create_broadcast(
        session,
        text=text,
        audience=Audience(subscriber_ids=(feedback.subscriber_id,)),
        send_at=now,
        created_by=author,
        now=now,
        kind="reply",
        templated=False,
        reactions=False,
    )
    reply = FeedbackReply(
        feedback_id=feedback.id,
        staff_id=staff_id,
        author=author,
        text=text,
        sent_at=now,
        broadcast_id=message.id,
    )
    session.add(reply)
    feedback.status = FeedbackStatus.ANSWERED
    feedback.answered_at = feedback.answered_at or now
    session.flush()
    return reply


def reply_outcome(session: Session, reply: FeedbackReply) -> str:
    """Tell where an answer stands: queued, sent or failed (with why)."""
    if reply.broadcast_id is None:
        return "unknown"
    broadcast = session.get(Broadcast, reply.broadcast_id)
    delivery = session.scalar(select(Delivery).where(Delivery.broadcast_id == reply.broadcast_id))
    if delivery is None:
        pending = broadcast is not None and broadcast.status is BroadcastStatus.SCHEDULED
        return "queued" if pending else "not sent: the member no longer receives messages"
    if delivery.status is DeliveryStatus.FAILED:
        return f"failed: {delivery.error}"
    return delivery.status.value


def assign(session: Session, feedback: Feedback, officer: Staff | None) -> int | None:
    """Give a piece of feedback to an officer (None: to nobody); return who had it."""
    before = feedback.assigned_to_id
    feedback.assigned_to_id = officer.id if officer is not None else None
    return before


def close(session: Session, feedback: Feedback, now: datetime) -> FeedbackStatus:
    """Close a piece of feedback; return the status it had."""
    before = feedback.status
    if before is FeedbackStatus.CLOSED:
        raise FeedbackProblem(f"feedback {feedback.id} is already closed")
    feedback.status, feedback.closed_at = FeedbackStatus.CLOSED, now
    return before


def reopen(session: Session, feedback: Feedback) -> None:
    """Open a closed piece of feedback again."""
    if feedback.status is not FeedbackStatus.CLOSED:
        raise FeedbackProblem(f"feedback {feedback.id} is not closed")
    answered = feedback.answered_at is not None
    feedback.status = FeedbackStatus.ANSWERED if answered else FeedbackStatus.OPEN
    feedback.closed_at = None


def area_officers(session: Session, area: Area | None) -> list[Staff]:
    """Return the officers to tell about a commune: those scoped to it or its province.

    Where nobody is scoped there, the officers without a scope (admins, national staff) are
    told instead, so that a flagged message never goes unseen.
    """
    scoped = []
    if area is not None:
        scoped = [area.id] if area.parent_id is None else [area.id, area.parent_id]
    query = select(Staff).where(Staff.area_id.in_(scoped), Staff.role != StaffRole.ADMIN)
    found = list(session.scalars(query.order_by(Staff.id))) if scoped else []
    if found:
        return found
    query = select(Staff).where(or_(Staff.area_id.is_(None), Staff.role == StaffRole.ADMIN))
    return list(session.scalars(query.order_by(Staff.id)))
