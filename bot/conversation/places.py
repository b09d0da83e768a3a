"""Ask where a member lives: province, then commune, by the names members still use.

Provinces by their names, what people call them ("TP HCM") or the province merged in 2025;
communes by their names, the commune of before 1/7/2025 (with what it became) or the district.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from bot.conversation.answers import no_option, yes_option
from bot.conversation.events import Choice, Option, Reply
from bot.conversation.flow import CHOICES, PROMPTS, TEXT_STEPS, advance, place
from bot.conversation.turn import Turn
from db import places
from db.models import Area, AreaLevel, FormerArea, FormerAreaLevel
from messages import member as say
from messages import understand

COMMUNE, DISTRICT = FormerAreaLevel.COMMUNE, FormerAreaLevel.DISTRICT


def prompt_province(turn: Turn) -> list[Reply]:
    """Ask for the province by name."""
    return [Reply(say.ASK_PROVINCE)]


def on_province_text(turn: Turn) -> list[Reply]:
    """Find the province typed (its name, what people call it, or one merged in 2025)."""
    text = turn.event.text.strip()
    found = places.provinces(turn.session, text)
    one = found.one()
    if one is not None:
        merged = [f for f in found.exact_former() if one in f.now] if not found.exact() else []
        notes = [say.former_province(merged[0].unit.name, one.name)] if merged else []
        return _set_province(turn, one, notes)
    options = _province_options(found)
    if len(options) == 1:  # one suggestion: "đúng" takes it
        label, area_id = options[0]
        choices = (
            yes_option(Choice("prov", str(area_id)), understand.pick(label)),
            no_option(Choice("reprov"), understand.RETYPE),
        )
        return [Reply(understand.did_you_mean_one(text, label), choices)]
    if options:
        return [Reply(say.did_you_mean("tỉnh", text), _options("prov", options))]
    districts = places.former_districts(turn.session, text)
    if districts:
        offered = tuple(_district_option(d) for d in districts if d.now)
        return [Reply(say.did_you_mean_district(text), offered)]
    return [Reply(say.province_not_found(text))]


def _province_options(found: places.Found) -> list[tuple[str, int]]:
    """Offer current provinces that matched, and those that absorbed a matching former one."""
    ranked = [(m.grade, m.item.id, m.item.name) for m in found.areas]
    for former in found.former:
        for new in former.now:
            ranked.append((former.grade, new.id, f"{new.name} ({former.unit.name} cũ)"))
    labels: dict[int, str] = {}
    for _, area_id, label in sorted(ranked, key=lambda r: r[0]):
        labels.setdefault(area_id, label)
    return [(label, area_id) for area_id, label in labels.items()]


def _options(action: str, labelled: list[tuple[str, int]]) -> tuple[Option, ...]:
    return tuple(Choice(action, str(area_id)).option(label) for label, area_id in labelled)


def on_retype_province(turn: Turn, choice: Choice) -> list[Reply]:
    """The member said no to the province suggested: ask again."""
    return prompt_province(turn)


def _district_option(district: places.Former) -> Option:
    unit, communes = district.unit, district.now
    province = communes[0].parent.name if communes and communes[0].parent else ""
    where = f", {unit.former_province} cũ" if unit.former_province else ""
    return Choice("dist", str(unit.id)).option(f"{unit.name}{where} → {province}")


def on_district_choice(turn: Turn, choice: Choice) -> list[Reply]:
    """Take a former district picked at the province question: its province, then its communes."""
    district = turn.session.get(FormerArea, int(choice.value)) if choice.value.isdigit() else None
    communes = (
        list(places.successors(turn.session, [district], None)[district.id]) if district else []
    )
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
    """The way back to the province question: aside, the commune's name is the answer."""
    back = Choice("back", "province").option(say.BACK_TO_PROVINCE)
    return (replace(back, aside=True),)


def on_commune_text(turn: Turn) -> list[Reply]:
    """Find the commune typed in the province: current, former (before 1/7/2025), or a district."""
    province = _province(turn)
    if province is None:
        return prompt_commune(turn)
    text = turn.event.text.strip()
    found = places.communes(turn.session, province.id, text)
    exact = found.exact()
    district = next((f for f in found.exact_former() if f.unit.level == DISTRICT), None)
    former = [f for f in found.exact_former() if f.unit.level == COMMUNE]
    if district is not None and former:  # "Chi Lăng": a former district and a former commune
        taken = {a.id for a in exact} | {a.id for f in former for a in f.now}
        options = (
            _commune_options(exact)
            + _former_options(former, skip={a.id for a in exact})
            + _district_options(district, skip=taken)
        )
        return [Reply(understand.former_communes(text, len(options)), options + _back())]
    if district is not None:
        ordered = exact + [a for a in district.now if a not in exact]
        unit = district.unit
        intro = say.former_district(unit.name, unit.former_province, len(district.now))
        return [Reply(intro, _commune_options(ordered) + _back())]
    one = found.one()
    if one is not None and one in exact:
        return _set_commune(turn, one)
    if one is not None:  # a former commune that became one commune: say so, "đúng" takes it
        return [_suggest(one, former[0])]
    if len(former) == 1 and not exact:  # split in 2025 between several communes
        unit, now = former[0].unit, list(former[0].now)
        return [
            Reply(
                understand.former_commune_split(unit.name, len(now)),
                _commune_options(now) + _back(),
            )
        ]
    if former:  # several places had that name: each with what it is now
        options = _commune_options(exact) + _former_options(former)
        return [Reply(understand.former_communes(text, len(options)), options + _back())]
    if exact:  # "Phường An Lạc" and "Xã An Lạc"
        return [Reply(say.did_you_mean("xã", text), _commune_options(exact) + _back())]
    return _near(turn, province, found, text)


def _near(turn: Turn, province: Area, found: places.Found, text: str) -> list[Reply]:
    """Offer what comes near what was typed (a typo, a beginning), or say nothing did."""
    targets = {a.id for a in found.candidates()}
    if not targets:
        example = _example(turn, province)
        shown = _shown_communes(turn)  # the list the member was choosing from stays on screen
        return [Reply(say.commune_not_found(text, province.name, example), shown + _back())]
    if len(targets) == 1:
        only = found.candidates()[0]
        former = next((f for f in found.former if only in f.now), None)
        if former is not None and not any(m.item == only for m in found.areas):
            return [_suggest(only, former)]
        choices = (
            yes_option(Choice("comm", str(only.id)), understand.pick(only.name)),
            no_option(Choice("recomm"), understand.RETYPE),
        )
        return [Reply(understand.did_you_mean_one(text, only.name), choices)]
    current = [m.item for m in found.areas]
    others = [f for f in found.former if any(a.id not in {c.id for c in current} for a in f.now)]
    options = _commune_options(current) + _former_options(others, skip={c.id for c in current})
    return [Reply(say.did_you_mean("xã", text), options + _back())]


def _suggest(new: Area, former: places.Former) -> Reply:
    """Say what a former commune is now and ask whether that is the member's."""
    text = understand.former_commune(former.unit.name, new.name, new.division_type)
    choices = (
        yes_option(Choice("comm", str(new.id)), understand.pick(new.name)),
        no_option(Choice("recomm"), understand.RETYPE),
    )
    return Reply(text, choices)


def _former_options(
    former: list[places.Former], skip: set[int] | None = None
) -> tuple[Option, ...]:
    """One option for each commune a former commune became: "Xã A (Huyện B cũ) → Xã C"."""
    options: list[Option] = []
    for f in former:
        where = f" ({f.unit.former_district} cũ)" if f.unit.former_district else " cũ"
        for new in f.now:
            if skip is None or new.id not in skip:
                label = f"{f.unit.name}{where} → {new.name}"
                options.append(Choice("comm", str(new.id)).option(label))
    return tuple(options)


def _district_options(district: places.Former, skip: set[int]) -> tuple[Option, ...]:
    """One option for each commune a former district became: "Xã C (Huyện B cũ)"."""
    name = district.unit.name
    return tuple(
        Choice("comm", str(a.id)).option(f"{a.name} ({name} cũ)")
        for a in district.now
        if a.id not in skip
    )


def _shown_communes(turn: Turn) -> tuple[Option, ...]:
    """The communes last offered, kept in the conversation state, to offer them again."""
    stored = turn.data.get("options", [])
    return tuple(
        Option(label, data, tuple(aliases))
        for label, data, aliases, *_ in stored
        if str(data).startswith("comm|")
    )


def _commune_options(communes: list[Area]) -> tuple[Option, ...]:
    return tuple(Choice("comm", str(a.id)).option(a.name) for a in communes)


def on_retype_commune(turn: Turn, choice: Choice) -> list[Reply]:
    """The member said no to the commune suggested: ask again."""
    return prompt_commune(turn)


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
    return [Reply(say.chosen(place(commune))), *advance(turn)]


def _area(turn: Turn, value: str, level: AreaLevel) -> Area | None:
    area = turn.session.get(Area, int(value)) if value.isdigit() else None
    return area if area is not None and area.level == level else None


PROMPTS.update(province=prompt_province, commune=prompt_commune)
TEXT_STEPS.update(province=on_province_text, commune=on_commune_text)
CHOICES.update(
    prov=("province", on_province_choice),
    dist=("province", on_district_choice),
    comm=("commune", on_commune_choice),
    back=("commune", on_back_to_province),
    reprov=("province", on_retype_province),
    recomm=("commune", on_retype_commune),
)
