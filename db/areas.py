"""Load the official areas from `vietnam-provinces`, and resolve the places operators name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import vietnam_provinces
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session
from vietnam_provinces import Province, Ward
from vietnam_provinces._ward_conversion_2025 import OLD_TO_NEW  # the official old-to-new table
from vietnam_provinces.legacy import District as LegacyDistrict
from vietnam_provinces.legacy import Province as LegacyProvince
from vietnam_provinces.legacy import Ward as LegacyWard

from db import places
from db.models import Area, AreaLevel, FormerArea, FormerAreaLevel, MetaValue
from db.models.area import former_area_successor
from db.textmatch import fold, search_key

AREAS_VERSION_KEY = "areas_version"
# What this loader makes of the package's tables: raised when it loads more (2: former communes),
# so that `outreach db upgrade` reloads a database loaded by an older loader.
LOADER_VERSION = 2


def areas_version() -> str:
    """Return the version of the area data the installed package carries, and of this loader."""
    package = f"{vietnam_provinces.__version__}/{vietnam_provinces.__data_version__}"
    return f"{package}/{LOADER_VERSION}"


def load_areas(session: Session) -> bool:
    """Load provinces, communes and former units unless this data version is already loaded."""
    current = session.get(MetaValue, AREAS_VERSION_KEY)
    if current is not None and current.value == areas_version():
        return False
    ids = _upsert_current(session)
    _replace_former(session, ids)
    session.merge(MetaValue(key=AREAS_VERSION_KEY, value=areas_version()))
    session.flush()
    # Fresh statistics: without them PostgreSQL plans the commune step's join as if these
    # tables were empty (1.5 s a lookup instead of milliseconds, until autovacuum comes by).
    session.execute(text("ANALYZE area"))
    session.execute(text("ANALYZE former_area"))
    session.execute(text("ANALYZE former_area_successor"))
    return True


def _upsert_current(session: Session) -> dict[tuple[AreaLevel, int], int]:
    existing = {(a.level, a.code): a for a in session.scalars(select(Area))}

    def put(level: AreaLevel, code: int, name: str, kind: str, parent: int | None) -> int:
        area = existing.get((level, code))
        if area is None:
            area = Area(level=level, code=code)
            session.add(area)
        area.name, area.division_type, area.parent_id = name, kind, parent
        area.search_name = search_key(name)
        session.flush()
        existing[(level, code)] = area
        return area.id

    for p in Province.iter_all():
        put(AreaLevel.PROVINCE, p.code.value, p.name, p.division_type.value, None)
    ids = {key: a.id for key, a in existing.items()}
    for w in Ward.iter_all():
        parent = ids[(AreaLevel.PROVINCE, w.province_code.value)]
        put(AreaLevel.COMMUNE, w.code.value, w.name, w.division_type.value, parent)
    return {key: a.id for key, a in existing.items()}


def _replace_former(session: Session, ids: dict[tuple[AreaLevel, int], int]) -> None:
    """Rebuild former provinces, districts and communes with the current areas they became."""
    session.execute(delete(former_area_successor))
    session.execute(delete(FormerArea))
    district_to_communes: dict[int, set[int]] = defaultdict(set)
    province_to_provinces: dict[int, set[int]] = defaultdict(set)
    for ward in Ward.iter_all():
        commune_id = ids[(AreaLevel.COMMUNE, ward.code.value)]
        for old in ward.get_legacy_sources():
            district_to_communes[old.district_code.value].add(commune_id)
    for province in Province.iter_all():
        new_id = ids[(AreaLevel.PROVINCE, province.code.value)]
        for old_province in province.get_legacy_sources():
            province_to_provinces[old_province.code.value].add(new_id)
    old_provinces = {p.code.value: p.name for p in LegacyProvince.iter_all()}
    rows: list[dict[str, object]] = []
    links: list[dict[str, int]] = []
    for lp_code, lp_name in old_provinces.items():
        rows.append(_former(FormerAreaLevel.PROVINCE, lp_code, lp_name, None))
        links += _links(len(rows), province_to_provinces[lp_code])
    old_districts: dict[int, str] = {}
    for d in LegacyDistrict.iter_all():
        province_name = old_provinces.get(d.province_code.value)
        old_districts[d.code.value] = d.name
        rows.append(_former(FormerAreaLevel.DISTRICT, d.code.value, d.name, province_name))
        links += _links(len(rows), district_to_communes[d.code.value])
    for old_ward in LegacyWard.iter_all():
        entry = OLD_TO_NEW.get(old_ward.code.value)
        if entry is None:  # a few legacy wards the official table does not carry: nothing to offer
            continue
        province_name = old_provinces.get(entry.old_ward.province_code)
        row = _former(FormerAreaLevel.COMMUNE, old_ward.code.value, old_ward.name, province_name)
        row["former_district"] = old_districts.get(old_ward.district_code.value)
        rows.append(row)
        new_ids = {ids[(AreaLevel.COMMUNE, new.code)] for new in entry.new_wards}
        links += _links(len(rows), new_ids)
    # Ids are assigned here so that successor links can be inserted in the same two statements.
    session.execute(insert(FormerArea), [dict(r, id=i) for i, r in enumerate(rows, 1)])
    if links:
        session.execute(insert(former_area_successor), links)


def _former(
    level: FormerAreaLevel, code: int, name: str, province: str | None
) -> dict[str, object]:
    return {
        "level": level,
        "legacy_code": code,
        "name": name,
        "search_name": search_key(name),
        "former_province": province,
        "former_district": None,
    }


def _links(former_id: int, area_ids: set[int]) -> list[dict[str, int]]:
    return [{"former_area_id": former_id, "area_id": a} for a in sorted(area_ids)]


def count_areas(session: Session) -> dict[str, int]:
    """Count loaded areas by level, for `outreach db upgrade` to report."""
    rows = session.execute(select(Area.level, func.count()).group_by(Area.level)).all()
    counts = {str(level): n for level, n in rows}
    counts["former"] = session.scalar(select(func.count()).select_from(FormerArea)) or 0
    return counts


# --- Resolving a place an operator or a file names (the CLI, campaign files, imports) ---------
#
# One resolution for every place typed (db/places): official names, what people call provinces,
# provinces merged in 2025, communes and districts of before 1/7/2025. Digits are a current GSO
# code, never a legacy one (legacy codes are often current codes of other places).

Note = Callable[[str], None]
"""Told one English line when a typed name was taken as an area that is not its own name."""

LISTED = 8  # candidates a refusal names at most
FORMER_WORDS = {
    FormerAreaLevel.PROVINCE: ("former province", "merged in 2025"),
    FormerAreaLevel.DISTRICT: ("former district", "before 1/7/2025"),
    FormerAreaLevel.COMMUNE: ("former", "before 1/7/2025"),
}
SPLIT_VERB = {
    FormerAreaLevel.PROVINCE: "went to",
    FormerAreaLevel.DISTRICT: "became",
    FormerAreaLevel.COMMUNE: "was split between",
}


class NotOneArea(LookupError):
    """A typed name that is not one area; `candidates` are the areas it may mean, best first."""

    def __init__(self, message: str, candidates: Sequence[Area]) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


def resolve_area(
    session: Session, text: str, level: AreaLevel, parent: Area | None, note: Note | None = None
) -> Area:
    """Find the one area a code or a typed name means, or raise LookupError saying what matched.

    A name that means one area without doubt is taken (an alias or a former unit too, told to
    `note`); else, when `note` is given, the only area that comes near (a typo) is taken and
    `note` told what it was taken as. A commune without `parent` is looked for in the whole
    country. A refusal lists the candidates with their codes.
    """
    if level is AreaLevel.PROVINCE:
        text = text.strip()
        if text.isdigit():
            return _by_code(session, text, level, None)
        return choose(places.provinces(session, text), level, None, note)
    return resolve_commune_in(session, text, [parent] if parent is not None else None, note)


def resolve_commune(
    session: Session, province: str, commune: str, note: Note | None = None
) -> Area:
    """Find one commune of a province, both given by names or codes (see `resolve_area`)."""
    scope = province_scope(session, province, note)
    told: list[str] = []
    found = resolve_commune_in(session, commune, scope, told.append if note else None)
    if note is not None:
        if len(scope) > 1 and not told:  # a province of before 2025 that went to several
            told.append(f'taken "{commune.strip()}, {province.strip()}" as {_coded(found)}')
        for line in told:
            note(line)
    return found


def resolve_commune_in(
    session: Session, text: str, provinces: Sequence[Area] | None, note: Note | None = None
) -> Area:
    """Find one commune by code or name within some provinces, or anywhere when None."""
    text = text.strip()
    if text.isdigit():
        return _by_code(session, text, AreaLevel.COMMUNE, provinces)
    return choose(commune_search(session, provinces, text), AreaLevel.COMMUNE, provinces, note)


def resolve_place(session: Session, text: str, note: Note | None = None) -> Area:
    """Find a province or a commune: "commune, province", a province, else a commune anywhere."""
    text = text.strip()
    if "," in text:  # "Mỹ Sơn, Khánh Hòa"
        commune, province = (part.strip() for part in text.split(",", 1))
        return resolve_commune(session, province, commune, note)
    if text.isdigit():
        province = session.scalar(
            select(Area).where(Area.level == AreaLevel.PROVINCE, Area.code == int(text))
        )
        return province or _by_code(session, text, AreaLevel.COMMUNE, None)
    as_province = places.provinces(session, text)
    as_commune = places.communes_anywhere(session, text)
    if _without_doubt(as_province) is not None:
        return choose(as_province, AreaLevel.PROVINCE, None, note)
    if _without_doubt(as_commune, current_wins=False) is not None:
        return choose(as_commune, AreaLevel.COMMUNE, None, note)
    if as_province.empty and as_commune.empty:
        raise NotOneArea(f"no province or commune matches {text!r} (see `outreach area find`)", [])
    if as_commune.empty:
        return choose(as_province, AreaLevel.PROVINCE, None, note)
    if as_province.empty:
        return choose(as_commune, AreaLevel.COMMUNE, None, note)
    named = _listed(as_province, None) + "; " + _listed(as_commune, None)
    raise NotOneArea(
        f"{text!r} is neither one province nor one commune (matches: {named}); "
        "write 'commune, province' or use a code",
        as_province.candidates() + as_commune.candidates(),
    )


def province_scope(session: Session, text: str, note: Note | None = None) -> list[Area]:
    """Return the provinces to look for a commune in, for a typed province ("xã, tỉnh").

    One province; or, for a province of before 2025 that went to several, each of them (the
    commune then says which)."""
    text = text.strip()
    if text.isdigit():
        return [_by_code(session, text, AreaLevel.PROVINCE, None)]
    found = places.provinces(session, text)
    split = _split_unit(found)
    if split is not None and _without_doubt(found) is None:
        return list(split.now)
    return [choose(found, AreaLevel.PROVINCE, None, note)]


def commune_search(session: Session, provinces: Sequence[Area] | None, text: str) -> places.Found:
    """Look a typed commune up in some provinces (their findings merged), or anywhere if None."""
    if provinces is None:
        return places.communes_anywhere(session, text)
    found = [places.communes(session, p.id, text) for p in provinces]
    if len(found) == 1:
        return found[0]
    areas = sorted((m for f in found for m in f.areas), key=lambda m: m.grade)
    former = sorted((u for f in found for u in f.former), key=lambda u: u.grade)
    return places.Found(text, areas, former)


def choose(
    found: places.Found, level: AreaLevel, within: Sequence[Area] | None, note: Note | None
) -> Area:
    """Take the area a finding means (near matches only with `note`), or raise NotOneArea."""
    anywhere = level is AreaLevel.COMMUNE and within is None
    meant = _without_doubt(found, current_wins=not anywhere)
    if meant is None and note is not None:
        meant = found.near_one()
    if meant is None:
        raise NotOneArea(refusal(found, level, within), found.candidates())
    told = taken(found, meant)
    if told is not None and note is not None:
        note(told)
    return meant


def taken(found: places.Found, area: Area) -> str | None:
    """Say what a typed name was taken as, or None when it is the area's own name."""
    text = found.text.strip()
    if search_key(text) == area.search_name:
        return None
    where = _coded(area)
    current = min((m.grade for m in found.areas if m.item.id == area.id), default=None)
    via = min(
        (f for f in found.former if any(a.id == area.id for a in f.now)),
        key=lambda f: f.grade,
        default=None,
    )
    if via is None or (current is not None and current <= via.grade):
        return f'taken "{text}" as {where}'
    what, when = FORMER_WORDS[via.unit.level]
    named = f"{what}, {when}" if via.grade == 0 else f"{what} {via.unit.name}, {when}"
    whole = "all of " if via.unit.level is FormerAreaLevel.PROVINCE else ""
    return f'taken "{text}" ({named}) as {whole}{where}'


def refusal(found: places.Found, level: AreaLevel, within: Sequence[Area] | None) -> str:
    """Say in one line why a typed name is not one area, naming the candidates and their codes."""
    text = found.text.strip()
    scope = f" in {' or '.join(p.name for p in within)}" if within else ""
    anywhere = level is AreaLevel.COMMUNE and within is None
    hint = "write 'commune, province' or use a code" if anywhere else "use a code"
    if not found.candidates():
        return f"no {level.value}{scope} matches {text!r} (see `outreach area find`)"
    asked = f"{level.value} {text!r}{scope} is not one area"
    split = _split_unit(found)
    if split is not None:
        what, when = FORMER_WORDS[split.unit.level]
        with_province = within is None or len(within) > 1
        parts = ", ".join(_label(a, with_province) for a in split.now)
        verb = SPLIT_VERB[split.unit.level]
        return f"{asked}: {split.unit.name} ({what}, {when}) {verb} {parts}; {hint}"
    return f"{asked} (matches: {_listed(found, within)}); {hint}"


def described(area: Area) -> str:
    """Name an area with its province: "Xã Vĩnh Sơn, Tỉnh Gia Lai"."""
    if area.level is AreaLevel.COMMUNE and area.parent is not None:
        return f"{area.name}, {area.parent.name}"
    return area.name


def _coded(area: Area) -> str:
    return f"{described(area)} (code {area.code})"


def _without_doubt(found: places.Found, current_wins: bool = True) -> Area | None:
    """The one area meant: as db/places says, or (`current_wins`) the one named exactly.

    Operators and files name places as they are now: within a province, a current commune
    named exactly is meant rather than a former unit of that name ("Ba Đình, Hà Nội" is
    Phường Ba Đình, not the communes of the former Quận Ba Đình). In the whole country a
    former commune of that name elsewhere leaves a doubt ("Mỹ Sơn": Khánh Hòa, or the former
    one of Nghệ An). Among names equal but for the prefix, the one typed in full wins
    ("Phường An Lạc", not "Xã An Lạc")."""
    one = found.one()
    if one is not None:
        return one
    exact = found.exact()
    full = [a for a in exact if fold(a.name) == fold(found.text)]
    if len(exact) > 1 and len(full) == 1:
        exact = full
    if len(exact) != 1:
        return None
    if current_wins:
        return exact[0]
    elsewhere = {a.id for f in found.exact_former() for a in f.now} - {exact[0].id}
    return None if elsewhere else exact[0]


def _split_unit(found: places.Found) -> places.Former | None:
    """The one former unit named exactly, when it became several areas and no area is named."""
    former = found.exact_former()
    if found.exact() or len(former) != 1 or len(former[0].now) < 2:
        return None
    return former[0]


def _listed(found: places.Found, within: Sequence[Area] | None) -> str:
    """List the candidates, best first, with their codes (and provinces when that helps)."""
    with_province = within is None or len(within) > 1
    named = {m.item.id for m in found.areas}
    via = {a.id: f.unit for f in reversed(found.former) for a in f.now}  # the best kept
    labels = []
    for area in found.candidates():
        unit = via.get(area.id) if area.id not in named else None
        labels.append(_label(area, with_province, unit))
    shown = labels[:LISTED]
    more = f", and {len(labels) - LISTED} more" if len(labels) > LISTED else ""
    return ", ".join(shown) + more


def _label(area: Area, with_province: bool, former: FormerArea | None = None) -> str:
    """ "Xã An Bình 123", with "(Tỉnh X; from Xã Y, Huyện Z)" when that helps."""
    notes = []
    if with_province and area.level is AreaLevel.COMMUNE and area.parent is not None:
        notes.append(area.parent.name)
    if former is not None:
        district = f", {former.former_district}" if former.former_district else ""
        notes.append(f"from {former.name}{district}")
    return f"{area.name} {area.code}" + (f" ({'; '.join(notes)})" if notes else "")


def _by_code(session: Session, text: str, level: AreaLevel, parents: Sequence[Area] | None) -> Area:
    query = select(Area).where(Area.level == level, Area.code == int(text))
    if parents:
        query = query.where(Area.parent_id.in_([p.id for p in parents]))
    found = session.scalar(query)
    if found is None:
        scope = f" in {' or '.join(p.name for p in parents)}" if parents else ""
        raise LookupError(f"no {level.value}{scope} has the code {text}")
    return found
