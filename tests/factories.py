"""Make test data quickly: subscribers in bulk, straight into the database."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.courses import CourseDraft
from db.audience import Audience
from db.models import (
    Area,
    Broadcast,
    BroadcastStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    Role,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
    TrainingTopic,
)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 07:30 in Hà Nội
        self.start = self.now

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        """Real elapsed time plus every jump the test made, for rate limits and spacing."""
        return time.monotonic() + (self.now - self.start).total_seconds()

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


def commune_id(session: Session, name: str, province: str) -> int:
    """Return the id of a commune by official names."""
    parent = session.scalar(select(Area.id).where(Area.name == province))
    found = session.scalar(select(Area.id).where(Area.name == name, Area.parent_id == parent))
    assert found is not None, (name, province)
    return found


def add_subscribers(
    session: Session,
    chat_ids: range | list[int],
    *,
    area_id: int,
    role: Role = Role.MEMBER,
    topics: tuple[Topic, ...] = tuple(Topic),
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    cooperative_id: int | None = None,
    name: str = "Thành viên",
) -> list[int]:
    """Insert registered subscribers with these chat ids and return their ids."""
    now = datetime.now(UTC)
    rows = [
        {
            "channel": Channel.TELEGRAM,
            "chat_id": str(c),
            "display_name": f"{name} {c}",
            "area_id": area_id,
            "role": role,
            "status": status,
            "consent_at": now,
            "created_at": now,
            "conv_state": "idle",
            "conv_data": {},
            "cooperative_id": cooperative_id,
        }
        for c in chat_ids
    ]
    ids = list(session.scalars(insert(Subscriber).returning(Subscriber.id), rows))
    topic_rows = [{"subscriber_id": i, "topic": t} for i in ids for t in topics]
    if topic_rows:
        session.execute(insert(SubscriberTopic), topic_rows)
    return ids


async def wait_done(
    sessions: sessionmaker[Session],
    broadcast_id: int,
    seconds: float = 20.0,
    clock: FakeClock | None = None,
) -> None:
    """Wait until a broadcast is done; a fake clock, if given, moves on a second each look."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if clock is not None:  # a chat that just had a reply gets the broadcast a bit later
            clock.advance(seconds=1)
        with sessions() as session:
            found = session.get(Broadcast, broadcast_id)
            if found is not None and found.status == BroadcastStatus.DONE:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"broadcast {broadcast_id} not done in {seconds} s")


def course_draft(start: datetime, **changes: Any) -> CourseDraft:
    """A two-seat course for everyone in a commune hall from `start`, changed as given."""
    draft = CourseDraft(
        title="Kế toán HTX cơ bản",
        topic=TrainingTopic.ACCOUNTING,
        organiser="Liên minh HTX tỉnh Khánh Hòa",
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        capacity=2,
        deadline_at=start - timedelta(days=2),
        audience=Audience(),
        place="Hội trường UBND xã Mỹ Sơn",
    )
    return replace(draft, **changes)


def add_broadcast(session: Session, started_at: datetime, kind: str = "policy") -> int:
    """Add a finished broadcast that started at this time and return its id."""
    row = Broadcast(
        kind=kind,
        text="Thông báo",
        status=BroadcastStatus.DONE,
        send_at=started_at,
        started_at=started_at,
        created_by="cli",
    )
    session.add(row)
    session.flush()
    return row.id


def add_delivery(
    session: Session,
    broadcast_id: int,
    subscriber_id: int | None,
    status: DeliveryStatus,
    at: datetime,
    error: str | None = None,
) -> None:
    """Add a delivery that reached its status at this time (and was sent then, if sent)."""
    values = {
        "broadcast_id": broadcast_id,
        "subscriber_id": subscriber_id,
        "channel": Channel.TELEGRAM,
        "status": status,
        "next_attempt_at": at,
        "sent_at": at if status == DeliveryStatus.SENT else None,
        "error": error,
        "updated_at": at,
    }
    session.execute(insert(Delivery).values(values))
