"""Model cooperatives and cooperative groups that members belong to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, utcnow
from db.models.area import Area


class CooperativeKind(StrEnum):
    """Legal form of a collective-economy organisation."""

    COOPERATIVE = "cooperative"  # hợp tác xã
    GROUP = "group"  # tổ hợp tác


class Cooperative(Base):
    """A cooperative or cooperative group, placed in the commune where it is registered."""

    __tablename__ = "cooperative"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CooperativeKind] = mapped_column(default=CooperativeKind.COOPERATIVE)
    name: Mapped[str] = mapped_column(String(200))
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    registration_code: Mapped[str | None] = mapped_column(
        String(32), unique=True, comment="business registration number"
    )
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    sector: Mapped[str | None] = mapped_column(String(120), comment="e.g. nông nghiệp")
    public_code: Mapped[str] = mapped_column(
        String(16), unique=True, comment="short code carried by invitation links and QR posters"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[Area] = relationship(lazy="joined")
