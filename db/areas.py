"""Load the official areas from `vietnam-provinces` and find them from what people type."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import vietnam_provinces
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session
from vietnam_provinces import Province, Ward
from vietnam_provinces._ward_conversion_2025 import OLD_TO_NEW  # the official old-to-new table
from vietnam_provinces.legacy import District as LegacyDistrict
from vietnam_provinces.legacy import Province as LegacyProvince
from vietnam_provinces.legacy import Ward as LegacyWard

from db.models import Area, AreaLevel, FormerArea, FormerAreaLevel, MetaValue
from db.models.area import former_area_successor
from db.textmatch import Match, rank, search_key

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


@dataclass(frozen=True)
class AreaFinding:
    """What a typed name found: current areas, and former units with what they became."""

    areas: list[Match[Area]]
    former: list[Match[FormerArea]]


def find_provinces(session: Session, text: str) -> AreaFinding:
    """Find current provinces, and former provinces (merged in 2025), by a typed name."""
    provinces = session.scalars(select(Area).where(Area.level == AreaLevel.PROVINCE)).all()
    former = session.scalars(
        select(FormerArea).where(FormerArea.level == FormerAreaLevel.PROVINCE)
    ).all()
    return AreaFinding(
        areas=rank(text, ((p.search_name, p) for p in provinces)),
        former=rank(text, ((f.search_name, f) for f in former), limit=3),
    )


def find_communes(session: Session, province_id: int, text: str) -> AreaFinding:
    """Find communes of one province, and former districts that now lie in it, by a typed name."""
    communes = session.scalars(
        select(Area).where(Area.level == AreaLevel.COMMUNE, Area.parent_id == province_id)
    ).all()
    districts = session.scalars(
        select(FormerArea)
        .join(former_area_successor)
        .join(Area, Area.id == former_area_successor.c.area_id)
        .where(FormerArea.level == FormerAreaLevel.DISTRICT, Area.parent_id == province_id)
        .distinct()
    ).all()
    return AreaFinding(
        areas=rank(text, ((c.search_name, c) for c in communes)),
        former=rank(text, ((d.search_name, d) for d in districts), limit=3),
    )


def find_former_districts(session: Session, text: str) -> list[Match[FormerArea]]:
    """Find former districts anywhere in the country by a typed name."""
    districts = session.scalars(
        select(FormerArea).where(FormerArea.level == FormerAreaLevel.DISTRICT)
    ).all()
    return rank(text, ((d.search_name, d) for d in districts))


def successors_in(session: Session, former: FormerArea, province_id: int | None) -> list[Area]:
    """Return the current areas a former unit became, optionally only those in one province."""
    query = (
        select(Area)
        .join(former_area_successor, former_area_successor.c.area_id == Area.id)
        .where(former_area_successor.c.former_area_id == former.id)
        .order_by(Area.name)
    )
    if province_id is not None:
        query = query.where(Area.parent_id == province_id)
    return list(session.scalars(query))


def count_areas(session: Session) -> dict[str, int]:
    """Count loaded areas by level, for `outreach db upgrade` to report."""
    rows = session.execute(select(Area.level, func.count()).group_by(Area.level)).all()
    counts = {str(level): n for level, n in rows}
    counts["former"] = session.scalar(select(func.count()).select_from(FormerArea)) or 0
    return counts


def resolve_area(session: Session, text: str, level: AreaLevel, parent: Area | None) -> Area:
    """Find exactly one area by code or name, or raise LookupError saying what matched."""
    query = select(Area).where(Area.level == level)
    if parent is not None:
        query = query.where(Area.parent_id == parent.id)
    if text.isdigit():
        found = session.scalar(query.where(Area.code == int(text)))
        if found is None:
            raise LookupError(f"no {level.value} has the code {text}")
        return found
    scope = [(a.search_name, a) for a in session.scalars(query)]
    matches = [m.item for m in rank(text, scope) if m.grade == 0]
    if len(matches) != 1:
        names = ", ".join(m.item.name for m in rank(text, scope)) or "nothing"
        raise LookupError(f"{level.value} {text!r} is not one area (matches: {names}); use a code")
    return matches[0]


def resolve_commune(session: Session, province: str, commune: str) -> Area:
    """Find one commune of one province by names or codes."""
    parent = resolve_area(session, province, AreaLevel.PROVINCE, None)
    return resolve_area(session, commune, AreaLevel.COMMUNE, parent)
