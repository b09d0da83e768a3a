"""Model training courses and who registered, waits, cancelled and how they rated it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class TrainingTopic(StrEnum):
    """What a course teaches."""

    VIETGAP = "vietgap"  # VietGAP, sản xuất an toàn
    ACCOUNTING = "accounting"  # kế toán HTX
    TAX = "tax"  # thuế
    CREDIT = "credit"  # tiếp cận tín dụng
    FOUNDING = "founding"  # thành lập HTX
    DIGITAL = "digital"  # chuyển đổi số, thương mại điện tử
    OCOP = "ocop"  # xây dựng sản phẩm OCOP
    MANAGEMENT = "management"  # quản trị HTX
    OTHER = "other"


class CourseStatus(StrEnum):
    """Whether a course takes place."""

    OPEN = "open"  # announced; registrations follow capacity and deadline
    CANCELLED = "cancelled"  # called off; registered members were told


class RegistrationStatus(StrEnum):
    """Where a member stands for one course."""

    REGISTERED = "registered"  # has a seat
    WAITING = "waiting"  # on the waiting list, in order of registered_at
    CANCELLED = "cancelled"  # gave up their seat or place in line


class TrainingCourse(Base):
    """A course members can register for, with its seats, deadline and audience."""

    __tablename__ = "training_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[TrainingTopic]
    organiser: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int]
    deadline_at: Mapped[datetime] = mapped_column(comment="registration closes")
    audience: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="db.audience.Audience filters: who it is for"
    )
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CourseStatus] = mapped_column(default=CourseStatus.OPEN)
    created_by: Mapped[str] = mapped_column(String(64), comment="cli, staff:<id>")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingRegistration(Base):
    """One member's seat, or place in line, for one course."""

    __tablename__ = "training_registration"
    __table_args__ = (
        UniqueConstraint("course_id", "subscriber_id"),
        Index("ix_training_registration_line", "course_id", "status", "registered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RegistrationStatus]
    registered_at: Mapped[datetime] = mapped_column(comment="when they asked: the line's order")
    seated_at: Mapped[datetime | None] = mapped_column(comment="when they got a seat")
    cancelled_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(comment="1 to 5 stars, after the course")
    rated_at: Mapped[datetime | None]
    attended_at: Mapped[datetime | None] = mapped_column(
        comment="marked present from the returned attendance sheet"
    )
