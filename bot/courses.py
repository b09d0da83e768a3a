"""Create training courses and the messages that follow them: announcement, reminders, rating.

Every message a course sends is a broadcast in the outbox, scheduled when the course is made:
reminders go to whoever holds a seat at that moment (their audience is the course's seated
members, taken when each fires), so a member who cancels is not reminded and one who moved up
is. Calling a course off cancels what has not gone and tells those registered or waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation.events import Choice
from db.audience import Audience
from db.broadcasts import LifecycleError, create_broadcast, move
from db.models import (
    Broadcast,
    BroadcastStatus,
    CourseStatus,
    RegistrationStatus,
    Subscriber,
    TrainingCourse,
    TrainingRegistration,
    TrainingTopic,
)
from db.training import get_course, release_seats
from messages import training as say

MAX_CAPACITY = 10_000


class CourseProblem(ValueError):
    """A course that cannot be created as given; the message says what to change."""


@dataclass(frozen=True)
class CourseDraft:
    """What staff give to create a course."""

    title: str
    topic: TrainingTopic
    organiser: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    deadline_at: datetime
    audience: Audience
    place: str | None = None
    online_url: str | None = None
    description: str | None = None


def check(draft: CourseDraft, now: datetime) -> None:
    """Refuse a course that could not take place as described."""
    problems = []
    if not draft.title.strip() or len(draft.title) > 200:
        problems.append("the title must be 1 to 200 characters")
    if draft.starts_at <= now:
        problems.append("the start is in the past")
    if draft.ends_at <= draft.starts_at:
        problems.append("the end must be after the start")
    if not now < draft.deadline_at <= draft.starts_at:
        problems.append("the registration deadline must be between now and the start")
    if not 1 <= draft.capacity <= MAX_CAPACITY:
        problems.append(f"the capacity must be 1 to {MAX_CAPACITY}")
    if not (draft.place or draft.online_url):
        problems.append("give a place, an online link, or both")
    if draft.online_url and urlparse(draft.online_url).scheme not in ("http", "https"):
        problems.append("the online link must start with http:// or https://")
    if problems:
        raise CourseProblem("; ".join(problems))


def create_course(
    session: Session,
    draft: CourseDraft,
    *,
    created_by: str,
    now: datetime,
    announce_at: datetime | None,
) -> tuple[TrainingCourse, list[Broadcast]]:
    """Save a course and schedule its announcement, reminders and rating request."""
    check(draft, now)
    if (
        announce_at is not None
        and not now - timedelta(minutes=1) <= announce_at < draft.deadline_at
    ):
        raise CourseProblem("the announcement must go between now and the registration deadline")
    course = TrainingCourse(
        title=draft.title.strip(),
        topic=draft.topic,
        organiser=draft.organiser,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        place=draft.place,
        online_url=draft.online_url,
        capacity=draft.capacity,
        deadline_at=draft.deadline_at,
        audience=draft.audience.to_json(),
        description=draft.description,
        created_by=created_by,
        created_at=now,
    )
    session.add(course)
    session.flush()
    sent = [_announce(session, course, announce_at, now)] if announce_at is not None else []
    return course, sent + _follow_ups(session, course, now)


def _announce(session: Session, course: TrainingCourse, at: datetime, now: datetime) -> Broadcast:
    return _send(
        session,
        course,
        now,
        kind="training_announcement",
        text=say.announcement(course),
        audience=Audience.from_json(course.audience),
        send_at=max(at, now),
        expires_at=course.deadline_at,  # an announcement after the deadline is no use
        buttons=[register_button(course.id)],
    )


def _follow_ups(session: Session, course: TrainingCourse, now: datetime) -> list[Broadcast]:
    seated = Audience(course_ids=(course.id,))
    made = []
    for before, when in say.REMINDERS:
        at = course.starts_at - before
        if at > now:  # a course made two days ahead has no three-day reminder
            made.append(
                _send(
                    session,
                    course,
                    now,
                    kind="training_reminder",
                    text=say.reminder(course, when),
                    audience=seated,
                    send_at=at,
                    expires_at=course.starts_at,
                    buttons=[_button(say.CANCEL_BUTTON, f"x{course.id}", "/taphuan")],
                )
            )
    rating_at = course.ends_at + say.RATING_AFTER
    rating = _send(
        session,
        course,
        now,
        kind="training_rating",
        text=say.rating_request(course),
        audience=seated,
        send_at=rating_at,
        expires_at=rating_at + timedelta(days=7),
        buttons=[
            _button(label, f"s{course.id}.{stars}", f"/danhgia {course.id} {stars}")
            for stars, label in reversed(list(enumerate(say.RATING_LABELS, 1)))
        ],
    )
    return [*made, rating]


def _send(
    session: Session,
    course: TrainingCourse,
    now: datetime,
    *,
    kind: str,
    text: str,
    audience: Audience,
    send_at: datetime,
    expires_at: datetime | None = None,
    buttons: list[dict[str, str]] | None = None,
) -> Broadcast:
    """Schedule one of a course's messages: already rendered, linked to the course."""
    return create_broadcast(
        session,
        kind=kind,
        text=text,
        audience=audience,
        send_at=send_at,
        expires_at=expires_at,
        buttons=buttons,
        created_by=f"training:{course.id}",
        now=now,
        templated=False,
        course_id=course.id,
    )


def _button(label: str, value: str, typed: str) -> dict[str, str]:
    return {"label": label, "data": Choice("trn", value).pack(), "typed": typed}


def register_button(course_id: int) -> dict[str, str]:
    """Return the "Đăng ký" button of an announcement."""
    return _button(say.REGISTER_BUTTON, f"r{course_id}", f"/dangky {course_id}")


def notify(
    session: Session, course: TrainingCourse, members: list[Subscriber], text: str, now: datetime
) -> Broadcast | None:
    """Send a course notice to these members through the outbox, now."""
    if not members:
        return None
    return _send(
        session,
        course,
        now,
        kind="training_notice",
        text=text,
        audience=Audience(subscriber_ids=tuple(m.id for m in members)),
        send_at=now,
    )


def cancel_course(
    session: Session, course_id: int, reason: str | None, now: datetime
) -> tuple[TrainingCourse, int]:
    """Call a course off: drop its unsent messages and tell everyone registered or waiting."""
    course = get_course(session, course_id, lock=True)
    if course.status == CourseStatus.CANCELLED:
        raise CourseProblem(f"course {course_id} is already cancelled")
    course.status = CourseStatus.CANCELLED
    pending = session.scalars(
        select(Broadcast.id).where(
            Broadcast.course_id == course_id,
            Broadcast.status.in_([BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING]),
        )
    ).all()
    for broadcast_id in pending:
        try:
            move(session, broadcast_id, "cancel", now)
        except LifecycleError:  # finished meanwhile: nothing left to stop
            continue
    people = session.scalars(
        select(Subscriber)
        .join(TrainingRegistration, TrainingRegistration.subscriber_id == Subscriber.id)
        .where(
            TrainingRegistration.course_id == course_id,
            TrainingRegistration.status != RegistrationStatus.CANCELLED,
        )
    ).all()
    notify(session, course, list(people), say.course_cancelled(course, reason), now)
    return course, len(people)


def free_seats(session: Session, members: list[Subscriber], now: datetime) -> int:
    """Give up the seats of members being forgotten; tell whoever moves up. Count the seats."""
    freed = 0
    for member in members:
        for course, moved in release_seats(session, member.id, now):
            freed += 1
            if moved is not None:
                notify(session, course, [moved], say.promoted(course), now)
    return freed
