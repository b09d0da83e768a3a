"""Walk a member through consent, province, commune, role, cooperative and topics."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from bot.conversation.events import Choice, Option, Reply
from bot.conversation.turn import Turn
from db import areas as area_queries
from db.cooperatives import find_cooperatives
from db.models import (
    Area,
    AreaLevel,
    Cooperative,
    FormerArea,
    Role,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from db.subscribers import record_consent, set_topics
from db.textmatch import Match
from messages import member as say

Steps = list[str]


def missing_steps(member: Subscriber) -> Steps:
    """List the registration steps still to do, derived from what is stored."""
    steps: Steps = []
    if member.area_id is None:
        steps += ["province", "commune"]
    if member.role is None:
        steps.append("role")
    if not member.topics:
        if member.cooperative_id is None:
            steps.append("coop")
        steps.append("topics")
    return steps


def is_registered(member: Subscriber) -> bool:
    """Tell whether consent and every required answer are stored."""
    return member.consent_at is not None and not missing_steps(member)


def advance(turn: Turn) -> list[Reply]:
    """Go to the next step still to do, or finish registration or the profile edit."""
    data = turn.data
    todo: Steps = list(data.get("todo", []))
    editing = bool(data.get("editing"))
    if todo:
        state = todo.pop(0)
        # Working values (the province chosen, the topics ticked) live until the flow ends.
        turn.set_state(state, **{**data, "todo": todo, "editing": editing})
        return PROMPTS[state](turn)
    turn.set_state("idle")
    if editing:
        from bot.conversation.profile import show_profile  # profile shows after an edit

        return [Reply(say.SAVED), *show_profile(turn)]
    return _finish(turn)


def _finish(turn: Turn) -> list[Reply]:
    member = turn.member
    member.status = SubscriberStatus.ACTIVE
    member.stopped_at = None
    topics = [say.TOPIC_LABELS[t] for t in Topic if t in member.topic_set]
    return [Reply(say.registered(_place(member.area), topics))]


def _place(area: Area | None) -> str:
    if area is None:
        return ""
    return f"{area.name}, {area.parent.name}" if area.parent else area.name


# --- consent -------------------------------------------------------------------------------


def prompt_consent(turn: Turn) -> list[Reply]:
    """Show what is stored and why, and ask for explicit agreement."""
    options = (
        Choice("consent", "yes").option(say.AGREE, "dong y", "co", "ok", "yes"),
        Choice("consent", "no").option(say.DECLINE, "khong"),
    )
    return [Reply(say.CONSENT_NOTICE, options)]


def on_consent(turn: Turn, choice: Choice) -> list[Reply]:
    """Record consent and start the questions, or forget the chat at once if declined."""
    if choice.value != "yes":
        from db.subscribers import forget_subscriber

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
    member.display_name = event.display_name
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


# --- province and commune -----------------------------------------------------------------


def prompt_province(turn: Turn) -> list[Reply]:
    """Ask for the province by name."""
    return [Reply(say.ASK_PROVINCE)]


def on_province_text(turn: Turn) -> list[Reply]:
    """Find the province typed (current or merged in 2025), choose it or offer the closest."""
    text = turn.event.text.strip()
    found = area_queries.find_provinces(turn.session, text)
    exact = [m.item for m in found.areas if m.grade == 0]
    if len(exact) == 1:
        return _set_province(turn, exact[0], [])
    former = [m.item for m in found.former if m.grade == 0]
    if former and not exact:
        new = area_queries.successors_in(turn.session, former[0], None)
        if len(new) == 1:
            return _set_province(turn, new[0], [say.former_province(former[0].name, new[0].name)])
    options = _province_options(turn, found)
    if options:
        return [Reply(say.did_you_mean("tỉnh", text), options)]
    districts = area_queries.find_former_districts(turn.session, text)
    if districts:
        choices = tuple(_district_option(turn, m.item) for m in districts)
        return [Reply(say.did_you_mean_district(text), choices)]
    return [Reply(say.province_not_found(text))]


def _province_options(turn: Turn, found: area_queries.AreaFinding) -> tuple[Option, ...]:
    """Offer current provinces that matched, and those that absorbed a matching former one."""
    ranked = [(m.grade, m.item.id, m.item.name) for m in found.areas]
    for match in found.former:
        for new in area_queries.successors_in(turn.session, match.item, None):
            ranked.append((match.grade, new.id, f"{new.name} ({match.item.name} cũ)"))
    labels: dict[int, str] = {}
    for _, area_id, label in sorted(ranked, key=lambda r: r[0]):
        labels.setdefault(area_id, label)
    return tuple(Choice("prov", str(i)).option(label) for i, label in labels.items())


def _district_option(turn: Turn, district: FormerArea) -> Option:
    communes = area_queries.successors_in(turn.session, district, None)
    province = communes[0].parent.name if communes and communes[0].parent else ""
    where = f", {district.former_province} cũ" if district.former_province else ""
    return Choice("dist", str(district.id)).option(f"{district.name}{where} → {province}")


def on_district_choice(turn: Turn, choice: Choice) -> list[Reply]:
    """Take a former district picked at the province question: its province, then its communes."""
    district = turn.session.get(FormerArea, int(choice.value)) if choice.value.isdigit() else None
    communes = area_queries.successors_in(turn.session, district, None) if district else []
    if district is None or not communes or communes[0].parent is None:
        return prompt_province(turn)
    province = communes[0].parent
    turn.update_data(province_id=province.id)
    advance(turn)  # moves to the commune question; the district's communes replace its prompt
    in_province = [c for c in communes if c.parent_id == province.id]
    intro = say.former_district(district.name, district.former_province, len(in_province))
    return [
        Reply(say.chosen(province.name)),
        Reply(intro, _commune_options(in_province) + _back()),
    ]


def on_province_choice(turn: Turn, choice: Choice) -> list[Reply]:
    """Take the province picked from the offered list."""
    area = _area(turn, choice.value, AreaLevel.PROVINCE)
    return _set_province(turn, area, []) if area else prompt_province(turn)


def _set_province(turn: Turn, province: Area, notes: list[str]) -> list[Reply]:
    turn.update_data(province_id=province.id)
    note = " ".join([*notes, say.chosen(province.name)])
    return [Reply(note), *advance(turn)]


def _province(turn: Turn) -> Area | None:
    province_id = turn.data.get("province_id")
    if province_id is None and turn.member.area is not None:
        province_id = turn.member.area.parent_id
    return turn.session.get(Area, province_id) if province_id else None


def prompt_commune(turn: Turn) -> list[Reply]:
    """Ask for the commune within the chosen province, with a real example from it."""
    province = _province(turn)
    if province is None:  # state lost its province: ask again rather than guess
        turn.set_state("province", todo=["commune"], editing=turn.data.get("editing", False))
        return prompt_province(turn)
    return [Reply(say.ask_commune(province.name, _example(turn, province)), _back())]


def _example(turn: Turn, province: Area) -> str:
    name = turn.session.scalar(
        select(Area.name)
        .where(Area.parent_id == province.id, Area.division_type == "xã")
        .order_by(Area.code)
        .limit(1)
    )
    return (name or "Mỹ Sơn").removeprefix("Xã ")


def _back() -> tuple[Option, ...]:
    return (Choice("back", "province").option(say.BACK_TO_PROVINCE),)


def on_commune_text(turn: Turn) -> list[Reply]:
    """Find the commune typed in the province, or a former district and what it became."""
    province = _province(turn)
    if province is None:
        return prompt_commune(turn)
    text = turn.event.text.strip()
    found = area_queries.find_communes(turn.session, province.id, text)
    exact = [m.item for m in found.areas if m.grade == 0]
    district = next((m.item for m in found.former if m.grade == 0), None)
    if district is not None:
        successors = area_queries.successors_in(turn.session, district, province.id)
        ordered = exact + [a for a in successors if a not in exact]
        intro = say.former_district(district.name, district.former_province, len(successors))
        return [Reply(intro, _commune_options(ordered) + _back())]
    if len(exact) == 1:
        return _set_commune(turn, exact[0])
    if not found.areas:
        example = _example(turn, province)
        return [Reply(say.commune_not_found(text, province.name, example), _back())]
    return [Reply(say.did_you_mean("xã", text), _commune_options(_items(found.areas)) + _back())]


def _items(matches: list[Match[Area]]) -> list[Area]:
    return [m.item for m in matches]


def _commune_options(communes: list[Area]) -> tuple[Option, ...]:
    return tuple(Choice("comm", str(a.id)).option(a.name) for a in communes)


def on_commune_choice(turn: Turn, choice: Choice) -> list[Reply]:
    """Take the commune picked from the offered list."""
    area = _area(turn, choice.value, AreaLevel.COMMUNE)
    return _set_commune(turn, area) if area else prompt_commune(turn)


def on_back_to_province(turn: Turn, choice: Choice) -> list[Reply]:
    """Go back from the commune question to the province question."""
    data = turn.data
    turn.set_state(
        "province", todo=["commune", *data.get("todo", [])], editing=data.get("editing", False)
    )
    return prompt_province(turn)


def _set_commune(turn: Turn, commune: Area) -> list[Reply]:
    member = turn.member
    member.area_id, member.area = commune.id, commune
    return [Reply(say.chosen(_place(commune))), *advance(turn)]


def _area(turn: Turn, value: str, level: AreaLevel) -> Area | None:
    area = turn.session.get(Area, int(value)) if value.isdigit() else None
    return area if area is not None and area.level == level else None


# --- role, cooperative, topics ------------------------------------------------------------


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
    return [Reply(say.ASK_COOP, (Choice("coop", "skip").option(say.SKIP, "khong co"),))]


def on_coop_text(turn: Turn) -> list[Reply]:
    """Find the cooperative typed in the member's province, the member's commune first."""
    member, text = turn.member, turn.event.text.strip()
    area = member.area
    province_id = area.parent_id if area is not None else None
    skip = Choice("coop", "skip").option(say.SKIP, "khong co")
    if province_id is None:
        return [Reply(say.coop_not_found(text, "tỉnh của anh/chị"), (skip,))]
    matches = find_cooperatives(turn.session, text, province_id, member.area_id)
    exact = [m.item for m in matches if m.grade == 0]
    if len(exact) == 1:
        return _set_coop(turn, exact[0])
    if not matches:
        province = area.parent.name if area is not None and area.parent else ""
        return [Reply(say.coop_not_found(text, province), (skip,))]
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


PROMPTS: dict[str, Callable[[Turn], list[Reply]]] = {
    "consent": prompt_consent,
    "province": prompt_province,
    "commune": prompt_commune,
    "role": prompt_role,
    "coop": prompt_coop,
    "topics": prompt_topics,
}
TEXT_STEPS: dict[str, Callable[[Turn], list[Reply]]] = {
    "province": on_province_text,
    "commune": on_commune_text,
    "coop": on_coop_text,
}
CHOICES: dict[str, tuple[str, Callable[[Turn, Choice], list[Reply]]]] = {
    # action: (the step it answers, handler)
    "consent": ("consent", on_consent),
    "prov": ("province", on_province_choice),
    "dist": ("province", on_district_choice),
    "comm": ("commune", on_commune_choice),
    "back": ("commune", on_back_to_province),
    "role": ("role", on_role),
    "coop": ("coop", on_coop_choice),
    "topic": ("topics", on_topic),
}
