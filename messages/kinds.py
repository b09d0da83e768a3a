"""Render the product's own message kinds from typed data, through the one Jinja2 environment.

Every value comes from data and is escaped for Telegram's HTML (autoescape); the templates in
``messages/templates`` hold the only markup.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from jinja2 import TemplateError

from messages.render import ENVIRONMENT, TemplateProblem


class Kind(StrEnum):
    """What a message is, each with its template."""

    POLICY = "policy"  # chủ trương, chính sách
    SLOGAN = "slogan"  # khẩu hiệu
    MODEL_STORY = "model_story"  # mô hình HTX điển hình
    OCOP_SPOTLIGHT = "ocop_spotlight"  # giới thiệu sản phẩm OCOP
    TRAINING_ANNOUNCEMENT = "training_announcement"  # thông báo lớp tập huấn
    TRAINING_REMINDER = "training_reminder"  # nhắc lịch tập huấn
    COMMEMORATION = "commemoration"  # ngày kỷ niệm
    MARKET = "market"  # thông tin thị trường


KIND_LABELS = {
    Kind.POLICY: "Chủ trương, chính sách",
    Kind.SLOGAN: "Khẩu hiệu",
    Kind.MODEL_STORY: "Mô hình HTX điển hình",
    Kind.OCOP_SPOTLIGHT: "Sản phẩm OCOP",
    Kind.TRAINING_ANNOUNCEMENT: "Thông báo tập huấn",
    Kind.TRAINING_REMINDER: "Nhắc lịch tập huấn",
    Kind.COMMEMORATION: "Ngày kỷ niệm",
    Kind.MARKET: "Thông tin thị trường",
}


def render_kind(kind: Kind, **data: Any) -> str:
    """Render one message of a kind as Telegram HTML; TemplateProblem names what is missing."""
    try:
        text = ENVIRONMENT.get_template(f"{kind.value}.j2").render(**data)
    except TemplateError as exc:
        raise TemplateProblem(f"{kind.value} message: {exc}") from exc
    return "\n".join(line.rstrip() for line in text.strip().splitlines())
