"""Create, find and invite to cooperatives; callers own the session and commit."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Area, Cooperative, CooperativeKind
from db.textmatch import Match, rank, search_key

# No 0/o, 1/l/i: codes are read off posters and typed by hand.
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 6


def new_public_code(session: Session) -> str:
    """Draw a short invitation code that no cooperative has yet."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Cooperative.id).where(Cooperative.public_code == code)) is None:
            return code


def create_cooperative(
    session: Session,
    *,
    name: str,
    commune: Area,
    now: datetime,
    kind: CooperativeKind = CooperativeKind.COOPERATIVE,
    registration_code: str | None = None,
    sector: str | None = None,
    public_code: str | None = None,
) -> Cooperative:
    """Add a cooperative in a commune, with a fresh invitation code unless one is given."""
    coop = Cooperative(
        kind=kind,
        name=name.strip(),
        search_name=search_key(name),
        registration_code=registration_code,
        area_id=commune.id,
        sector=sector,
        public_code=public_code or new_public_code(session),
        created_at=now,
    )
    session.add(coop)
    session.flush()
    return coop


def by_public_code(session: Session, code: str) -> Cooperative | None:
    """Find the cooperative an invitation code belongs to (codes are case-insensitive)."""
    query = select(Cooperative).where(Cooperative.public_code == code.strip().lower())
    return session.scalar(query)


def find_cooperatives(
    session: Session, text: str, province_id: int, commune_id: int | None = None
) -> list[Match[Cooperative]]:
    """Find cooperatives in a province by a typed name, those of the member's commune first."""
    coops = session.scalars(
        select(Cooperative)
        .join(Area, Cooperative.area_id == Area.id)
        .where(Area.parent_id == province_id)
    ).all()
    matches = rank(text, ((c.search_name, c) for c in coops), limit=50)
    matches.sort(key=lambda m: (m.grade, m.item.area_id != commune_id))
    return matches[:6]


def invite_link(bot_username: str, coop: Cooperative) -> str:
    """Return the t.me deep link that enrols a member straight into a cooperative."""
    return f"https://t.me/{bot_username}?start={coop.public_code}"
