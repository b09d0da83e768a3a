"""Record every staff action, and read the record back; entries are only ever added."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry, Staff


def staff_actor(staff: Staff) -> str:
    """Name an officer as an actor."""
    return f"staff:{staff.id}"


def cli_actor() -> str:
    """Name whoever runs the command line: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "cli:unknown"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    now: datetime,
    target: str | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry: who did what to what, and what changed ({field: [before, after]})."""
    entry = AuditEntry(at=now, actor=actor, action=action, target=target, changes=changes or {})
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session,
    *,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Return the newest entries first, filtered; an action ending in '.' matches a family."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if action is not None:
        if action.endswith("."):
            query = query.where(AuditEntry.action.startswith(action))
        else:
            query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))
