"""Officers, their scope and the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import audit
from db import staff as people
from db.models import Area, AreaLevel, Channel, StaffRole

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def area(session: Session, name: str, level: AreaLevel, parent: str | None = None) -> Area:
    query = select(Area).where(Area.name == name, Area.level == level)
    if parent is not None:
        query = query.where(Area.parent_id == area(session, parent, AreaLevel.PROVINCE).id)
    found = session.scalar(query)
    assert found is not None
    return found


def test_scope_and_audit(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        khanh_hoa = area(session, "Tỉnh Khánh Hòa", AreaLevel.PROVINCE)
        my_son = area(session, "Xã Mỹ Sơn", AreaLevel.COMMUNE, "Tỉnh Khánh Hòa")
        other = area(session, "Tỉnh Hưng Yên", AreaLevel.PROVINCE)
        admin = people.add_staff(
            session,
            channel=Channel.TELEGRAM,
            user_id="1",
            role=StaffRole.ADMIN,
            area=None,
            name="Admin",
            actor="cli:test",
            now=NOW,
        )
        editor = people.add_staff(
            session,
            channel=Channel.TELEGRAM,
            user_id="2",
            role=StaffRole.EDITOR,
            area=my_son,
            name="Chị Lan",
            actor=audit.staff_actor(admin),
            now=NOW,
        )
        assert people.allowed_targets(session, editor, [my_son.id])
        assert not people.allowed_targets(session, editor, [khanh_hoa.id])  # wider than scope
        assert not people.allowed_targets(session, editor, [])  # everyone: wider too
        assert not people.allowed_targets(session, editor, [my_son.id, other.id])
        assert people.allowed_targets(session, admin, [])

        with pytest.raises(people.StaffProblem, match="editor works in one area"):
            people.change_staff(session, editor, actor="cli:test", now=NOW, area=None)
        changes = people.change_staff(
            session, editor, actor="cli:test", now=NOW, area=khanh_hoa, name="Chị Lan (tỉnh)"
        )
        assert changes == {
            "area": ["Xã Mỹ Sơn", "Tỉnh Khánh Hòa"],
            "name": ["Chị Lan", "Chị Lan (tỉnh)"],
        }
        assert people.allowed_targets(session, editor, [my_son.id, khanh_hoa.id])
        with pytest.raises(people.StaffProblem, match="last admin"):
            people.remove_staff(session, admin, actor="cli:test", now=NOW)
        with pytest.raises(people.StaffProblem, match="staff already"):
            people.add_staff(
                session,
                channel=Channel.TELEGRAM,
                user_id="2",
                role=StaffRole.APPROVER,
                area=None,
                name=None,
                actor="cli:test",
                now=NOW,
            )
        people.remove_staff(session, editor, actor="cli:test", now=NOW)

    with sessions() as session:
        log = audit.entries(session)
        assert [(e.action, e.actor) for e in log] == [
            ("staff.remove", "cli:test"),
            ("staff.change", "cli:test"),
            ("staff.add", "staff:1"),
            ("staff.add", "cli:test"),
        ]
        assert log[0].changes["name"] == "Chị Lan (tỉnh)"  # who they were is kept
        assert [e.action for e in audit.entries(session, action="staff.add")] == ["staff.add"] * 2
        assert len(audit.entries(session, action="staff.")) == 4
