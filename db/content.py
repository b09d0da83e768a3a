"""Keep the content library in step with the packs and find its items; callers commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.models import ContentItem
from db.textmatch import rank, search_key

if TYPE_CHECKING:  # the packs are read in messages/; the database layer only stores them
    from messages.packs import PackItem


@dataclass(frozen=True)
class LoadCounts:
    """What a load did to the library."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0


def load_items(
    session: Session, items: Sequence[PackItem], now: datetime, packs: Iterable[str] | None = None
) -> LoadCounts:
    """Add or update items by slug, and retire those gone from the packs that were read.

    An item whose checksum, pack and activity are as stored is left untouched, so loading
    twice changes nothing. `packs` names the packs read (by default, those of the items): an
    item of one of them that is no longer there is marked inactive, never deleted, since
    broadcasts refer to it.
    """
    loaded = set(packs) if packs is not None else {item.pack for item in items}
    slugs = {item.slug for item in items}
    query = select(ContentItem).where(
        or_(ContentItem.slug.in_(slugs), ContentItem.pack.in_(loaded))
    )
    stored = {row.slug: row for row in session.scalars(query)}
    added = updated = unchanged = 0
    for item in items:
        row = stored.get(item.slug)
        if row is None:
            session.add(ContentItem(slug=item.slug, created_at=now, **_fields(item, now)))
            added += 1
        elif (row.checksum, row.pack, row.active) == (item.checksum, item.pack, True):
            unchanged += 1
        else:
            for name, value in _fields(item, now).items():
                setattr(row, name, value)
            updated += 1
    retired = _retire([row for row in stored.values() if row.pack in loaded], slugs, now)
    session.flush()
    return LoadCounts(added, updated, unchanged, retired)


def _retire(rows: list[ContentItem], kept: set[str], now: datetime) -> int:
    """Mark inactive the active rows whose slug is no longer in their pack; count them."""
    gone = [row for row in rows if row.active and row.slug not in kept]
    for row in gone:
        row.active, row.updated_at = False, now
    return len(gone)


def _fields(item: PackItem, now: datetime) -> dict[str, object]:
    """Return the columns a pack item sets, as of now."""
    return {
        "kind": item.kind.value,
        "topic": item.topic,
        "title": item.title,
        "data": item.data,
        "tags": list(item.tags),
        "pack": item.pack,
        "checksum": item.checksum,
        "active": True,
        "updated_at": now,
    }


def list_items(
    session: Session,
    kind: str | None = None,
    tag: str | None = None,
    pack: str | None = None,
    *,
    retired: bool = False,
) -> list[ContentItem]:
    """List the library's items, by pack and slug (a guide's steps in order); retired on request."""
    query = select(ContentItem).order_by(ContentItem.pack, ContentItem.slug)
    if kind is not None:
        query = query.where(ContentItem.kind == kind)
    if pack is not None:
        query = query.where(ContentItem.pack == pack)
    if not retired:
        query = query.where(ContentItem.active.is_(True))
    found = list(session.scalars(query))
    # Tags are a JSON list, queried differently by SQLite and PostgreSQL; the library is small
    # (hundreds of items), so they are filtered here.
    return [item for item in found if tag is None or tag in item.tags]


def get_item(session: Session, slug_or_id: str) -> ContentItem:
    """Return the item with this slug or numeric id, or raise LookupError naming near slugs."""
    text = slug_or_id.strip()
    found = (
        session.get(ContentItem, int(text))
        if text.isdigit()
        else session.scalar(select(ContentItem).where(ContentItem.slug == text))
    )
    if found is not None:
        return found
    slugs = [(search_key(slug), slug) for slug in session.scalars(select(ContentItem.slug))]
    near = [match.item for match in rank(text, slugs, limit=3)]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise LookupError(
        f"no content item has the id or slug {text!r}{hint} (see `outreach content list`)"
    )
