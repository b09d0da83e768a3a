"""Ask for consent, role, cooperative and topics: the rest of registration."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import linking
from bot.conversation.answers import no_option, yes_option
from bot.conversation.events import Choice, Option, Reply
from bot.conversation.flow import CHOICES, PROMPTS, TEXT_STEPS, advance, missing_steps
from bot.conversation.turn import Turn
from db.cooperatives import find_cooperatives
from db.models import Cooperative, Role, Topic
from db.subscribers import forget_subscriber, record_consent, set_topics
from messages import member as say
from messages import understand


def prompt_consent(turn: Turn) -> list[Reply]:
    """Show what is stored and why, and ask for explicit agreement."""
    options = (
        yes_option(Choice("consent", "yes"), say.AGREE),
        no_option(Choice("consent", "no"), say.DECLINE),
    )
    return [Reply(say.CONSENT_NOTICE, options)]


def on_consent(turn: Turn, choice: Choice) -> list[Reply]:
    """Record consent and start the questions, or forget the chat at once if declined."""
    if choice.value != "yes":
        forget_subscriber(turn.session, turn.member)
        turn.subscriber = None
        return [Reply(say.DECLINED)]
    member, event = turn.member, turn.event
    record_consent(
        turn.session,
        member,
        purpose=say.CONSENT_PURPOSE,
        notice_version=say.CONSENT_VERSION,
        notice_sha256=say.CONSENT_SHA256,
        now=turn.now,
        evidence={
            "channel": event.channel.value,
            "ref": event.ref,
            "answer": "agree",
            "how": event.kind.value,
        },
    )
    member.consent_at = turn.now
    member.display_name = event.display_name
    if turn.data.get("link"):  # came with a code from their other channel: take that profile
        return linking.after_consent(turn)
    notes = _apply_invite(turn, turn.data.get("invite"))
    turn.set_state("consent", todo=missing_steps(member))
    return [*notes, *advance(turn)]


def _apply_invite(turn: Turn, coop_id: int | None) -> list[Reply]:
    """Place a member who came through an invitation link in that cooperative and its commune."""
    coop = turn.session.get(Cooperative, coop_id) if coop_id else None
    if coop is None:
        return []
    member = turn.member
    member.cooperative_id, member.cooperative = coop.id, coop
    if member.area_id is None:
        member.area_id, member.area = coop.area_id, coop.area
    return [Reply(say.joined_coop(coop.name))]


def prompt_role(turn: Turn) -> list[Reply]:
    """Ask what the member is."""
    options = tuple(Choice("role", r.value).option(label) for r, label in say.ROLE_LABELS.items())
    return [Reply(say.ASK_ROLE, options)]


def on_role(turn: Turn, choice: Choice) -> list[Reply]:
    """Store the role picked."""
    if choice.value not in Role._value2member_map_:
        return prompt_role(turn)
    turn.member.role = Role(choice.value)
    return [Reply(say.chosen(say.ROLE_LABELS[turn.member.role])), *advance(turn)]


def prompt_coop(turn: Turn) -> list[Reply]:
    """Ask for the cooperative by name; it may be skipped."""
    return [Reply(say.ASK_COOP, (_skip(),))]


def _skip(*, no: bool = True) -> Option:
    """Move on without a cooperative: "Bỏ qua", "không có", or "không" where it is the no."""
    choice = Choice("coop", "skip")
    skip = (
        no_option(choice, say.SKIP, "khong co", "khong thuoc")
        if no
        else choice.option(say.SKIP, "khong co", "khong thuoc")
    )
    return replace(skip, aside=True)  # the cooperative's name is the answer


def on_coop_text(turn: Turn) -> list[Reply]:
    """Find the cooperative typed in the member's province, the member's commune first."""
    member, text = turn.member, turn.event.text.strip()
    area = member.area
    province_id = area.parent_id if area is not None else None
    skip = _skip()
    if province_id is None:
        return [Reply(say.coop_not_found(text, "tỉnh của anh/chị"), (skip,))]
    matches = find_cooperatives(turn.session, text, province_id, member.area_id)
    exact = [m.item for m in matches if m.grade == 0]
    if len(exact) == 1:
        return _set_coop(turn, exact[0])
    if not matches:
        province = area.parent.name if area is not None and area.parent else ""
        return [Reply(say.coop_not_found(text, province), (skip,))]
    if len(matches) == 1:  # one suggestion: "đúng" takes it, "không" moves on without one
        coop = matches[0].item
        pick = yes_option(Choice("coop", str(coop.id)), understand.pick(coop.name))
        retype = no_option(Choice("recoop"), understand.RETYPE)
        reply = Reply(understand.did_you_mean_one(text, coop.name), (pick, retype, _skip(no=False)))
        return [reply]
    options = tuple(_coop_option(m.item) for m in matches)
    return [Reply(say.did_you_mean("HTX", text), (*options, skip))]


def _coop_option(coop: Cooperative) -> Option:
    return Choice("coop", str(coop.id)).option(f"{coop.name} ({coop.area.name})")


def on_coop_choice(turn: Turn, choice: Choice) -> list[Reply]:
    """Take the cooperative picked, or move on without one."""
    if choice.value == "skip":
        turn.member.cooperative_id = None
        return advance(turn)
    coop = turn.session.get(Cooperative, int(choice.value)) if choice.value.isdigit() else None
    return _set_coop(turn, coop) if coop else prompt_coop(turn)


def on_retype_coop(turn: Turn, choice: Choice) -> list[Reply]:
    """The member said no to the cooperative suggested: ask again."""
    return prompt_coop(turn)


def _set_coop(turn: Turn, coop: Cooperative) -> list[Reply]:
    turn.member.cooperative_id, turn.member.cooperative = coop.id, coop
    return [Reply(say.chosen(coop.name)), *advance(turn)]


def prompt_topics(turn: Turn, *, edit: bool = False) -> list[Reply]:
    """Show the topics as toggles; a new member starts with all of them chosen."""
    data = turn.data
    if "topics" not in data:
        current = turn.member.topic_set or set(Topic)
        turn.update_data(topics=sorted(current))
    selected = set(turn.data["topics"])
    toggles = [
        Choice("topic", t.value).option(("✅ " if t.value in selected else "⬜ ") + label)
        for t, label in say.TOPIC_LABELS.items()
    ]
    options = (*toggles, Choice("topic", "done").option(say.DONE, "xong roi"))
    return [Reply(say.ASK_TOPICS, options, edit=edit)]


def on_topic(turn: Turn, choice: Choice) -> list[Reply]:
    """Toggle a topic, or save the chosen ones when the member presses Done."""
    selected = set(turn.data.get("topics", []))
    if choice.value == "done":
        if not selected:
            return [Reply(say.NEED_TOPIC), *prompt_topics(turn)]
        set_topics(turn.member, (Topic(t) for t in selected))
        return advance(turn)
    if choice.value in Topic._value2member_map_:
        selected ^= {choice.value}
        turn.update_data(topics=sorted(selected))
    return prompt_topics(turn, edit=turn.event.kind == "choice")


PROMPTS.update(consent=prompt_consent, role=prompt_role, coop=prompt_coop, topics=prompt_topics)
TEXT_STEPS.update(coop=on_coop_text)
CHOICES.update(
    consent=("consent", on_consent),
    role=("role", on_role),
    coop=("coop", on_coop_choice),
    recoop=("coop", on_retype_coop),
    topic=("topics", on_topic),
)
