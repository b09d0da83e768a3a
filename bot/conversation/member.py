"""Route a member's event to the right step: the channel-neutral member conversation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.conversation import (  # noqa: F401 (they register steps)
    feedback,
    flow,
    linking,
    ocop,
    places,
    profile,
    registration,
    training,
)
from bot.conversation.answers import no_option, offers_yes, yes_option
from bot.conversation.events import BadChoice, Choice, EventKind, Inbound, Option, Reply
from bot.conversation.staff import STAFF_ONLY
from bot.conversation.turn import Turn
from db import people
from db.models import Channel, SubscriberStatus
from db.subscribers import get_subscriber
from db.textmatch import fold
from messages import linking as say_link
from messages import member as say
from messages import staff as say_staff
from messages import understand
from messages.words import Meaning, aliases, meanings

log = logging.getLogger(__name__)

COMMANDS: dict[str, Callable[[Turn], list[Reply]]] = {
    # Each command by its Vietnamese name (what /trogiup and Telegram's menu show) and its
    # English one; messages/member.py HELP lists them all.
    "batdau": profile.start,
    "start": profile.start,
    "dung": profile.stop,
    "stop": profile.stop,
    "hoso": profile.show_profile,
    "profile": profile.show_profile,
    "chude": profile.edit_topics,
    "topics": profile.edit_topics,
    "xoa": profile.ask_forget,
    "forget": profile.ask_forget,
    "trogiup": profile.show_help,
    "help": profile.show_help,
    "lienket": linking.link_command,
    "link": linking.link_command,
    "sdt": linking.phone_command,
    "phone": linking.phone_command,
    "ocop": ocop.ocop_command,
    "trainings": training.trainings_command,
    "taphuan": training.trainings_command,
    "dangky": training.register_command,
    "danhgia": training.rate_command,
    **feedback.COMMANDS,
}

MISSED_KEY = "missed"  # in conv_data: the last turn's replies did not all reach the member
QUIT = "quit"  # the offer to stop, made when a member writes "dừng nhận tin" as a message
PHONE_COMMANDS = frozenset({"sdt", "phone"})
# Buttons valid whatever step the member is in (under a profile, a broadcast, a list).
ANYTIME = {
    "prof": profile.on_profile,
    "ocop": ocop.on_choice,
    "trn": training.on_choice,
    **feedback.ANYTIME,
}


class MemberConversation:
    """The member conversation: one event in, the replies out, state kept on the subscriber."""

    def __init__(self, tz: ZoneInfo, *, phone: bool = False, rules: Path | None = None) -> None:
        self.tz = tz
        self.rules = rules
        # A phone number is asked for only when something uses it (a ZNS template): the law
        # asks for no more personal data than the purpose needs.
        self.phone = phone

    def handle(self, session: Session, event: Inbound, now: datetime) -> list[Reply]:
        """Handle one event inside the caller's unit of work and return what to answer."""
        member = get_subscriber(session, event.channel, event.chat_id)
        turn = Turn(session, event, now, self.tz, member, self.rules)
        missed: list[Reply] = []
        # Before typed words are read as the options shown: "dừng" is not "đúng".
        stop = self._offer_stop(turn)
        if member is not None:
            member.last_seen_at = now
            if member.consent_at is not None and event.display_name:
                member.display_name = event.display_name
            missed = self._missed(turn)
            turn = replace(turn, event=self._typed_choice(member.conv_data or {}, event))
        replies = stop or missed or self._route(turn)
        if turn.subscriber is not None:
            self._remember_options(turn, replies)
            if turn.subscriber.person_id is not None:  # the same person on other channels
                people.sync_person(session, turn.subscriber)
        return replies

    def _route(self, turn: Turn) -> list[Reply]:
        event = turn.event
        if event.kind == EventKind.COMMAND:
            # Staff commands reach here only from people who are not staff: refused, logged.
            if event.command in STAFF_ONLY:
                log.warning(
                    "staff command /%s from %s:%s, who is not staff; refused",
                    event.command,
                    event.channel,
                    event.chat_id,
                )
                return [Reply(say_staff.NOT_STAFF)]
            handler = COMMANDS.get(event.command or "")
            if event.command in PHONE_COMMANDS and not self.phone:
                return [Reply(say_link.PHONE_NOT_USED)]
            if handler is None:
                return [Reply(say.unknown_command(event.command or ""))]
            return handler(turn)
        if event.kind == EventKind.CHOICE:
            return self._choice(turn)
        if event.kind == EventKind.LEFT:
            return profile.left(turn)
        if event.kind == EventKind.OUT_OF_RANGE:
            shown = tuple(stored_options(turn.data))
            return [Reply(say.pick_a_number(event.text.strip(), len(shown)), shown)]
        member = turn.subscriber
        state = member.conv_state if member is not None else "idle"
        if event.kind == EventKind.OTHER:
            if event.photo is not None and state in flow.PHOTO_STEPS:
                return flow.PHOTO_STEPS[state](turn)
            return [Reply(say.ONLY_TEXT), *self._reprompt(turn, state)]
        if state in flow.TEXT_STEPS:
            return flow.TEXT_STEPS[state](turn)
        if state != "idle" and member is not None:  # a question with choices only
            again = self._reprompt(turn, state)
            return [Reply(understand.NOT_UNDERSTOOD), *again] if again else profile.feedback(turn)
        return profile.feedback(turn)

    def _offer_stop(self, turn: Turn) -> list[Reply]:
        """Answer "dừng nhận tin", "hủy đăng ký", "stop"… written as a message with an offer to
        stop: never stopped on a guess, never filed as feedback."""
        event = turn.event
        if event.kind is not EventKind.TEXT or Meaning.STOP not in meanings(event.text):
            return []
        shown = stored_options(turn.data) if turn.subscriber is not None else []
        if any(o.data.startswith(f"{QUIT}|") for o in shown):  # the offer is on screen: its answer
            return []
        if len(meanings(event.text)) > 1 and offers_yes(shown):  # "dung" to a question: đúng
            return []
        member = turn.subscriber
        if member is None or member.status == SubscriberStatus.STOPPED:
            return profile.stop(turn)  # says there is nothing to stop, and how to start
        options = (
            yes_option(Choice(QUIT, "yes"), understand.STOP_YES, *aliases(Meaning.STOP)),
            no_option(Choice(QUIT, "no"), understand.STOP_NO),
        )
        return [Reply(understand.STOP_OFFER, options)]

    def _quit(self, turn: Turn, choice: Choice) -> list[Reply]:
        """Stop at once after the offer, or go on where the member was."""
        if choice.value == "yes":
            return profile.stop(turn)
        return [Reply(understand.NOT_STOPPED), *self._reprompt(turn, turn.member.conv_state)]

    def _missed(self, turn: Turn) -> list[Reply]:
        """Ask again a question the member never got (its delivery failed): typed text is no
        answer to it. Commands and buttons go their way as usual."""
        member = turn.subscriber
        if member is None or not (member.conv_data or {}).get(MISSED_KEY):
            return []
        turn.update_data(**{MISSED_KEY: False})
        if turn.event.kind is not EventKind.TEXT:
            return []
        again = self._reprompt(turn, member.conv_state)
        return [Reply(say.MISSED), *again] if again else []

    def _choice(self, turn: Turn) -> list[Reply]:
        try:
            choice = Choice.unpack(turn.event.data)
        except BadChoice:
            log.warning("unreadable button data from a member: %r", turn.event.data)
            return self._stale(turn)
        if choice.action == QUIT and turn.subscriber is not None:
            return self._quit(turn, choice)
        if choice.action in ANYTIME and turn.subscriber is not None:
            return ANYTIME[choice.action](turn, choice)
        step, handler = flow.CHOICES.get(choice.action, ("", None))
        if handler is None or turn.subscriber is None or turn.member.conv_state != step:
            return self._stale(turn)
        return handler(turn, choice)

    def _stale(self, turn: Turn) -> list[Reply]:
        state = turn.subscriber.conv_state if turn.subscriber else "idle"
        return [Reply(say.STALE_BUTTON), *(self._reprompt(turn, state) or [Reply(say.HELP)])]

    def _reprompt(self, turn: Turn, state: str) -> list[Reply]:
        if state == "forget":
            return profile.ask_forget(turn)
        prompt = flow.PROMPTS.get(state)
        if prompt is None:
            return []
        if state == "consent":
            return [Reply(say.CONSENT_AGAIN), *prompt(turn)]
        return prompt(turn)

    @staticmethod
    def _typed_choice(data: dict[str, Any], event: Inbound) -> Inbound:
        """Turn typed text that names a shown option (its number or its words) into a choice."""
        options = stored_options(data)
        if event.kind != EventKind.TEXT or not options:
            return event
        picked = match_option(event.text, options)
        if picked is not None:
            return replace(event, kind=EventKind.CHOICE, data=picked.data)
        if fold(event.text).isdigit():  # a number that is not on the list: show the list again
            return replace(event, kind=EventKind.OUT_OF_RANGE)
        return event

    @staticmethod
    def _remember_options(turn: Turn, replies: list[Reply]) -> None:
        shown = next((r.options for r in reversed(replies) if r.options), ())
        stored = [[o.label, o.data, list(o.aliases), o.aside] for o in shown]
        turn.update_data(options=stored)


def mark_missed(session: Session, channel: Channel, chat_id: str) -> bool:
    """Note that a member did not get the last turn's replies: the next message asks again."""
    member = get_subscriber(session, channel, chat_id)
    if member is None:
        return False
    member.conv_data = {**(member.conv_data or {}), MISSED_KEY: True}
    return True


def stored_options(data: dict[str, Any]) -> list[Option]:
    """Return the options last shown to the member, as kept in the conversation state."""
    # [label, data, aliases, aside]; state written before `aside` existed has three items.
    return [
        Option(label, payload, tuple(aliases), bool(rest and rest[0]))
        for label, payload, aliases, *rest in data.get("options", [])
    ]


def match_option(text: str, options: list[Option]) -> Option | None:
    """Pick the option a person typed: its number, its label or an alias, in any accents."""
    typed = fold(text)
    if typed.isdigit():
        index = int(typed) - 1
        return options[index] if 0 <= index < len(options) else None
    words = {o.data: {fold(o.label), *(fold(a) for a in o.aliases)} for o in options}
    exact = [o for o in options if typed in words[o.data]]
    if len(exact) == 1:
        return exact[0]
    partial = [o for o in options if len(typed) >= 3 and f" {typed} " in f" {fold(o.label)} "]
    return partial[0] if len(partial) == 1 else None
