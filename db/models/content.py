"""Model the content library: ready-made messages from the packs the product ships with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class ContentItem(Base):
    """One ready message of a kind (a slogan, a policy message, ...), rendered by its template."""

    __tablename__ = "content_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(
        String(80), unique=True, comment="stable id from the pack, e.g. 'khau-hieu-01'"
    )
    kind: Mapped[str] = mapped_column(String(32), index=True, comment="messages.kinds.Kind")
    topic: Mapped[str | None] = mapped_column(
        String(32), comment="the subscriber topic it serves (policy, ocop, training, ...)"
    )
    title: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, comment="the kind template's values")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, comment="for campaign pools")
    pack: Mapped[str] = mapped_column(String(64), comment="the pack file it came from, or staff")
    checksum: Mapped[str] = mapped_column(
        String(64), comment="sha256 of kind, title and data: a reload changes only what changed"
    )
    active: Mapped[bool] = mapped_column(default=True, comment="false once gone from its pack")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
