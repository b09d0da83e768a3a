"""Seats, the waiting line, cancelling, moving up and rating, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.courses import CourseProblem, cancel_course, create_course, free_seats
from db import training
from db.audience import Audience
from db.models import (
    Broadcast,
    BroadcastStatus,
    RegistrationStatus,
    Subscriber,
)
from db.training import Outcome
from tests.factories import add_subscribers, commune_id, course_draft

NOW = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
START = NOW + timedelta(days=7)


def setup(session: Session, count: int = 4) -> tuple[int, list[Subscriber]]:
    area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
    ids = add_subscribers(session, range(100, 100 + count), area_id=area)
    course, _ = create_course(
        session, course_draft(START), created_by="test", now=NOW, announce_at=NOW
    )
    return course.id, [session.get_one(Subscriber, i) for i in ids]


def test_seats_line_cancel_and_move_up(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        course_id, (a, b, c, d) = setup(session)
        later = NOW + timedelta(minutes=1)
        assert training.register(session, course_id, a, NOW).outcome == Outcome.SEATED
        assert training.register(session, course_id, b, NOW).outcome == Outcome.SEATED
        third = training.register(session, course_id, c, NOW)
        fourth = training.register(session, course_id, d, later)
        assert (third.outcome, third.position) == (Outcome.WAITING, 1)
        assert (fourth.outcome, fourth.position) == (Outcome.WAITING, 2)
        assert training.register(session, course_id, a, later).outcome == Outcome.ALREADY
        # A seat given up goes to the first in line, who is returned to be told.
        gave_up = training.cancel(session, course_id, a, later)
        assert gave_up.outcome == Outcome.SEATED and gave_up.promoted is not None
        assert gave_up.promoted.id == c.id
        entry = training.registration(session, course_id, d.id)
        assert entry is not None and training.position(session, entry) == 1
        # Leaving the line moves no one; registering again goes to the back.
        assert training.cancel(session, course_id, d, later).promoted is None
        again = training.register(session, course_id, a, later)
        assert (again.outcome, again.position) == (Outcome.WAITING, 1)
        assert training.seats_left(session, training.get_course(session, course_id)) == 0


def test_deadline_start_and_rating(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        course_id, (a, b, *_) = setup(session)
        assert training.register(session, course_id, a, NOW).outcome == Outcome.SEATED
        after_deadline = START - timedelta(days=1)
        assert training.register(session, course_id, b, after_deadline).outcome == Outcome.CLOSED
        assert training.cancel(session, course_id, a, START).outcome == Outcome.STARTED
        assert training.rate(session, course_id, a, 5, START).outcome == Outcome.TOO_EARLY
        assert training.rate(session, course_id, b, 5, START).outcome == Outcome.NOT_REGISTERED
        ended = START + timedelta(hours=5)
        assert training.rate(session, course_id, a, 4, ended).outcome == Outcome.SEATED
        assert training.rate(session, course_id, a, 5, ended).outcome == Outcome.SEATED
        entry = training.registration(session, course_id, a.id)
        assert entry is not None and entry.rating == 5


def test_course_for_another_area(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        elsewhere = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        here = add_subscribers(session, [1], area_id=elsewhere)[0]
        other_province = session.get_one(Subscriber, here).area
        assert other_province is not None and other_province.parent is not None
        hanoi = commune_id(session, "Phường Ba Đình", "Thành phố Hà Nội")
        outsider = session.get_one(Subscriber, add_subscribers(session, [2], area_id=hanoi)[0])
        audience = Audience(area_ids=(other_province.parent.id,))
        course, _ = create_course(
            session,
            course_draft(START, audience=audience),
            created_by="test",
            now=NOW,
            announce_at=None,
        )
        assert training.register(session, course.id, outsider, NOW).outcome == Outcome.NOT_FOR_YOU
        member = session.get_one(Subscriber, here)
        assert [c.id for c, _ in training.upcoming_for(session, member, NOW)] == [course.id]
        assert training.upcoming_for(session, outsider, NOW) == []


def test_schedule_and_cancel_course(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        course_id, (a, b, c, _) = setup(session)
        kinds = sorted(
            (bc.kind, bc.send_at - START)
            for bc in session.query(Broadcast).filter(Broadcast.course_id == course_id)
        )
        assert kinds == sorted(
            [
                ("training_announcement", NOW - START),
                ("training_reminder", -timedelta(days=3)),
                ("training_reminder", -timedelta(days=1)),
                ("training_reminder", -timedelta(hours=2)),
                ("training_rating", timedelta(hours=5)),
            ]
        )
        for member in (a, b, c):
            training.register(session, course_id, member, NOW)
        # A member who asks to be forgotten frees their seat for the next in line.
        assert free_seats(session, [a], NOW) == 1
        entry = training.registration(session, course_id, c.id)
        assert entry is not None and entry.status == RegistrationStatus.REGISTERED
        _, told = cancel_course(session, course_id, "Mưa bão", NOW)
        assert told == 2
        statuses = {
            bc.kind: bc.status
            for bc in session.query(Broadcast).filter(Broadcast.course_id == course_id)
        }
        assert statuses["training_reminder"] == BroadcastStatus.CANCELLED
        assert statuses["training_notice"] == BroadcastStatus.SCHEDULED  # the news goes out
        with pytest.raises(CourseProblem):
            cancel_course(session, course_id, None, NOW)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"starts_at": NOW - timedelta(hours=1)}, "the start is in the past"),
        ({"ends_at": START}, "the end must be after the start"),
        ({"deadline_at": START + timedelta(hours=1)}, "deadline"),
        ({"capacity": 0}, "capacity"),
        ({"place": None}, "give a place"),
        ({"online_url": "zoom.example"}, "http"),
    ],
)
def test_a_course_that_cannot_be(
    sessions: sessionmaker[Session], changes: dict[str, object], problem: str
) -> None:
    with sessions.begin() as session, pytest.raises(CourseProblem, match=problem):
        create_course(
            session, course_draft(START, **changes), created_by="t", now=NOW, announce_at=None
        )
