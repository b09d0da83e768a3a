"""Count what happened in an area over the last days, for an officer's /stats.

Every figure is an aggregate query over the rows themselves (the outbox is the truth): no
tallies are kept and no rows are looped over in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.models import (
    Broadcast,
    Delivery,
    DeliveryStatus,
    Feedback,
    Subscriber,
    SubscriberStatus,
)

# The dispatcher writes "blocked: <reason>" when the platform says the member blocked the bot.
BLOCKED_PREFIX = "blocked"


@dataclass(frozen=True)
class AreaStats:
    """What happened in an area between `since` (included) and `until` (excluded)."""

    since: datetime
    until: datetime
    broadcasts: int  # broadcasts started in the period that had a recipient in the area
    sent: int  # deliveries the platform accepted
    failed: int  # deliveries that will not be sent, not counting the blocked ones
    blocked: int  # failed deliveries to members who blocked the bot
    reached: int  # distinct subscribers with at least one sent delivery
    new: int  # subscribers who consented in the period
    stopped: int  # subscribers who said /stop in the period
    feedback: int  # feedback rows received in the period


def area_stats(
    session: Session, area_ids: set[int] | None, until: datetime, days: int = 30
) -> AreaStats:
    """Count broadcasts, deliveries, subscribers and feedback of an area (None: everywhere)."""
    since = until - timedelta(days=days)
    in_area = _in_area(area_ids)
    sent, failed, blocked, reached = _deliveries(session, in_area, since, until)
    new, stopped = _subscribers(session, in_area, since, until)
    return AreaStats(
        since=since,
        until=until,
        broadcasts=_broadcasts(session, in_area, since, until),
        sent=sent,
        failed=failed,
        blocked=blocked,
        reached=reached,
        new=new,
        stopped=stopped,
        feedback=_feedback(session, in_area, since, until),
    )


def _in_area(area_ids: set[int] | None) -> list[ColumnElement[bool]]:
    # The caller has already widened a province to its communes (db.staff.scope_ids).
    return [] if area_ids is None else [Subscriber.area_id.in_(area_ids)]


def _within(
    column: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    since: datetime,
    until: datetime,
) -> ColumnElement[bool]:
    return and_(column >= since, column < until)


def _broadcasts(
    session: Session, in_area: list[ColumnElement[bool]], since: datetime, until: datetime
) -> int:
    reached_area = exists().where(
        Delivery.broadcast_id == Broadcast.id, Subscriber.id == Delivery.subscriber_id, *in_area
    )
    query = select(func.count()).where(_within(Broadcast.started_at, since, until), reached_area)
    return session.scalar(query) or 0


def _deliveries(
    session: Session, in_area: list[ColumnElement[bool]], since: datetime, until: datetime
) -> tuple[int, int, int, int]:
    is_sent = Delivery.status == DeliveryStatus.SENT
    is_failed = Delivery.status == DeliveryStatus.FAILED
    # substr, not LIKE: SQLite's LIKE ignores case and PostgreSQL's does not. The coalesce keeps
    # a failure with no error from making the whole condition NULL (neither blocked nor not).
    is_blocked = or_(
        func.substr(func.coalesce(Delivery.error, ""), 1, len(BLOCKED_PREFIX)) == BLOCKED_PREFIX,
        Subscriber.status == SubscriberStatus.BLOCKED,
    )
    query = (
        select(
            func.count(case((is_sent, 1))),
            func.count(case((and_(is_failed, not_(is_blocked)), 1))),
            func.count(case((and_(is_failed, is_blocked), 1))),
            func.count(distinct(case((is_sent, Delivery.subscriber_id)))),
        )
        .select_from(Delivery)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(
            or_(
                _within(Delivery.updated_at, since, until),
                _within(Delivery.sent_at, since, until),
            ),
            *in_area,
        )
    )
    sent, failed, blocked, reached = session.execute(query).one()
    return sent, failed, blocked, reached


def _subscribers(
    session: Session, in_area: list[ColumnElement[bool]], since: datetime, until: datetime
) -> tuple[int, int]:
    consented = _within(Subscriber.consent_at, since, until)
    stopped = _within(Subscriber.stopped_at, since, until)
    query = select(func.count(case((consented, 1))), func.count(case((stopped, 1)))).where(
        or_(consented, stopped), *in_area
    )
    new, gone = session.execute(query).one()
    return new, gone


def _feedback(
    session: Session, in_area: list[ColumnElement[bool]], since: datetime, until: datetime
) -> int:
    query = (
        select(func.count())
        .select_from(Feedback)
        .join(Subscriber, Subscriber.id == Feedback.subscriber_id)
        .where(_within(Feedback.received_at, since, until), *in_area)
    )
    return session.scalar(query) or 0
