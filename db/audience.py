"""Express who receives a broadcast as SQL: count it, and snapshot it in one statement."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.engine import is_postgresql
from db.models import (
    Area,
    Broadcast,
    Channel,
    Delivery,
    DeliveryStatus,
    RegistrationStatus,
    Role,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
    TrainingRegistration,
)


@dataclass(frozen=True)
class Audience:
    """Filters on subscribers; an empty filter means everyone. Only active subscribers count."""

    area_ids: tuple[int, ...] = ()  # provinces (with all their communes) or communes
    roles: tuple[Role, ...] = ()
    cooperative_ids: tuple[int, ...] = ()
    topics: tuple[Topic, ...] = ()  # any one of them
    channels: tuple[Channel, ...] = ()
    # Not areas of interest but people: those seated on these courses (reminders, rating),
    # or these subscribers (a notice to one member). They are reached on the chat they used,
    # preferred or not.
    course_ids: tuple[int, ...] = ()
    subscriber_ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the filters as JSON-ready lists, as stored on the broadcast."""
        return {
            key: [str(v) if not isinstance(v, int) else v for v in values]
            for key, values in asdict(self).items()
            if values
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        """Rebuild filters stored on a broadcast."""
        return cls(
            area_ids=tuple(int(v) for v in data.get("area_ids", [])),
            roles=tuple(Role(v) for v in data.get("roles", [])),
            cooperative_ids=tuple(int(v) for v in data.get("cooperative_ids", [])),
            topics=tuple(Topic(v) for v in data.get("topics", [])),
            channels=tuple(Channel(v) for v in data.get("channels", [])),
            course_ids=tuple(int(v) for v in data.get("course_ids", [])),
            subscriber_ids=tuple(int(v) for v in data.get("subscriber_ids", [])),
        )


def _conditions(audience: Audience) -> list[Any]:
    # One person on several channels is reached once: on the subscriber they prefer.
    conditions: list[Any] = [Subscriber.status == SubscriberStatus.ACTIVE]
    if audience.subscriber_ids:
        conditions.append(Subscriber.id.in_(audience.subscriber_ids))
    if audience.course_ids:
        conditions.append(
            exists().where(
                TrainingRegistration.subscriber_id == Subscriber.id,
                TrainingRegistration.course_id.in_(audience.course_ids),
                TrainingRegistration.status == RegistrationStatus.REGISTERED,
            )
        )
    if not (audience.subscriber_ids or audience.course_ids):
        conditions.append(Subscriber.preferred.is_(True))
    if audience.area_ids:
        communes_of = select(Area.id).where(Area.parent_id.in_(audience.area_ids))
        conditions.append(
            or_(Subscriber.area_id.in_(audience.area_ids), Subscriber.area_id.in_(communes_of))
        )
    if audience.roles:
        conditions.append(Subscriber.role.in_(audience.roles))
    if audience.cooperative_ids:
        conditions.append(Subscriber.cooperative_id.in_(audience.cooperative_ids))
    if audience.topics:
        conditions.append(
            exists().where(
                SubscriberTopic.subscriber_id == Subscriber.id,
                SubscriberTopic.topic.in_(audience.topics),
            )
        )
    if audience.channels:
        conditions.append(Subscriber.channel.in_(audience.channels))
    return conditions


def chosen(audience: Audience) -> list[Any]:
    """Return the WHERE conditions on Subscriber that pick an audience, for other queries."""
    return _conditions(audience)


def count_audience(session: Session, audience: Audience) -> int:
    """Count who would receive a broadcast now."""
    query = select(func.count()).select_from(Subscriber).where(*_conditions(audience))
    return session.scalar(query) or 0


def includes(session: Session, audience: Audience, subscriber_id: int) -> bool:
    """Tell whether an active subscriber falls within an audience, on whichever channel."""
    one = replace(audience, subscriber_ids=(subscriber_id,))
    return bool(session.scalar(select(exists().where(*_conditions(one)))))


def _snapshot_select(broadcast_id: int, audience: Audience, now: datetime) -> Select[Any]:
    return select(
        literal(broadcast_id),
        Subscriber.id,
        Subscriber.channel,
        literal(DeliveryStatus.QUEUED.value),
        literal(0),
        literal(now, type_=Delivery.__table__.c.next_attempt_at.type),
        literal(now, type_=Delivery.__table__.c.updated_at.type),
    ).where(*_conditions(audience))


def snapshot(session: Session, broadcast: Broadcast, now: datetime) -> int:
    """Create one queued delivery per recipient in one INSERT … SELECT; safe to repeat."""
    columns = [
        "broadcast_id",
        "subscriber_id",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "updated_at",
    ]
    chosen = _snapshot_select(broadcast.id, Audience.from_json(broadcast.audience), now)
    insert = postgresql.insert if is_postgresql(session.get_bind()) else sqlite.insert
    statement = insert(Delivery).from_select(columns, chosen).on_conflict_do_nothing()
    session.execute(statement)
    created = session.scalar(select(func.count()).where(Delivery.broadcast_id == broadcast.id)) or 0
    return created
