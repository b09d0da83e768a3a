"""Model what joins one person's channels and what keeps a channel connected."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class LinkCode(Base):
    """A short-lived code a member types on a second channel to be known there as themselves."""

    __tablename__ = "link_code"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class OAuthToken(Base):
    """A platform's current token pair, rotated by refresh; one row per provider."""

    __tablename__ = "oauth_token"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True, comment="e.g. zalo_oa")
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text, comment="single use: replaced on refresh")
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(
        String(300), comment="why the last refresh failed; empty once one succeeds"
    )
