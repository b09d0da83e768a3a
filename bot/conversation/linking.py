"""Link a member's channels (/lienket) and keep a phone number for ZNS (/sdt), with consent."""

from __future__ import annotations

import re
from datetime import timedelta

import phonenumbers
from sqlalchemy import select

from bot.conversation.events import Choice, Reply
from bot.conversation.flow import (
    CHOICES,
    PROMPTS,
    TEXT_STEPS,
    advance,
    is_registered,
    missing_steps,
)
from bot.conversation.turn import Turn
from db import people
from db.models import Consent, Subscriber
from db.subscribers import create_pending, record_consent
from messages import linking as say
from messages import member as say_member

MAX_BAD_CODES = 5  # wrong codes before a pause: six digits must not be guessable by trying


def link_command(turn: Turn) -> list[Reply]:
    """Answer /lienket: give a code on a registered channel, or take one on a new channel."""
    code = re.sub(r"\D", "", turn.event.text)
    member = turn.subscriber
    if not code:
        if member is None or not is_registered(member):
            return [Reply(say.LINK_NEEDS_REGISTRATION)]
        code = people.issue_code(turn.session, member, turn.now)
        return [Reply(say.link_code(code, people.preferred(turn.session, member).channel))]
    if member is None:
        event = turn.event
        member = turn.subscriber = create_pending(
            turn.session, event.channel, event.chat_id, turn.now
        )
    if member.consent_at is None:  # agree here first; the code is used right after
        turn.set_state("consent", link=code)
        return [Reply(say_member.WELCOME), *PROMPTS["consent"](turn)]
    turn.update_data(link=code)
    return after_consent(turn)


def after_consent(turn: Turn) -> list[Reply]:
    """Use the code the member brought: join them to the person it was issued to."""
    member, data = turn.member, turn.data
    code, fails = str(data.get("link", "")), list(data.get("link_fails", []))
    recent = [f for f in fails if f > (turn.now - timedelta(minutes=15)).timestamp()]
    keep = {k: v for k, v in data.items() if k not in ("link", "link_fails")}
    if len(recent) >= MAX_BAD_CODES:
        turn.set_state(member.conv_state, **keep, link_fails=recent)
        return [Reply(say.LINK_TOO_MANY)]
    owner = people.redeem_code(turn.session, code, turn.now)
    if owner is None or owner.id == member.id:
        turn.set_state(member.conv_state, **keep, link_fails=[*recent, turn.now.timestamp()])
        return [Reply(say.LINK_BAD_CODE), *_not_linked(turn)]
    if owner.channel == member.channel:
        turn.set_state(member.conv_state, **keep)
        return [Reply(say.LINK_SAME_CHANNEL), *_not_linked(turn)]
    people.link(turn.session, owner, member)
    turn.set_state("idle")
    preferred = people.preferred(turn.session, owner)
    options = (
        Choice("link", "here").option(say.LINK_HERE),
        Choice("link", "keep").option(say.LINK_KEEP),
    )
    return [Reply(say.linked(owner.channel, preferred.channel), options)]


def _not_linked(turn: Turn) -> list[Reply]:
    """After a bad code: go on registering here, or ask again what the step was asking."""
    member = turn.member
    if member.conv_state == "consent" and member.consent_at is not None:
        turn.set_state("consent", todo=missing_steps(member))
        return advance(turn)
    prompt = PROMPTS.get(member.conv_state)
    return prompt(turn) if prompt is not None else []


def on_link(turn: Turn, choice: Choice) -> list[Reply]:
    """Send broadcasts to this channel from now on, or keep them where they went."""
    if choice.value != "here" or turn.member.person_id is None:
        return [Reply(say.KEPT)]
    people.prefer(turn.session, turn.member)
    return [Reply(say.now_here(turn.member.channel))]


def phone_command(turn: Turn) -> list[Reply]:
    """Answer /sdt: show the number kept, or ask for one (also given right after the command)."""
    member = turn.subscriber
    if member is None or not is_registered(member):
        return [Reply(say_member.UNFINISHED if member else say_member.NOT_REGISTERED)]
    if turn.event.text.strip():
        return on_phone_text(turn)
    if member.phone and member.phone_consent_at:
        options = (
            Choice("phone", "change").option(say.PHONE_CHANGE),
            Choice("phone", "delete").option(say.PHONE_DELETE, "xoa"),
        )
        turn.set_state("idle")
        return [Reply(say.phone_shown(say.national(member.phone)), options)]
    return prompt_phone(turn)


def prompt_phone(turn: Turn) -> list[Reply]:
    """Ask for the number."""
    turn.set_state("phone")
    return [Reply(say.ASK_PHONE)]


def on_phone_text(turn: Turn) -> list[Reply]:
    """Read a typed number and ask for consent to use it."""
    typed = turn.event.text.strip()
    phone = normalise_phone(typed)
    if phone is None:
        turn.set_state("phone")
        return [Reply(say.BAD_PHONE.format(typed=typed[:30]))]
    turn.set_state("phone_consent", phone=phone)
    options = (
        Choice("phonec", "yes").option(say.PHONE_AGREE, "dong y", "co"),
        Choice("phonec", "no").option(say.PHONE_DECLINE, "khong"),
    )
    return [Reply(say.PHONE_NOTICE.format(phone=say.national(phone)), options)]


def on_phone_consent(turn: Turn, choice: Choice) -> list[Reply]:
    """Keep the number with the evidence of consent, or forget it."""
    phone = str(turn.data.get("phone", ""))
    turn.set_state("idle")
    if choice.value != "yes" or not phone:
        return [Reply(say.PHONE_DECLINED)]
    member, event = turn.member, turn.event
    record_consent(
        turn.session,
        member,
        purpose=say.PHONE_PURPOSE,
        notice_version=say.PHONE_NOTICE_VERSION,
        notice_sha256=say.phone_notice_sha256(say.national(phone)),
        now=turn.now,
        evidence={"channel": event.channel.value, "ref": event.ref, "answer": "agree"},
    )
    member.phone, member.phone_consent_at = phone, turn.now
    return [Reply(say.phone_saved(say.national(phone)))]


def on_phone(turn: Turn, choice: Choice) -> list[Reply]:
    """Change or delete the number kept."""
    if choice.value == "change":
        return prompt_phone(turn)
    withdraw_phone(turn.member, turn)
    return [Reply(say.PHONE_DELETED)]


def withdraw_phone(member: Subscriber, turn: Turn) -> None:
    """Delete the number and mark the consent to use it withdrawn (the evidence stays)."""
    given = select(Consent).where(
        Consent.subscriber_id == member.id,
        Consent.purpose == say.PHONE_PURPOSE,
        Consent.withdrawn_at.is_(None),
    )
    for consent in turn.session.scalars(given):
        consent.withdrawn_at = turn.now
    member.phone = member.phone_consent_at = None
    turn.set_state("idle")


def normalise_phone(text: str) -> str | None:
    """Return a Vietnamese mobile number as Zalo wants it (84 and nine digits), or None."""
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        return None
    mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    if number.country_code != 84 or not mobile or not phonenumbers.is_valid_number(number):
        return None
    return f"84{number.national_number}"


PROMPTS.update(phone=prompt_phone)
TEXT_STEPS.update(phone=on_phone_text)
CHOICES.update(
    phonec=("phone_consent", on_phone_consent), phone=("idle", on_phone), link=("idle", on_link)
)
