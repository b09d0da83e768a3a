"""Model the officers who write, approve and follow announcements."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, utcnow
from db.models.area import Area
from db.models.member import Channel


class StaffRole(StrEnum):
    """What an officer may do."""

    ADMIN = "admin"  # manages staff, sees and targets everything
    EDITOR = "editor"  # writes and targets announcements inside their area scope
    APPROVER = "approver"  # approves announcements written by others


class Staff(Base):
    """An officer known by their account on a channel, optionally scoped to an area."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel]
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[StaffRole]
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("area.id"), comment="scope: a province or commune; empty means everywhere"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The officer's own conversation with the bot (composing, approving): its step and draft.
    conv_state: Mapped[str] = mapped_column(String(32), default="idle", server_default="idle")
    draft: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default="{}", comment="the announcement being written"
    )

    area: Mapped[Area | None] = relationship(lazy="joined")


class AuditEntry(Base):
    """One staff action: who did what, when, to what, and what changed. Never edited."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(
        String(64), index=True, comment="staff:<id>, or cli:<os user> for the command line"
    )
    action: Mapped[str] = mapped_column(String(48), index=True, comment="e.g. staff.add")
    target: Mapped[str | None] = mapped_column(String(64), comment="e.g. staff:3, broadcast:12")
    changes: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="what changed: {field: [before, after]} or the details"
    )
