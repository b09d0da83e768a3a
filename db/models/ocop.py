"""Model the OCOP catalog: certified products, what was featured, and what members tapped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class OcopProduct(Base):
    """A product certified under the One Commune One Product programme (3 to 5 stars)."""

    __tablename__ = "ocop_product"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(
        String(400),
        unique=True,
        comment="folded name | cooperative | province: importing again updates, not duplicates",
    )
    name: Mapped[str] = mapped_column(String(200))
    cooperative: Mapped[str] = mapped_column(String(200), comment="the producer's name")
    stars: Mapped[int] = mapped_column(comment="3, 4 or 5")
    group: Mapped[str] = mapped_column(String(80), index=True, comment="product group")
    province_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[int | None] = mapped_column(comment="đồng per unit; empty: ask the producer")
    unit: Mapped[str | None] = mapped_column(String(40))
    photo: Mapped[str | None] = mapped_column(String(500), comment="https URL")
    contact: Mapped[str | None] = mapped_column(String(200), comment="phone or address")
    where_to_buy: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(comment="year certified")
    active: Mapped[bool] = mapped_column(default=True)
    times_featured: Mapped[int] = mapped_column(
        default=0, comment="spotlights so far; the rotation features the fewest first"
    )
    last_featured_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OcopTap(Base):
    """A member's tap on a spotlight's button: counted for the reports, nothing more."""

    __tablename__ = "ocop_tap"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("ocop_product.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16), comment="contact or more")
    area_id: Mapped[int | None] = mapped_column(
        Integer, comment="the member's commune, for reports by area; not the member"
    )
    tapped_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
