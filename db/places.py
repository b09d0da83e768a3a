"""Resolve a place as people type it: current areas, the names they call them, former units.

One resolution for every place a name is typed: the member's registration, the staff
conversation, the CLI's filters and `add` commands, the OCOP and training imports. Members
name places the way they always have: "TP HCM", "Sài Gòn", the province merged in 2025, the
commune of before 1/7/2025. Each is answered with what it is now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Area, AreaLevel, FormerArea, FormerAreaLevel
from db.models.area import former_area_successor
from db.textmatch import (
    PLACE_NAMES,
    Match,
    has_diacritics,
    prefix_levels,
    rank,
    search_key,
    spelled_name,
)

NEAR_LIMIT = 6  # former units offered for a typo at most
FORMER_LIMIT = 15  # former units offered at most (HCM had a "Phường 1" in 12 districts)


@dataclass(frozen=True)
class Former:
    """A former unit that matched, with the current areas it became (within the scope asked)."""

    unit: FormerArea
    grade: int
    now: tuple[Area, ...]


@dataclass(frozen=True)
class Found:
    """What a typed name found: current areas and former units, each best first."""

    text: str
    areas: list[Match[Area]]
    former: list[Former] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Tell whether nothing matched at all."""
        return not self.areas and not any(f.now for f in self.former)

    def exact(self) -> list[Area]:
        """Current areas named exactly (accents, case and prefix aside)."""
        return [m.item for m in self.areas if m.grade == 0]

    def exact_former(self) -> list[Former]:
        """Former units named exactly, that became something in scope."""
        return [f for f in self.former if f.grade == 0 and f.now]

    def one(self) -> Area | None:
        """The one area the text means without doubt, or None.

        A current name exact and alone wins; else a former unit named exactly whose successors
        are one area (and no other former unit of that name leads elsewhere)."""
        exact = self.exact()
        former = {a.id: a for f in self.exact_former() for a in f.now}
        if len(exact) == 1 and set(former) <= {exact[0].id}:
            return exact[0]
        if not exact and len(former) == 1:
            return next(iter(former.values()))
        return None

    def candidates(self) -> list[Area]:
        """Every current area the text may mean, best first, each once."""
        ranked = [(m.grade, 0, m.item) for m in self.areas]
        ranked += [(f.grade, 1, a) for f in self.former for a in f.now]
        seen: dict[int, Area] = {}
        for _, _, area in sorted(ranked, key=lambda r: (r[0], r[1])):
            seen.setdefault(area.id, area)
        return list(seen.values())

    def near_one(self) -> Area | None:
        """The one area meant, or the only one that comes near (one typo, a prefix)."""
        one = self.one()
        if one is not None:
            return one
        if not self.exact() and not self.exact_former():
            best = min([m.grade for m in self.areas] + [f.grade for f in self.former], default=9)
            near = {a.id: a for a in self._at_grade(best)}
            return next(iter(near.values())) if len(near) == 1 else None
        return None

    def _at_grade(self, grade: int) -> list[Area]:
        return [m.item for m in self.areas if m.grade == grade] + [
            a for f in self.former if f.grade == grade for a in f.now
        ]


@cache
def province_aliases() -> dict[str, str]:
    """Read the reviewed table of what people call provinces: search key -> official name."""
    table: dict[str, list[str]] = yaml.safe_load(PLACE_NAMES.read_text(encoding="utf-8"))[
        "provinces"
    ]
    aliases: dict[str, str] = {}
    for official, names in table.items():
        for name in names:
            key = search_key(name)
            if aliases.setdefault(key, official) != official:
                raise ValueError(f"{PLACE_NAMES.name}: {name!r} names two provinces")
    return aliases


def provinces(session: Session, text: str) -> Found:
    """Find the province meant: its name, what people call it, or a province merged in 2025."""
    current = list(session.scalars(select(Area).where(Area.level == AreaLevel.PROVINCE)))
    former = list(
        session.scalars(select(FormerArea).where(FormerArea.level == FormerAreaLevel.PROVINCE))
    )
    by_name = {a.name: a for a in current}
    former_by_name = {f.name: f for f in former}
    alias_areas: list[tuple[str, Area]] = []
    alias_former: list[tuple[str, FormerArea]] = []
    for key, official in province_aliases().items():
        if official in by_name:
            alias_areas.append((key, by_name[official]))
        elif official in former_by_name:
            alias_former.append((key, former_by_name[official]))
    areas = _best_each(
        rank(text, [*((a.search_name, a) for a in current), *alias_areas], limit=12), 6
    )
    matched = rank(text, [*((f.search_name, f) for f in former), *alias_former], limit=12)
    return Found(text, areas, _former(session, _best_each(matched, 3), None))


def communes(session: Session, province_id: int, text: str) -> Found:
    """Find the commune meant in one province: its name, a former commune or a former district.

    Former units are those that became communes of this province (a member who chose the
    former province "Ninh Thuận" is in Khánh Hòa, and names a commune of Ninh Thuận)."""
    current = session.scalars(
        select(Area).where(Area.level == AreaLevel.COMMUNE, Area.parent_id == province_id)
    ).all()
    former = session.scalars(
        select(FormerArea)
        .join(former_area_successor)
        .join(Area, Area.id == former_area_successor.c.area_id)
        .where(
            FormerArea.level.in_([FormerAreaLevel.COMMUNE, FormerAreaLevel.DISTRICT]),
            Area.parent_id == province_id,
        )
        .distinct()
    ).all()
    # A typed prefix says the level ("phường 1" is no "Quận 1"), unless nothing of that level
    # matches: "quan hop" is Xã Quảng Hợp typed fast, not a quận named "Hợp".
    levels = prefix_levels(text)
    if levels:
        wanted = [f for f in former if f.level.value in levels]
        found = _communes_found(session, province_id, text, current, wanted, levels)
        if not found.empty:
            return found
    return _communes_found(session, province_id, text, current, former, frozenset())


def _communes_found(
    session: Session,
    province_id: int,
    text: str,
    current: Sequence[Area],
    former: Sequence[FormerArea],
    levels: frozenset[str],
) -> Found:
    if levels and FormerAreaLevel.COMMUNE.value not in levels:  # "huyện Ninh Sơn"
        current = []
    areas = rank(text, ((c.search_name, c) for c in current))
    matched = _first_grades(rank(text, ((f.search_name, f) for f in former), limit=40))
    areas, matched = _as_spelled(text, areas, matched)
    return Found(text, areas, _former(session, matched[:FORMER_LIMIT], province_id))


def _as_spelled(
    text: str, areas: list[Match[Area]], former: list[Match[FormerArea]]
) -> tuple[list[Match[Area]], list[Match[FormerArea]]]:
    """Where names differ only by diacritics ("Hương Văn", "Hương Vân"), those the member typed
    decide: a name spelled exactly as typed drops the exact matches spelled otherwise."""
    if not has_diacritics(text):
        return areas, former
    typed = spelled_name(text)
    names = [m.item.name for m in areas if m.grade == 0] + [
        m.item.name for m in former if m.grade == 0
    ]
    if not any(spelled_name(name) == typed for name in names):
        return areas, former

    def keep(match: Match[Any]) -> bool:
        return match.grade != 0 or spelled_name(match.item.name) == typed

    return [m for m in areas if keep(m)], [m for m in former if keep(m)]


def communes_anywhere(session: Session, text: str) -> Found:
    """Find a commune anywhere in the country by name, current or former."""
    current = session.scalars(select(Area).where(Area.level == AreaLevel.COMMUNE)).all()
    former = session.scalars(
        select(FormerArea).where(FormerArea.level == FormerAreaLevel.COMMUNE)
    ).all()
    areas = rank(text, ((c.search_name, c) for c in current), limit=12)
    matched = _first_grades(rank(text, ((f.search_name, f) for f in former), limit=40))
    return Found(text, areas, _former(session, matched[:FORMER_LIMIT], None))


def former_districts(session: Session, text: str) -> list[Former]:
    """Find former districts anywhere in the country by name, with the communes they became."""
    districts = session.scalars(
        select(FormerArea).where(FormerArea.level == FormerAreaLevel.DISTRICT)
    ).all()
    return _former(session, rank(text, ((d.search_name, d) for d in districts)), None)


def successors(
    session: Session, units: list[FormerArea], province_id: int | None
) -> dict[int, tuple[Area, ...]]:
    """Return what each former unit became, by its id, optionally only within one province."""
    if not units:
        return {}
    query = (
        select(former_area_successor.c.former_area_id, Area)
        .join(Area, Area.id == former_area_successor.c.area_id)
        .where(former_area_successor.c.former_area_id.in_([u.id for u in units]))
        .order_by(Area.name)
    )
    if province_id is not None:
        query = query.where(Area.parent_id == province_id)
    found: dict[int, list[Area]] = defaultdict(list)
    for former_id, area in session.execute(query):
        found[former_id].append(area)
    return {u.id: tuple(found.get(u.id, ())) for u in units}


def _former(
    session: Session, matches: list[Match[FormerArea]], province_id: int | None
) -> list[Former]:
    now = successors(session, [m.item for m in matches], province_id)
    return [Former(m.item, m.grade, now[m.item.id]) for m in matches]


def _best_each[T](matches: list[Match[T]], limit: int) -> list[Match[T]]:
    """Keep each item once, at its best grade (an alias and the name may both match)."""
    seen: dict[int, Match[T]] = {}
    for match in matches:  # already best first
        seen.setdefault(id(match.item), match)
    return list(seen.values())[:limit]


def _first_grades[T](matches: list[Match[T]]) -> list[Match[T]]:
    """Keep every exact match (a name shared by several former communes), else the nearest."""
    exact = [m for m in matches if m.grade == 0]
    return exact or matches[:NEAR_LIMIT]
