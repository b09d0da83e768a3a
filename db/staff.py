"""Officers: who they are, what they may do, and where; every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import audit
from db.models import Area, AreaLevel, Channel, Staff, StaffRole

KEEP = object()  # "leave this field as it is", for change_staff


class StaffProblem(ValueError):
    """A staff change that cannot be made; the message says why (in English, for the CLI)."""


def find_staff(session: Session, channel: Channel, user_id: str) -> Staff | None:
    """Return the officer behind a chat account, or None for a member or a stranger."""
    query = select(Staff).where(Staff.channel == channel, Staff.user_id == str(user_id))
    return session.scalar(query)


def get_staff(session: Session, staff_id: int) -> Staff:
    """Return an officer by id, or raise LookupError."""
    found = session.get(Staff, staff_id)
    if found is None:
        raise LookupError(f"no staff member has the id {staff_id}; see `outreach staff list`")
    return found


def list_staff(session: Session) -> list[Staff]:
    """Return every officer, admins first."""
    order = {StaffRole.ADMIN: 0, StaffRole.APPROVER: 1, StaffRole.EDITOR: 2}
    return sorted(session.scalars(select(Staff)), key=lambda s: (order[s.role], s.id))


def _check(role: StaffRole, area: Area | None) -> None:
    if role is StaffRole.EDITOR and area is None:
        raise StaffProblem("an editor works in one area: give a province or a commune")
    if role is StaffRole.ADMIN and area is not None:
        raise StaffProblem("an admin works everywhere: give no area")
    if area is not None and area.level not in (AreaLevel.PROVINCE, AreaLevel.COMMUNE):
        raise StaffProblem("a scope is a province or a commune")


def describe(staff: Staff) -> dict[str, Any]:
    """Return what the audit log keeps of an officer."""
    return {
        "channel": staff.channel.value,
        "user_id": staff.user_id,
        "name": staff.name,
        "role": staff.role.value,
        "area": staff.area.name if staff.area is not None else None,
    }


def add_staff(
    session: Session,
    *,
    channel: Channel,
    user_id: str,
    role: StaffRole,
    area: Area | None,
    name: str | None,
    actor: str,
    now: datetime,
) -> Staff:
    """Add an officer; an editor needs an area, an admin has none."""
    _check(role, area)
    if find_staff(session, channel, user_id) is not None:
        raise StaffProblem(f"{channel.value} account {user_id} is staff already; change it instead")
    staff = Staff(
        channel=channel,
        user_id=str(user_id),
        role=role,
        area_id=area.id if area is not None else None,
        name=name,
        created_at=now,
    )
    session.add(staff)
    session.flush()
    session.refresh(staff)
    audit.record(
        session,
        actor=actor,
        action="staff.add",
        target=f"staff:{staff.id}",
        changes=describe(staff),
        now=now,
    )
    return staff


def change_staff(
    session: Session,
    staff: Staff,
    *,
    actor: str,
    now: datetime,
    role: StaffRole | None = None,
    area: Any = KEEP,
    name: Any = KEEP,
) -> dict[str, list[Any]]:
    """Change an officer's role, area or name; return {field: [before, after]} (audited)."""
    before = describe(staff)
    new_role = role or staff.role
    new_area: Area | None = staff.area if area is KEEP else area
    _check(new_role, new_area)
    if staff.role is StaffRole.ADMIN and new_role is not StaffRole.ADMIN:
        _keep_an_admin(session, staff)
    staff.role = new_role
    staff.area_id = new_area.id if new_area is not None else None
    if name is not KEEP:
        staff.name = name
    session.flush()
    session.refresh(staff)
    after = describe(staff)
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit.record(
            session,
            actor=actor,
            action="staff.change",
            target=f"staff:{staff.id}",
            changes=changes,
            now=now,
        )
    return changes


def remove_staff(session: Session, staff: Staff, *, actor: str, now: datetime) -> None:
    """Remove an officer (the audit log keeps who they were); the last admin stays."""
    if staff.role is StaffRole.ADMIN:
        _keep_an_admin(session, staff)
    audit.record(
        session,
        actor=actor,
        action="staff.remove",
        target=f"staff:{staff.id}",
        changes=describe(staff),
        now=now,
    )
    session.delete(staff)
    session.flush()


def _keep_an_admin(session: Session, leaving: Staff) -> None:
    admins = session.scalar(
        select(func.count()).where(Staff.role == StaffRole.ADMIN, Staff.id != leaving.id)
    )
    if not admins:
        raise StaffProblem("this is the last admin: make someone else admin first")


def scope_ids(session: Session, staff: Staff) -> set[int] | None:
    """Return the area ids an officer may target (their area and its communes); None: all."""
    if staff.role is StaffRole.ADMIN or staff.area_id is None:
        return None
    communes = session.scalars(select(Area.id).where(Area.parent_id == staff.area_id))
    return {staff.area_id, *communes}


def allowed_targets(session: Session, staff: Staff, area_ids: Iterable[int]) -> bool:
    """Tell whether an officer may send to these areas; no area (everyone) needs no scope."""
    scope = scope_ids(session, staff)
    if scope is None:
        return True
    chosen = set(area_ids)
    return bool(chosen) and chosen <= scope
