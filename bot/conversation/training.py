"""Let members list upcoming courses (/taphuan, /trainings), register, cancel and rate them.

Buttons carry Choice("trn", <letter><course id>): v view, r register, x ask to cancel,
y cancel, k keep the seat, l the list, s<id>.<stars> rate. They work at any step, as they
sit under broadcasts that arrive whenever. Members without buttons (Zalo Bot) type
/dangky 12 or /danhgia 12 5, as the broadcast's lines tell them.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import courses
from bot.conversation.events import Choice, Reply
from bot.conversation.turn import Turn
from db import training
from db.models import RegistrationStatus, SubscriberStatus, TrainingCourse, TrainingRegistration
from db.training import Outcome
from messages import training as say

SHORT_TITLE = 40


def trainings_command(turn: Turn) -> list[Reply]:
    """List upcoming courses for the member's area with their registration state."""
    if not _member_ok(turn):
        return [Reply(say.NOT_A_MEMBER)]
    return _list(turn)


def register_command(turn: Turn) -> list[Reply]:
    """Register by typing /dangky 12 (channels without buttons)."""
    words = turn.event.text.split()
    if not _member_ok(turn):
        return [Reply(say.NOT_A_MEMBER)]
    if len(words) != 1 or not words[0].isdigit():
        return [Reply(say.HOW_TO_REGISTER)]
    return _guarded(turn, int(words[0]), _register)


def rate_command(turn: Turn) -> list[Reply]:
    """Rate by typing /danhgia 12 5 (channels without buttons)."""
    words = turn.event.text.split()
    if not _member_ok(turn):
        return [Reply(say.NOT_A_MEMBER)]
    if len(words) != 2 or not all(w.isdigit() for w in words) or not 1 <= int(words[1]) <= 5:
        return [Reply(say.HOW_TO_RATE)]
    return _guarded(turn, int(words[0]), lambda t, c: _rate(t, c, int(words[1])))


def on_choice(turn: Turn, choice: Choice) -> list[Reply]:
    """Handle register, cancel, view and rate buttons, whatever step the member is in."""
    if not _member_ok(turn):
        return [Reply(say.NOT_A_MEMBER)]
    action, value = choice.value[:1], choice.value[1:]
    if action == "l":
        return _list(turn, edit=True)
    if action == "s":
        course_id, _, stars = value.partition(".")
        if not (course_id.isdigit() and stars.isdigit()):
            return [Reply(say.NO_SUCH_COURSE)]
        return _guarded(turn, int(course_id), lambda t, c: _rate(t, c, int(stars)))
    handler = ACTIONS.get(action)
    if handler is None or not value.isdigit():
        return [Reply(say.NO_SUCH_COURSE)]
    return _guarded(turn, int(value), handler)


def _member_ok(turn: Turn) -> bool:
    return turn.subscriber is not None and turn.subscriber.status == SubscriberStatus.ACTIVE


def _guarded(
    turn: Turn, course_id: int, handler: Callable[[Turn, TrainingCourse], list[Reply]]
) -> list[Reply]:
    try:
        course = training.get_course(turn.session, course_id)
    except LookupError:
        return [Reply(say.NO_SUCH_COURSE)]
    return handler(turn, course)


def _list(turn: Turn, *, edit: bool = False) -> list[Reply]:
    listed = training.upcoming_for(turn.session, turn.member, turn.now)
    if not listed:
        return [Reply(say.NO_COURSES, edit=edit)]
    lines = [
        (course, _state(turn, course, entry, training.seats_left(turn.session, course)))
        for course, entry in listed
    ]
    options = tuple(
        # The title alone: the list is numbered already, and so are the choices on Zalo.
        Choice("trn", f"v{course.id}").option(_short(course.title))
        for course, _ in listed
    )
    return [Reply(say.list_text(lines), options, edit=edit)]


def _short(title: str) -> str:
    return title if len(title) <= SHORT_TITLE else title[: SHORT_TITLE - 1].rstrip() + "…"


def _state(
    turn: Turn,
    course: TrainingCourse,
    entry: TrainingRegistration | None,
    left: int,
    *,
    on_card: bool = False,
) -> str:
    line = training.position(turn.session, entry) if entry is not None else 0
    return say.state_line(course, entry, left, line, turn.now, on_card=on_card)


def _view(turn: Turn, course: TrainingCourse) -> list[Reply]:
    entry = training.registration(turn.session, course.id, turn.member.id)
    left = training.seats_left(turn.session, course)  # counted once for the text and the state
    text = say.details(course, left, _state(turn, course, entry, left, on_card=True))
    holds = entry is not None and entry.status != RegistrationStatus.CANCELLED
    first = (
        Choice("trn", f"x{course.id}").option(say.CANCEL_BUTTON)
        if holds
        else Choice("trn", f"r{course.id}").option(say.REGISTER_BUTTON, "dang ky")
    )
    back = Choice("trn", "l").option(say.LIST_BUTTON, "danh sach")
    upcoming = turn.now < course.starts_at
    return [Reply(text, (first, back) if upcoming else (back,), edit=True)]


def _register(turn: Turn, course: TrainingCourse) -> list[Reply]:
    answer = training.register(turn.session, course.id, turn.member, turn.now)
    if answer.outcome == Outcome.SEATED:
        return [Reply(say.seated(course))]
    if answer.outcome == Outcome.WAITING:
        return [Reply(say.waiting(course, answer.position))]
    if answer.outcome == Outcome.ALREADY:
        entry = training.registration(turn.session, course.id, turn.member.id)
        status = entry.status.value if entry is not None else ""
        return [Reply(say.already(status, course, answer.position))]
    return [Reply(say.refused(answer.outcome.value, course))]


def _ask_cancel(turn: Turn, course: TrainingCourse) -> list[Reply]:
    options = (
        Choice("trn", f"y{course.id}").option(say.CONFIRM_CANCEL_BUTTON, "huy", "co"),
        Choice("trn", f"k{course.id}").option(say.KEEP_BUTTON, "khong"),
    )
    return [Reply(say.ask_cancel(course), options)]


def _cancel(turn: Turn, course: TrainingCourse) -> list[Reply]:
    answer = training.cancel(turn.session, course.id, turn.member, turn.now)
    if answer.promoted is not None:  # told through the outbox, on their own chat
        courses.notify(turn.session, course, [answer.promoted], say.promoted(course), turn.now)
    if answer.outcome == Outcome.SEATED:
        return [Reply(say.cancelled(course), edit=True)]
    if answer.outcome == Outcome.WAITING:
        return [Reply(say.left_line(course), edit=True)]
    return [Reply(say.refused(answer.outcome.value, course), edit=True)]


def _keep(turn: Turn, course: TrainingCourse) -> list[Reply]:
    return [Reply(say.KEEP_SEAT, edit=True)]


def _rate(turn: Turn, course: TrainingCourse, stars: int) -> list[Reply]:
    if not 1 <= stars <= 5:
        return [Reply(say.HOW_TO_RATE)]
    answer = training.rate(turn.session, course.id, turn.member, stars, turn.now)
    if answer.outcome != Outcome.SEATED:
        return [Reply(say.refused(answer.outcome.value, course))]
    return [Reply(say.thanks_for_rating(stars))]


ACTIONS: dict[str, Callable[[Turn, TrainingCourse], list[Reply]]] = {
    "v": _view,
    "r": _register,
    "x": _ask_cancel,
    "y": _cancel,
    "k": _keep,
}
