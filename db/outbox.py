"""Claim queued deliveries for sending and record what happened; callers own the session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from db.models import (
    PENDING_DELIVERY,
    Area,
    Broadcast,
    BroadcastStatus,
    Channel,
    Cooperative,
    Delivery,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
)
from db.people import reroute_unreachable

IN_DOUBT = "in doubt: the dispatcher stopped while sending; sent again"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery in hand, with what is needed to render and send it."""

    delivery_id: int
    broadcast_id: int
    subscriber_id: int
    attempts: int
    channel: Channel
    chat_id: str
    name: str | None
    commune: str | None
    province: str | None
    cooperative: str | None
    last_seen_at: datetime | None = None  # the member's last interaction (Zalo OA's window)
    phone: str | None = None  # only when they consented to be reached by it (ZNS)


@dataclass(slots=True)
class Outcome:
    """What happened to one claimed delivery."""

    delivery_id: int
    status: DeliveryStatus
    provider_message_id: str | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    refund_attempt: bool = False  # a 429 or a deferral is not the message's fault
    subscriber_id: int | None = None
    mark_subscriber: SubscriberStatus | None = None  # blocked or invalid: never sent to again
    new_chat_id: str | None = None  # Telegram moved the chat to a new id
    via: str | None = None  # a Zalo OA message sent as paid promotion or through ZNS


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Say which deliveries may be sent now: pending, due, of a broadcast that is sending."""
    return (
        Delivery.status.in_(PENDING_DELIVERY),
        Delivery.next_attempt_at <= now,
        Broadcast.status == BroadcastStatus.SENDING,
    )


def queue(session: Session, now: datetime) -> dict[Channel, tuple[int, datetime]]:
    """Return per channel how many deliveries wait to be sent now and since when the oldest."""
    rows = session.execute(
        select(Delivery.channel, func.count(), func.min(Delivery.next_attempt_at))
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(*_due(now))
        .group_by(Delivery.channel)
    ).all()
    return {row[0]: (int(row[1]), row[2] or now) for row in rows}


def claim(
    session: Session, *, worker: str, now: datetime, limit: int, skip_locked: bool
) -> list[Claimed]:
    """Mark up to `limit` due deliveries of sending broadcasts as wired by this worker."""
    pick = (
        select(Delivery.id)
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(*_due(now))
        .order_by(Delivery.id)
        .limit(limit)
    )
    if skip_locked:  # PostgreSQL: instances take disjoint batches without waiting on each other
        pick = pick.with_for_update(of=Delivery, skip_locked=True)
    ids = list(session.scalars(pick))
    if not ids:
        return []
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(
            status=DeliveryStatus.WIRED,
            claimed_by=worker,
            claimed_at=now,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
    )
    return _load(session, ids, now)


def _load(session: Session, ids: Sequence[int], now: datetime) -> list[Claimed]:
    province = aliased(Area)
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.broadcast_id,
            Delivery.subscriber_id,
            Delivery.attempts,
            Subscriber.channel,
            Subscriber.chat_id,
            Subscriber.status,
            Subscriber.display_name.label("name"),
            Area.name.label("commune"),
            province.name.label("province"),
            Cooperative.name.label("cooperative"),
            Subscriber.last_seen_at,
            Subscriber.phone,
            Subscriber.phone_consent_at,
        )
        .select_from(Delivery)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .outerjoin(Area, Area.id == Subscriber.area_id)
        .outerjoin(province, province.id == Area.parent_id)
        .outerjoin(Cooperative, Cooperative.id == Subscriber.cooperative_id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    ).all()
    claimed, gone = [], []
    for row in rows:
        if row.subscriber_id is None or row.status != SubscriberStatus.ACTIVE:
            gone.append(row.id)  # stopped, blocked or forgotten since the snapshot
            continue
        claimed.append(
            Claimed(
                row.id,
                row.broadcast_id,
                row.subscriber_id,
                row.attempts,
                row.channel,
                row.chat_id,
                row.name,
                row.commune,
                row.province,
                row.cooperative,
                row.last_seen_at,
                row.phone if row.phone_consent_at is not None else None,
            )
        )
    if gone:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(gone))
            .values(
                status=DeliveryStatus.SKIPPED, error="subscriber no longer active", updated_at=now
            )
        )
    return claimed


_TABLE = cast(Table, Delivery.__table__)
# Two Core statements run as executemany: cheaper per row than the ORM's bulk update.
_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"))
    .values(
        status=DeliveryStatus.SENT.value,
        provider_message_id=bindparam("b_message"),
        sent_at=bindparam("b_sent"),
        via=bindparam("b_via"),
        updated_at=bindparam("b_now"),
    )
)  # a sent row keeps its last problem (or the in-doubt note) in `error`
_OTHER = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        error=bindparam("b_error"),
        next_attempt_at=func.coalesce(
            bindparam("b_next", type_=_TABLE.c.next_attempt_at.type), _TABLE.c.next_attempt_at
        ),
        attempts=_TABLE.c.attempts - bindparam("b_refund"),
        updated_at=bindparam("b_now"),
    )
)


def record(session: Session, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Write outcomes: one executemany for sent rows, one for the rest."""
    sent = [
        {
            "b_id": o.delivery_id,
            "b_message": o.provider_message_id,
            "b_sent": o.sent_at or now,
            "b_via": o.via,
            "b_now": now,
        }
        for o in outcomes
        if o.status == DeliveryStatus.SENT
    ]
    other = [
        {
            "b_id": o.delivery_id,
            "b_status": o.status.value,
            "b_error": o.error,
            "b_next": o.next_attempt_at,
            "b_refund": int(o.refund_attempt),
            "b_now": now,
        }
        for o in outcomes
        if o.status != DeliveryStatus.SENT
    ]
    connection = session.connection()
    if sent:
        connection.execute(_SENT, sent)
    if other:
        connection.execute(_OTHER, other)
    for status in (SubscriberStatus.BLOCKED, SubscriberStatus.INVALID):
        marked = [o.subscriber_id for o in outcomes if o.mark_subscriber == status]
        _mark_subscribers(session, [i for i in marked if i is not None], status)
    lost = [o.subscriber_id for o in outcomes if o.mark_subscriber and o.subscriber_id]
    reroute_unreachable(session, lost)  # a person linked elsewhere gets the next ones there
    for o in outcomes:
        if o.new_chat_id is not None and o.subscriber_id is not None:
            session.execute(
                update(Subscriber)
                .where(Subscriber.id == o.subscriber_id)
                .values(chat_id=o.new_chat_id)
            )


def _mark_subscribers(session: Session, ids: list[int], status: SubscriberStatus) -> None:
    if ids:  # only active ones: a member who said /stop meanwhile stays stopped
        session.execute(
            update(Subscriber)
            .where(Subscriber.id.in_(ids), Subscriber.status == SubscriberStatus.ACTIVE)
            .values(status=status)
        )


def requeue_dead_workers(
    session: Session, host: str, alive: Callable[[int], bool], now: datetime
) -> int:
    """Send again what dispatchers on this host claimed before they died (kill -9, power)."""
    workers = session.scalars(
        select(Delivery.claimed_by)
        .where(Delivery.status == DeliveryStatus.WIRED, Delivery.claimed_by.like(f"{host}:%"))
        .distinct()
    ).all()
    dead = [w for w in workers if w and not alive(int(w.rsplit(":", 1)[1]))]
    if not dead:
        return 0
    result = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.WIRED, Delivery.claimed_by.in_(dead))
        .values(status=DeliveryStatus.QUEUED, next_attempt_at=now, error=IN_DOUBT, updated_at=now)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def requeue_in_doubt(session: Session, now: datetime, lease: timedelta) -> int:
    """Send again deliveries a dispatcher claimed and never finished (it stopped or died)."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.WIRED, Delivery.claimed_at < now - lease)
        .values(status=DeliveryStatus.QUEUED, next_attempt_at=now, error=IN_DOUBT, updated_at=now)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
