"""Keep small facts about the database itself, such as the loaded area data's version."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class MetaValue(Base):
    """A named value describing the database's contents."""

    __tablename__ = "meta_value"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
