"""Model the officers who write, approve and follow announcements."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
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

    area: Mapped[Area | None] = relationship(lazy="joined")
