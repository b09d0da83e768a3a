"""Model the two-level areas since 1 July 2025 and the former units members still name."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base


class AreaLevel(StrEnum):
    """Level of a current area."""

    PROVINCE = "province"  # tỉnh or centrally governed city
    COMMUNE = "commune"  # xã, phường or đặc khu


class FormerAreaLevel(StrEnum):
    """Level of an area that no longer exists."""

    PROVINCE = "province"  # a province before the 2025 merges
    DISTRICT = "district"  # a huyện, quận, thị xã or provincial city, abolished 1/7/2025
    COMMUNE = "commune"  # a xã, phường or thị trấn before the 1/7/2025 merges


class Area(Base):
    """A current province or commune, with the statistics office's post-2025 code."""

    __tablename__ = "area"
    __table_args__ = (UniqueConstraint("level", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[AreaLevel]
    code: Mapped[int] = mapped_column(comment="GSO code after 1/7/2025; unique within a level")
    name: Mapped[str] = mapped_column(String(120), comment="official name, e.g. 'Xã Mỹ Sơn'")
    division_type: Mapped[str] = mapped_column(String(32), comment="xã, phường, tỉnh, ...")
    search_name: Mapped[str] = mapped_column(
        String(120), index=True, comment="lower case, no diacritics, no 'xã'/'tỉnh' prefix"
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)

    parent: Mapped[Area | None] = relationship(remote_side=[id], lazy="joined")


# A former unit became one or more current areas (a district: several communes; a commune split
# in 2025: each commune that took a part of it).
former_area_successor = Table(
    "former_area_successor",
    Base.metadata,
    Column("former_area_id", ForeignKey("former_area.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("area.id", ondelete="CASCADE"), primary_key=True),
    # From a commune to the former units it took in: the commune step reads this way.
    Index("ix_former_area_successor_area_id", "area_id"),
)


class FormerArea(Base):
    """A province, district or commune from before 1/7/2025; legacy codes never share a column
    with new ones (a legacy commune code is often a current code of another place)."""

    __tablename__ = "former_area"
    __table_args__ = (UniqueConstraint("level", "legacy_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[FormerAreaLevel]
    legacy_code: Mapped[int] = mapped_column(Integer, comment="GSO code before 1/7/2025")
    name: Mapped[str] = mapped_column(String(120), comment="e.g. 'Huyện Ninh Sơn'")
    search_name: Mapped[str] = mapped_column(String(120), index=True)
    former_province: Mapped[str | None] = mapped_column(
        String(120), comment="for a district, the province it was in, e.g. 'Tỉnh Ninh Thuận'"
    )
    former_district: Mapped[str | None] = mapped_column(
        String(120), comment="for a commune, the district it was in, e.g. 'Huyện Ninh Sơn'"
    )

    successors: Mapped[list[Area]] = relationship(secondary=former_area_successor)
