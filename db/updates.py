"""Remember the updates handled, so that one delivered twice (to any instance) is handled once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import SeenUpdate

# Telegram keeps an undelivered update for 24 hours: none can come back after two days.
KEEP = timedelta(days=2)


def seen(session: Session, ref: str) -> bool:
    """Tell whether `ref` was handled already (a read: it takes no write lock)."""
    return session.scalar(select(SeenUpdate.ref).where(SeenUpdate.ref == ref[:96])) is not None


def first_time(session: Session, ref: str, now: datetime) -> bool:
    """Record `ref` as handled and tell whether it is new; in the caller's transaction.

    Being in the transaction that handles the update, the mark is undone with it if the
    handling fails, and the platform's next delivery is handled again.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SeenUpdate).values(ref=ref[:96], seen_at=now).on_conflict_do_nothing()
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def forget_old(session: Session, now: datetime) -> int:
    """Drop the marks no platform can still need; return how many."""
    result = session.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < now - KEEP))
    return result.rowcount or 0  # type: ignore[attr-defined]
