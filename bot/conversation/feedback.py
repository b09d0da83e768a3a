"""Hear members: what they write (linked to the broadcast it answers), their reactions, their
poll answers and the guided "Báo khó khăn"; flagged texts reach the area's officers at once.

Button values: "fb|<broadcast>.u" useful, "fb|<broadcast>.c" unclear; "poll|<poll>.<n>" an
option from 1; "dk|<category>" a difficulty's category, "dkx|" no photo to add.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.conversation.events import Choice, EventKind, Reply
from bot.conversation.flow import CHOICES, PHOTO_STEPS, PROMPTS, TEXT_STEPS, place
from bot.conversation.turn import Turn
from bot.polls import ACTION as POLL
from db import feedback as store
from db.feedback import Triaged
from db.models import Broadcast, Feedback, FeedbackKind, Poll, ReactionValue
from db.polls import PollClosed, answer
from db.textmatch import fold
from messages import feedback as say
from messages import member as say_member
from messages.triage import rules_in_use

log = logging.getLogger(__name__)

REACT, DIFFICULTY, DONE = "fb", "dk", "dkx"
LIMIT = 2000  # characters kept of one message: the rest is asked for again, never silently lost
FLOOD_WINDOW = timedelta(minutes=1)
FLOOD_LIMIT = 8  # messages a minute answered one by one; beyond, kept and answered once


def reaction_buttons(broadcast_id: int) -> list[dict[str, str]]:
    """Make the two one-tap reactions under a broadcast, side by side, with what to type."""
    return [
        {
            "label": label,
            "data": Choice(REACT, f"{broadcast_id}.{code}").pack(),
            "typed": f"/{word} {broadcast_id}",
            "row": "reactions",
        }
        for label, code, word in ((say.USEFUL, "u", "huuich"), (say.UNCLEAR, "c", "chuaro"))
    ]


# --- what members write -------------------------------------------------------------


def on_text(turn: Turn, broadcast_id: int | None = None) -> list[Reply]:
    """Keep a registered member's text, linked and triaged, and thank them (or slow them down)."""
    member, event = turn.member, turn.event
    recent = store.count_feedback(turn.session, member, turn.now - FLOOD_WINDOW)
    text = event.text.strip()
    kept = text[:LIMIT]
    if broadcast_id is None:
        broadcast_id = store.answered_broadcast(turn.session, member, event.reply_to, turn.now)
    item = _store(turn, kept, broadcast_id=broadcast_id)
    if recent >= FLOOD_LIMIT:  # kept all the same; one polite word, then quiet
        log.info("subscriber %s is sending fast (%s a minute)", member.id, recent + 1)
        return [Reply(say.SLOW_DOWN)] if recent == FLOOD_LIMIT else []
    replies = [Reply(_thanks(turn, broadcast_id))]
    if len(text) > LIMIT:
        replies.append(
            Reply(say.TOO_LONG.format(kept=f"{LIMIT:,}".replace(",", "."), tail=kept[-30:]))
        )
    return replies + notices(turn, item)


def _thanks(turn: Turn, broadcast_id: int | None) -> str:
    broadcast = turn.session.get(Broadcast, broadcast_id) if broadcast_id else None
    if broadcast is None:
        return say.THANKS
    return say.THANKS_ABOUT.format(gist=say.gist(broadcast.text, broadcast.templated, 50))


def _store(
    turn: Turn,
    text: str,
    *,
    broadcast_id: int | None = None,
    kind: FeedbackKind = FeedbackKind.MESSAGE,
    category: str | None = None,
    photo: str | None = None,
) -> Feedback:
    found = rules_in_use(turn.rules).triage(text, category)
    return store.add_feedback(
        turn.session,
        turn.member,
        text,
        turn.now,
        Triaged(found.topic, found.flags),
        broadcast_id=broadcast_id,
        kind=kind,
        category=category,
        photo=photo,
    )


def notices(turn: Turn, item: Feedback) -> list[Reply]:
    """Tell the officers of the member's area at once about a flagged message."""
    if not item.flagged:
        return []
    rules = rules_in_use(turn.rules)
    member = turn.member
    text = say.FLAGGED.format(
        id=item.id,
        flags=", ".join(rules.label(flag) for flag in item.flags),
        member=member.display_name or say.NO_NAME.format(id=member.id),
        place=place(member.area) or say.UNKNOWN_PLACE,
        text=say.shorten(item.text, length=300),  # plain text: as the member typed it
    )
    officers = store.area_officers(turn.session, member.area)
    log.warning("feedback %s flagged %s; telling %s officers", item.id, item.flags, len(officers))
    return [Reply(text, chat=o.user_id, channel=o.channel) for o in officers]


# --- reactions ----------------------------------------------------------------------


def on_reaction(turn: Turn, choice: Choice) -> list[Reply]:
    """Count a tap on "Hữu ích" or "Chưa rõ"; "Chưa rõ" asks what was unclear."""
    head, _, code = choice.value.partition(".")
    if not head.isdigit() or code not in ("u", "c"):
        return [Reply(say_member.STALE_BUTTON, keep=True)]
    return _react(turn, int(head), ReactionValue.USEFUL if code == "u" else ReactionValue.UNCLEAR)


def _react(turn: Turn, broadcast_id: int, value: ReactionValue) -> list[Reply]:
    if not _registered(turn):
        return [Reply(say_member.NOT_REGISTERED)]
    try:
        before = store.react(turn.session, turn.member, broadcast_id, value, turn.now)
    except LookupError:
        return [Reply(say.REACTION_GONE, keep=True)]
    if value is ReactionValue.UNCLEAR:
        turn.set_state("unclear", broadcast=broadcast_id)
        return [Reply(say.ASK_UNCLEAR, keep=True)]
    if before is not None and before is not value:
        return [Reply(say.REACTION_CHANGED.format(value=say.USEFUL), keep=True)]
    return [Reply(say.THANKS_USEFUL, keep=True)]


def typed_reaction(value: ReactionValue) -> Callable[[Turn], list[Reply]]:
    """Make the /huuich and /chuaro commands, for channels without buttons."""

    def command(turn: Turn) -> list[Reply]:
        number = fold(turn.event.text)
        if not number.isdigit():
            return [Reply(say.TYPED_REACTION)]
        return _react(turn, int(number), value)

    return command


def on_unclear_text(turn: Turn) -> list[Reply]:
    """Keep the question a member has about a broadcast they found unclear."""
    broadcast_id = turn.data.get("broadcast")
    turn.set_state("idle")
    return on_text(turn, broadcast_id=broadcast_id)


# --- polls --------------------------------------------------------------------------


def on_poll(turn: Turn, choice: Choice) -> list[Reply]:
    """Record a poll answer from its button: one a member, changeable while it is open."""
    poll_id, _, number = choice.value.partition(".")
    if not (poll_id.isdigit() and number.isdigit()):
        return [Reply(say.POLL_UNKNOWN, keep=True)]
    return _answer(turn, int(poll_id), int(number))


def poll_command(turn: Turn) -> list[Reply]:
    """Answer a poll by typing: /binhchon 3 2 (for channels without buttons)."""
    words = fold(turn.event.text).split()
    if len(words) != 2 or not all(w.isdigit() for w in words):
        return [Reply(say.POLL_TYPED)]
    return _answer(turn, int(words[0]), int(words[1]))


def _answer(turn: Turn, poll_id: int, number: int) -> list[Reply]:
    if not _registered(turn):
        return [Reply(say_member.NOT_REGISTERED)]
    poll = turn.session.get(Poll, poll_id)
    if poll is None or not 1 <= number <= len(poll.options):
        return [Reply(say.POLL_UNKNOWN, keep=True)]
    option = poll.options[number - 1]
    try:
        before = answer(turn.session, poll, turn.member, number - 1, turn.now)
    except PollClosed:
        return [Reply(say.POLL_CLOSED, keep=True)]
    if before is None:
        return [Reply(say.POLL_ANSWERED.format(option=option), keep=True)]
    if before == number - 1:
        return [Reply(say.POLL_SAME.format(option=option), keep=True)]
    text = say.POLL_CHANGED.format(before=poll.options[before], option=option)
    return [Reply(text, keep=True)]


# --- "Báo khó khăn" -------------------------------------------------------------------


def difficulty_command(turn: Turn) -> list[Reply]:
    """Start the guided report of a difficulty: the category first."""
    if not _registered(turn):
        return [Reply(say_member.NOT_REGISTERED)]
    turn.set_state("difficulty")
    return ask_category(turn)


def ask_category(turn: Turn) -> list[Reply]:
    """Offer the categories of difficulty."""
    options = tuple(
        Choice(DIFFICULTY, key).option(label, key.replace("_", " "))
        for key, label in rules_in_use(turn.rules).categories
    )
    return [Reply(say.DIFFICULTY_ASK, options, columns=2)]


def on_category(turn: Turn, choice: Choice) -> list[Reply]:
    """Take the category and ask for the description."""
    rules = rules_in_use(turn.rules)
    if choice.value not in dict(rules.categories):
        return ask_category(turn)
    turn.set_state("difficulty_text", category=choice.value)
    return _ask_description(turn)


def _ask_description(turn: Turn) -> list[Reply]:
    label = rules_in_use(turn.rules).label(turn.data.get("category", "khac"))
    return [Reply(say.DIFFICULTY_DESCRIBE.format(category=label))]


def on_description(turn: Turn) -> list[Reply]:
    """Keep the difficulty (with a photo sent before it), then offer to add a photo."""
    event, data = turn.event, turn.data
    text = event.text.strip()
    if event.photo is not None and not text:  # a photo alone: keep it, ask for words
        turn.update_data(photo=event.photo)
        return [Reply(say.DIFFICULTY_NEED_TEXT)]
    category = data.get("category", "khac")
    item = _store(
        turn,
        text[:LIMIT],
        kind=FeedbackKind.DIFFICULTY,
        category=category,
        photo=event.photo or data.get("photo"),
    )
    label = rules_in_use(turn.rules).label(category)
    if item.photo is not None:  # nothing more to ask
        turn.set_state("idle")
        saved = Reply(say.DIFFICULTY_SAVED_PHOTO.format(id=item.id, category=label))
    else:
        turn.set_state("difficulty_photo", feedback=item.id)
        done = Choice(DONE, "").option(say.DONE, "xong", "khong", "khong co")
        saved = Reply(say.DIFFICULTY_SAVED.format(id=item.id, category=label), (done,))
    return [saved, *notices(turn, item)]


def on_more(turn: Turn) -> list[Reply]:
    """Add a photo, or more words, to the difficulty just reported."""
    item = turn.session.get(Feedback, turn.data.get("feedback", 0))
    if item is None or item.subscriber_id != turn.member.id:
        turn.set_state("idle")
        return on_text(turn)
    if turn.event.photo is not None:
        item.photo = turn.event.photo
        turn.set_state("idle")
        return [Reply(say.DIFFICULTY_PHOTO_SAVED.format(id=item.id))]
    item.text = f"{item.text}\n{turn.event.text.strip()}"[: LIMIT * 2]
    return [Reply(say.DIFFICULTY_MORE_SAVED.format(id=item.id))]


def on_done(turn: Turn, choice: Choice) -> list[Reply]:
    """Finish a difficulty report without a photo."""
    turn.set_state("idle")
    return [Reply(say.DIFFICULTY_DONE)]


def cancel_command(turn: Turn) -> list[Reply]:
    """Drop a report being written (/huy)."""
    member = turn.subscriber
    if member is None or not (
        member.conv_state.startswith("difficulty") or member.conv_state == "unclear"
    ):
        return [Reply(say_member.HELP)]
    turn.set_state("idle")
    return [Reply(say.DIFFICULTY_CANCELLED)]


def _registered(turn: Turn) -> bool:
    return turn.subscriber is not None and turn.subscriber.consent_at is not None


def is_photo(turn: Turn) -> bool:
    """Tell whether the event is a photo (which only some steps read)."""
    return turn.event.kind is EventKind.OTHER and turn.event.photo is not None


COMMANDS = {
    "khokhan": difficulty_command,
    "baokhokhan": difficulty_command,
    "binhchon": poll_command,
    "huuich": typed_reaction(ReactionValue.USEFUL),
    "chuaro": typed_reaction(ReactionValue.UNCLEAR),
    "huy": cancel_command,
}
ANYTIME = {REACT: on_reaction, POLL: on_poll}
PROMPTS.update(
    difficulty=ask_category,
    difficulty_text=_ask_description,
    unclear=lambda turn: [Reply(say.ASK_UNCLEAR)],
)
TEXT_STEPS.update(difficulty_text=on_description, difficulty_photo=on_more, unclear=on_unclear_text)
PHOTO_STEPS.update(difficulty_text=on_description, difficulty_photo=on_more)
CHOICES.update({DIFFICULTY: ("difficulty", on_category), DONE: ("difficulty_photo", on_done)})
