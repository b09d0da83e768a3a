"""Keep polls and their answers: one answer a member, changeable until the poll closes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from db.models import Area, Poll, PollAnswer, PollStatus, Subscriber


class PollClosed(ValueError):
    """An answer to a poll that no longer takes answers."""


@dataclass(frozen=True)
class PollResults:
    """How a poll was answered: per option overall, and per province and option."""

    poll: Poll
    totals: list[int]  # answers per option, in the options' order
    by_province: dict[str, list[int]]  # province name -> answers per option

    @property
    def answers(self) -> int:
        """Return how many members answered."""
        return sum(self.totals)


def get_poll(session: Session, poll_id: int) -> Poll:
    """Return one poll, or raise LookupError."""
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise LookupError(f"poll {poll_id} does not exist")
    return poll


def list_polls(session: Session, *, limit: int = 50) -> list[Poll]:
    """Return the latest polls, newest first."""
    return list(session.scalars(select(Poll).order_by(Poll.id.desc()).limit(limit)))


def is_open(poll: Poll, now: datetime) -> bool:
    """Tell whether a poll still takes answers (open, and its closing time not passed)."""
    return poll.status is PollStatus.OPEN and (poll.closes_at is None or now < poll.closes_at)


def answer(
    session: Session, poll: Poll, member: Subscriber, choice: int, now: datetime
) -> int | None:
    """Record a member's answer; return the choice it replaces, or None for a first answer."""
    if not is_open(poll, now):
        raise PollClosed(f"poll {poll.id} is closed")
    if not 0 <= choice < len(poll.options):
        raise ValueError(f"poll {poll.id} has no option {choice + 1}")
    given = session.get(PollAnswer, (poll.id, member.id))
    if given is None:
        session.add(
            PollAnswer(
                poll_id=poll.id,
                subscriber_id=member.id,
                choice=choice,
                area_id=member.area_id,
                answered_at=now,
            )
        )
        return None
    before = given.choice
    given.choice, given.answered_at = choice, now
    return before


def my_answer(session: Session, poll: Poll, member: Subscriber) -> int | None:
    """Return the option a member chose, if any."""
    given = session.get(PollAnswer, (poll.id, member.id))
    return None if given is None else given.choice


def close_poll(session: Session, poll: Poll, now: datetime) -> None:
    """Close a poll: its results are final."""
    if poll.status is PollStatus.CLOSED:
        raise PollClosed(f"poll {poll.id} is already closed")
    poll.status, poll.closed_at = PollStatus.CLOSED, now


def close_due(session: Session, now: datetime) -> list[int]:
    """Close every open poll whose closing time has passed; return their ids."""
    query = select(Poll).where(Poll.status == PollStatus.OPEN, Poll.closes_at <= now)
    due = list(session.scalars(query))
    for poll in due:
        poll.status, poll.closed_at = PollStatus.CLOSED, poll.closes_at
    return [p.id for p in due]


def results(session: Session, poll: Poll, area_ids: set[int] | None = None) -> PollResults:
    """Count a poll's answers per option, overall and per province (in these areas, if given)."""
    commune = aliased(Area)
    province = func.coalesce(commune.parent_id, commune.id)
    query = (
        select(province, PollAnswer.choice, func.count())
        .select_from(PollAnswer)
        .outerjoin(commune, commune.id == PollAnswer.area_id)
        .where(PollAnswer.poll_id == poll.id)
        .group_by(province, PollAnswer.choice)
    )
    if area_ids is not None:
        query = query.where(PollAnswer.area_id.in_(area_ids))
    rows = list(session.execute(query))
    names = _names(session, {row[0] for row in rows if row[0] is not None})
    totals = [0] * len(poll.options)
    by_province: dict[str, list[int]] = {}
    for province_id, choice, count in rows:
        if not 0 <= choice < len(totals):
            continue
        totals[choice] += count
        name = names.get(province_id, "Chưa rõ địa bàn")
        by_province.setdefault(name, [0] * len(totals))[choice] += count
    return PollResults(poll, totals, dict(sorted(by_province.items())))


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Area.id, Area.name).where(Area.id.in_(ids))).all())
