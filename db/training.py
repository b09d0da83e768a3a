"""Keep training courses and their seats: register, wait in line, cancel, move up, rate.

Callers open the session and commit; time is passed in. Seats are counted under a lock on
the course row (FOR UPDATE on PostgreSQL; SQLite has one writer), so two members pressing
"Đăng ký" for the last seat at the same moment cannot both get it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audience import Audience, includes
from db.models import (
    CourseStatus,
    RegistrationStatus,
    Subscriber,
    TrainingCourse,
    TrainingRegistration,
)


class Outcome(StrEnum):
    """What a member's request came to."""

    SEATED = "seated"  # they have a seat
    WAITING = "waiting"  # the course is full: they are in line
    ALREADY = "already"  # nothing changed: they already had that
    CLOSED = "closed"  # the registration deadline has passed
    STARTED = "started"  # the course has begun: nothing more can change
    CANCELLED_COURSE = "cancelled_course"  # the course was called off
    NOT_FOR_YOU = "not_for_you"  # the course is for another area or group
    NOT_REGISTERED = "not_registered"  # they have no registration to cancel or rate
    TOO_EARLY = "too_early"  # rating before the course has ended


@dataclass(frozen=True)
class Answer:
    """The outcome, the member's place in line, and who moved up in their stead."""

    outcome: Outcome
    course: TrainingCourse
    position: int = 0  # 1 = first in the waiting line
    promoted: Subscriber | None = None


def get_course(session: Session, course_id: int, *, lock: bool = False) -> TrainingCourse:
    """Return a course, or raise LookupError."""
    course = session.get(TrainingCourse, course_id, with_for_update=lock)
    if course is None:
        raise LookupError(f"no training course has the id {course_id}")
    return course


def registration(
    session: Session, course_id: int, subscriber_id: int
) -> TrainingRegistration | None:
    """Return a member's registration for a course, whatever its status."""
    return session.scalar(
        select(TrainingRegistration).where(
            TrainingRegistration.course_id == course_id,
            TrainingRegistration.subscriber_id == subscriber_id,
        )
    )


def count_status(session: Session, course_id: int, status: RegistrationStatus) -> int:
    """Count a course's registrations in one status."""
    query = select(func.count()).where(
        TrainingRegistration.course_id == course_id, TrainingRegistration.status == status
    )
    return session.scalar(query) or 0


def seats_left(session: Session, course: TrainingCourse) -> int:
    """Return the free seats of a course."""
    return max(0, course.capacity - count_status(session, course.id, RegistrationStatus.REGISTERED))


def position(session: Session, entry: TrainingRegistration) -> int:
    """Return a waiting member's place in line (1 = next to get a seat), 0 if not waiting."""
    if entry.status != RegistrationStatus.WAITING:
        return 0
    ahead = select(func.count()).where(
        TrainingRegistration.course_id == entry.course_id,
        TrainingRegistration.status == RegistrationStatus.WAITING,
        (TrainingRegistration.registered_at < entry.registered_at)
        | (
            (TrainingRegistration.registered_at == entry.registered_at)
            & (TrainingRegistration.id < entry.id)
        ),
    )
    return (session.scalar(ahead) or 0) + 1


def _closed(course: TrainingCourse, now: datetime, *, joining: bool) -> Outcome | None:
    if course.status == CourseStatus.CANCELLED:
        return Outcome.CANCELLED_COURSE
    if now >= course.starts_at:
        return Outcome.STARTED
    if joining and now > course.deadline_at:
        return Outcome.CLOSED
    return None


def register(session: Session, course_id: int, member: Subscriber, now: datetime) -> Answer:
    """Give the member a seat if one is free, else a place in the waiting line."""
    course = get_course(session, course_id, lock=True)
    entry = registration(session, course_id, member.id)
    if entry is not None and entry.status != RegistrationStatus.CANCELLED:
        return Answer(Outcome.ALREADY, course, position(session, entry))
    closed = _closed(course, now, joining=True)
    if closed is not None:
        return Answer(closed, course)
    if not is_for(session, course, member):
        return Answer(Outcome.NOT_FOR_YOU, course)
    free = seats_left(session, course) > 0
    if entry is None:
        entry = TrainingRegistration(course_id=course_id, subscriber_id=member.id)
        session.add(entry)
    entry.status = RegistrationStatus.REGISTERED if free else RegistrationStatus.WAITING
    entry.registered_at, entry.cancelled_at = now, None  # back of the line after a cancel
    entry.seated_at = now if free else None
    session.flush()
    if free:
        return Answer(Outcome.SEATED, course)
    return Answer(Outcome.WAITING, course, position(session, entry))


def cancel(session: Session, course_id: int, member: Subscriber, now: datetime) -> Answer:
    """Give up a seat or a place in line; the first in line gets the seat freed."""
    course = get_course(session, course_id, lock=True)
    entry = registration(session, course_id, member.id)
    if entry is None or entry.status == RegistrationStatus.CANCELLED:
        return Answer(Outcome.NOT_REGISTERED, course)
    closed = _closed(course, now, joining=False)
    if closed is not None:
        return Answer(closed, course)
    had_seat = entry.status == RegistrationStatus.REGISTERED
    entry.status, entry.cancelled_at = RegistrationStatus.CANCELLED, now
    session.flush()
    promoted = move_up(session, course, now) if had_seat else None
    return Answer(Outcome.SEATED if had_seat else Outcome.WAITING, course, promoted=promoted)


def move_up(session: Session, course: TrainingCourse, now: datetime) -> Subscriber | None:
    """Seat the first member in line if a seat is free; return them, to be told."""
    if seats_left(session, course) == 0:
        return None
    first = session.scalar(
        select(TrainingRegistration)
        .where(
            TrainingRegistration.course_id == course.id,
            TrainingRegistration.status == RegistrationStatus.WAITING,
        )
        .order_by(TrainingRegistration.registered_at, TrainingRegistration.id)
        .limit(1)
    )
    if first is None:
        return None
    first.status, first.seated_at = RegistrationStatus.REGISTERED, now
    session.flush()
    return session.get(Subscriber, first.subscriber_id)


def rate(session: Session, course_id: int, member: Subscriber, stars: int, now: datetime) -> Answer:
    """Keep a seated member's 1-5 star rating of a course that has ended (changeable)."""
    course = get_course(session, course_id)
    entry = registration(session, course_id, member.id)
    if entry is None or entry.status != RegistrationStatus.REGISTERED:
        return Answer(Outcome.NOT_REGISTERED, course)
    if now < course.ends_at:
        return Answer(Outcome.TOO_EARLY, course)
    entry.rating, entry.rated_at = max(1, min(5, stars)), now
    return Answer(Outcome.SEATED, course)


def is_for(session: Session, course: TrainingCourse, member: Subscriber) -> bool:
    """Tell whether a course's audience (area, role, cooperative) takes in this member."""
    audience = replace(Audience.from_json(course.audience), topics=())  # interest is not a gate
    return includes(session, audience, member.id)


def upcoming_for(
    session: Session, member: Subscriber, now: datetime
) -> list[tuple[TrainingCourse, TrainingRegistration | None]]:
    """List courses not yet begun that are for this member, or that they signed up to."""
    courses = session.scalars(
        select(TrainingCourse)
        .where(TrainingCourse.status == CourseStatus.OPEN, TrainingCourse.starts_at > now)
        .order_by(TrainingCourse.starts_at, TrainingCourse.id)
    )
    listed = []
    for course in courses:  # few at a time: the courses of the coming weeks
        entry = registration(session, course.id, member.id)
        active = entry is not None and entry.status != RegistrationStatus.CANCELLED
        if active or is_for(session, course, member):
            listed.append((course, entry))
    return listed


def release_seats(
    session: Session, subscriber_id: int, now: datetime
) -> list[tuple[TrainingCourse, Subscriber | None]]:
    """Free a forgotten member's seats; return each course and who moved up into it."""
    held = session.scalars(
        select(TrainingRegistration).where(
            TrainingRegistration.subscriber_id == subscriber_id,
            TrainingRegistration.status == RegistrationStatus.REGISTERED,
        )
    ).all()
    freed = []
    for entry in held:
        course = get_course(session, entry.course_id, lock=True)
        entry.status, entry.cancelled_at = RegistrationStatus.CANCELLED, now
        session.flush()
        still_open = _closed(course, now, joining=False) is None
        freed.append((course, move_up(session, course, now) if still_open else None))
    return freed


@dataclass(frozen=True)
class RosterRow:
    """One line of a course's registration list, as staff export it."""

    name: str
    channel: str
    commune: str
    province: str
    cooperative: str
    role: str
    status: RegistrationStatus
    place_in_line: int
    registered_at: datetime
    seated_at: datetime | None
    cancelled_at: datetime | None
    rating: int | None
    registration_id: int = 0
    attended_at: datetime | None = None


def roster(session: Session, course_id: int) -> list[RosterRow]:
    """List a course's registrations: seated first, then the line in order, then cancelled."""
    order = {RegistrationStatus.REGISTERED: 0, RegistrationStatus.WAITING: 1}
    entries = session.execute(
        select(TrainingRegistration, Subscriber)
        .join(Subscriber, Subscriber.id == TrainingRegistration.subscriber_id)
        .where(TrainingRegistration.course_id == course_id)
        .order_by(TrainingRegistration.registered_at, TrainingRegistration.id)
    ).all()
    rows, line = [], 0
    for entry, member in sorted(entries, key=lambda pair: order.get(pair[0].status, 2)):
        line += entry.status == RegistrationStatus.WAITING
        area = member.area
        rows.append(
            RosterRow(
                name=member.display_name or "",
                channel=member.channel.value,
                commune=area.name if area is not None else "",
                province=area.parent.name if area is not None and area.parent else "",
                cooperative=member.cooperative.name if member.cooperative is not None else "",
                role=member.role.value if member.role is not None else "",
                status=entry.status,
                place_in_line=line if entry.status == RegistrationStatus.WAITING else 0,
                registered_at=entry.registered_at,
                seated_at=entry.seated_at,
                cancelled_at=entry.cancelled_at,
                rating=entry.rating,
                registration_id=entry.id,
                attended_at=entry.attended_at,
            )
        )
    return rows


def mark_attendance(
    session: Session, course_id: int, present: set[int], now: datetime
) -> tuple[int, list[int]]:
    """Mark who came to a course from its returned sheet; return how many, and unknown ids.

    Registrations not in `present` are marked absent, so a corrected sheet can be loaded again.
    Nothing is changed when an id is not one of this course's registrations.
    """
    entries = {
        entry.id: entry
        for entry in session.scalars(
            select(TrainingRegistration).where(TrainingRegistration.course_id == course_id)
        )
    }
    unknown = sorted(present - entries.keys())
    if unknown:
        return 0, unknown
    for number, entry in entries.items():
        came = number in present
        entry.attended_at = (entry.attended_at or now) if came else None
    return len(present), []
