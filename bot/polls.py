"""Create polls: a question and its options, sent to an audience with one button an option."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.conversation.events import Choice
from db.audience import Audience
from db.broadcasts import create_broadcast
from db.models import Poll, PollStatus
from messages import feedback as say
from messages.render import check_literal

ACTION = "poll"
MIN_OPTIONS, MAX_OPTIONS = 2, 5  # a Zalo OA message carries at most five buttons
MAX_OPTION = 40  # a button's label: longer is cut on phones
MAX_QUESTION = 500


class PollProblem(ValueError):
    """A poll that cannot be sent as written: in English for the CLI, in Vietnamese for staff."""

    def __init__(self, english: str, vietnamese: str) -> None:
        super().__init__(english)
        self.vietnamese = vietnamese


def check_poll(
    question: str, options: list[str], closes_at: datetime | None, now: datetime
) -> None:
    """Refuse a poll members could not answer well; say what to change."""
    if not question.strip():
        raise PollProblem("the question is empty", "Câu hỏi đang trống.")
    if len(question) > MAX_QUESTION:
        raise PollProblem(
            f"the question has {len(question)} characters; at most {MAX_QUESTION}",
            f"Câu hỏi dài quá ({len(question)} ký tự, tối đa {MAX_QUESTION}).",
        )
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise PollProblem(
            f"a poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options, not {len(options)}",
            f"Bình chọn cần từ {MIN_OPTIONS} đến {MAX_OPTIONS} lựa chọn.",
        )
    for number, option in enumerate(options, 1):
        if not option.strip() or len(option) > MAX_OPTION:
            raise PollProblem(
                f"option {number} must have 1 to {MAX_OPTION} characters",
                f"Lựa chọn {number} phải có từ 1 đến {MAX_OPTION} ký tự.",
            )
    if len({o.strip().casefold() for o in options}) != len(options):
        raise PollProblem("two options are the same", "Có hai lựa chọn trùng nhau.")
    if closes_at is not None and closes_at <= now:
        raise PollProblem("the closing time is in the past", "Thời điểm kết thúc bình chọn đã qua.")


def option_buttons(poll_id: int, options: list[str]) -> list[dict[str, str]]:
    """Make a poll's buttons: one an option, with what to type where a channel has none."""
    return [
        {
            "label": f"{number}. {option}",
            "data": Choice(ACTION, f"{poll_id}.{number}").pack(),
            "typed": f"/binhchon {poll_id} {number}",
        }
        for number, option in enumerate(options, 1)
    ]


def create_poll(
    session: Session,
    question: str,
    options: list[str],
    audience: Audience,
    *,
    created_by: str,
    now: datetime,
    tz: ZoneInfo,
    send_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Poll:
    """Store a poll and schedule the broadcast that asks it; the caller commits."""
    options = [o.strip() for o in options]
    check_poll(question, options, closes_at, now)
    poll = Poll(
        question=question.strip(),
        options=options,
        status=PollStatus.OPEN,
        created_by=created_by,
        created_at=now,
        closes_at=closes_at,
    )
    session.add(poll)
    session.flush()
    until = say.local(closes_at, tz) if closes_at is not None else None
    broadcast = create_broadcast(
        session,
        text=check_literal(say.poll_message(poll.question, options, until)),
        audience=audience,
        send_at=send_at or now,
        created_by=created_by,
        now=now,
        kind="poll",
        templated=False,
        buttons=option_buttons(poll.id, options),
        expires_at=closes_at,
    )
    poll.broadcast_id = broadcast.id
    return poll
