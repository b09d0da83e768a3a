"""Ask where a member lives: province, then commune, with former provinces and districts."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversation.events import Choice, Option, Reply
from bot.conversation.flow import CHOICES, PROMPTS, TEXT_STEPS, advance, place
from bot.conversation.turn import Turn
from db import areas as area_queries
from db.models import Area, AreaLevel, FormerArea
from db.textmatch import Match
from messages import member as say


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
)
