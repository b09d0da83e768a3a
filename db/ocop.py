"""Keep the OCOP catalog: store imported products, rotate spotlights, browse, count taps.

Callers open the session and commit; time is passed in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from db.areas import Note, resolve_area, resolve_commune_in
from db.audience import Audience, chosen
from db.models import Area, AreaLevel, OcopProduct, OcopTap, Subscriber

PROVINCE = AreaLevel.PROVINCE


class Place(NamedTuple):
    """An area a catalog names: its id and official name."""

    id: int
    name: str


@dataclass(frozen=True)
class ProductRow:
    """One checked product of an imported file, ready to store (see messages/ocop.py)."""

    line: int
    key: str
    name: str
    cooperative: str
    stars: int
    group: str
    province_id: int
    commune_id: int | None
    description: str | None
    price: int | None
    unit: str | None
    photo: str | None
    contact: str | None
    where_to_buy: str | None
    year: int | None


STORED = [f.name for f in fields(ProductRow) if f.name not in ("line", "key")]


class AreaPlaces:
    """Find the provinces and communes a catalog names, as db/places resolves a typed place.

    By code, or by name in any accents: what people call provinces ("TP HCM"), the provinces
    merged in 2025, the communes and districts of before 1/7/2025 as what they became. A name
    that comes near one area only (a typo) is taken, and what it was taken as kept in `taken`
    for the import to report (`taken_lines`)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.taken: list[Taken] = []
        self._provinces: dict[str, Place | None] = {}  # a catalog names the same places often
        self._communes: dict[tuple[int, str], Place | None] = {}

    def province(self, text: str) -> Place | None:
        """Return the province a name or code means, or None."""
        text = text.strip()
        if text not in self._provinces:
            self._provinces[text] = self._find(
                "province",
                text,
                None,
                lambda note: resolve_area(self.session, text, PROVINCE, None, note),
            )
        return self._provinces[text]

    def commune(self, province_id: int, text: str) -> Place | None:
        """Return the commune of that province a name or code means, or None."""
        text = text.strip()
        if (province_id, text) not in self._communes:
            province = self.session.get(Area, province_id)
            self._communes[(province_id, text)] = (
                None
                if province is None
                else self._find(
                    "commune",
                    text,
                    province_id,
                    lambda note: resolve_commune_in(self.session, text, [province], note),
                )
            )
        return self._communes[(province_id, text)]

    def taken_lines(self, rows: Iterable[tuple[int, list[str]]]) -> list[str]:
        """Say, for each line of the file that names it, what a near or former name was taken as.

        "line 3 (province): taken "khanh hao" as Tỉnh Khánh Hòa (code 56)"."""
        lines = []
        for line, cells in rows:
            values = {unicodedata.normalize("NFC", cell).strip() for cell in cells}
            provinces = {p.id for t, p in self._provinces.items() if p is not None and t in values}
            lines += [
                f"line {line} ({taken.column}): {taken.note}"
                for taken in self.taken
                if taken.text in values
                and (taken.province_id is None or taken.province_id in provinces)
            ]
        return lines

    def _find(
        self, column: str, text: str, province_id: int | None, resolve: Callable[[Note], Area]
    ) -> Place | None:
        notes: list[str] = []
        try:
            area = resolve(notes.append)
        except LookupError:
            return None
        self.taken += [Taken(column, text, province_id, note) for note in notes]
        return Place(area.id, area.name)


class Taken(NamedTuple):
    """A place a catalog names that was taken as another area's name: what and how."""

    column: str
    text: str
    province_id: int | None
    note: str


@dataclass(frozen=True)
class ImportCounts:
    """What an import did."""

    added: int
    updated: int


def upsert_products(session: Session, rows: Iterable[ProductRow], now: datetime) -> ImportCounts:
    """Add new products and update known ones (by key); a product imported again is active."""
    rows = list(rows)
    existing: dict[str, OcopProduct] = {}
    for start in range(0, len(rows), 500):  # a bounded IN list on every database
        keys = [row.key for row in rows[start : start + 500]]
        query = select(OcopProduct).where(OcopProduct.key.in_(keys))
        existing.update((p.key, p) for p in session.scalars(query))
    added = 0
    for row in rows:
        product = existing.get(row.key)
        if product is None:
            product = OcopProduct(key=row.key, created_at=now, times_featured=0)
            session.add(product)
            added += 1
        for name in STORED:
            setattr(product, name, getattr(row, name))
        product.active, product.updated_at = True, now
    session.flush()
    return ImportCounts(added=added, updated=len(rows) - added)


@dataclass(frozen=True)
class Spotlight:
    """A product picked for the recipients of one province."""

    province: Area
    product: OcopProduct
    audience: Audience


def audience_provinces(session: Session, audience: Audience) -> list[Area]:
    """Return the provinces where the audience has recipients, in one query."""
    commune = aliased(Area)
    provinces_of_recipients = (
        select(commune.parent_id)
        .select_from(Subscriber)
        .join(commune, commune.id == Subscriber.area_id)
        .where(*chosen(audience))
    )
    query = select(Area).where(Area.id.in_(provinces_of_recipients)).order_by(Area.code)
    return list(session.scalars(query))


def pick_spotlights(session: Session, audience: Audience, now: datetime) -> list[Spotlight]:
    """Pick one product per province of the audience and mark it featured.

    Every active product is featured before any is featured again (the round is the products
    featured the fewest times); within the round a province gets its own product first, the
    one featured longest ago, and a province with none in the round gets one from elsewhere.
    """
    provinces = audience_provinces(session, audience)
    picks: dict[int, OcopProduct] = {}
    for province in provinces:  # own products first, so that no other province takes them
        own = _next_in_round(session, province.id)
        if own is not None:
            picks[province.id] = _feature(own, now)
    for province in provinces:
        if province.id not in picks:
            other = _next_in_round(session, None)
            if other is None:
                break  # no active product at all
            picks[province.id] = _feature(other, now)
    return [
        Spotlight(p, picks[p.id], narrow(session, audience, p.id))
        for p in provinces
        if p.id in picks
    ]


def _next_in_round(session: Session, province_id: int | None) -> OcopProduct | None:
    active = OcopProduct.active.is_(True)
    fewest = select(func.min(OcopProduct.times_featured)).where(active).scalar_subquery()
    query = select(OcopProduct).where(active, OcopProduct.times_featured == fewest)
    if province_id is not None:
        query = query.where(OcopProduct.province_id == province_id)
    order = (OcopProduct.last_featured_at.asc().nulls_first(), OcopProduct.id)
    return session.scalars(query.order_by(*order).limit(1)).first()


def _feature(product: OcopProduct, now: datetime) -> OcopProduct:
    # The session autoflushes: the next pick's query sees this one featured.
    product.times_featured += 1
    product.last_featured_at = now
    return product


def narrow(session: Session, audience: Audience, province_id: int) -> Audience:
    """Keep an audience's recipients in one province: its named communes there, or all of it."""
    communes: list[int] = []
    if audience.area_ids:
        query = select(Area.id).where(Area.id.in_(audience.area_ids), Area.parent_id == province_id)
        communes = list(session.scalars(query.order_by(Area.id)))
    return replace(audience, area_ids=tuple(communes) or (province_id,))


def active_product(session: Session, product_id: int) -> OcopProduct | None:
    """Return a product that is still in the catalog, or None."""
    product = session.get(OcopProduct, product_id)
    return product if product is not None and product.active else None


def product_places(session: Session, product: OcopProduct) -> tuple[str, str | None]:
    """Return the names of a product's province and commune (if known)."""
    province = session.get(Area, product.province_id)
    commune = session.get(Area, product.commune_id) if product.commune_id else None
    return (province.name if province else ""), (commune.name if commune else None)


def catalog_provinces(session: Session) -> list[tuple[Area, int]]:
    """Return the provinces that have active products, with how many, by name."""
    rows = session.execute(
        select(OcopProduct.province_id, func.count())
        .where(OcopProduct.active.is_(True))
        .group_by(OcopProduct.province_id)
    )
    counts = {province_id: count for province_id, count in rows}
    areas = session.scalars(select(Area).where(Area.id.in_(counts)).order_by(Area.search_name))
    return [(area, counts[area.id]) for area in areas]


def catalog_groups(session: Session, province_id: int) -> dict[str, int]:
    """Count a province's active products by group."""
    rows = session.execute(
        select(OcopProduct.group, func.count())
        .where(OcopProduct.active.is_(True), OcopProduct.province_id == province_id)
        .group_by(OcopProduct.group)
    )
    return {group: count for group, count in rows}


def product_page(
    session: Session, province_id: int, group: str, page: int, size: int
) -> tuple[list[OcopProduct], int]:
    """Return one page (from 1) of a province's products of a group, best rated first."""
    where = (
        OcopProduct.active.is_(True),
        OcopProduct.province_id == province_id,
        OcopProduct.group == group,
    )
    total = session.scalar(select(func.count()).select_from(OcopProduct).where(*where)) or 0
    query = (
        select(OcopProduct)
        .where(*where)
        .order_by(OcopProduct.stars.desc(), OcopProduct.name, OcopProduct.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return list(session.scalars(query)), total


def similar_products(session: Session, product: OcopProduct, limit: int) -> list[OcopProduct]:
    """Return other active products of the same group, the same province's first."""
    elsewhere = case((OcopProduct.province_id == product.province_id, 0), else_=1)
    query = (
        select(OcopProduct)
        .where(
            OcopProduct.active.is_(True),
            OcopProduct.group == product.group,
            OcopProduct.id != product.id,
        )
        .order_by(elsewhere, OcopProduct.stars.desc(), OcopProduct.name, OcopProduct.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def record_tap(
    session: Session, product: OcopProduct, action: str, area_id: int | None, now: datetime
) -> None:
    """Count a tap on a product's button, by the member's commune (not the member)."""
    session.add(OcopTap(product_id=product.id, action=action, area_id=area_id, tapped_at=now))
