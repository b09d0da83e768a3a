"""Say an area's statistics to an officer: plain text for /stats, in Vietnamese."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from db.stats import AreaStats
from messages.filters import count

EVERYWHERE = "toàn quốc"


def stats_text(stats: AreaStats, area_name: str | None, tz: ZoneInfo) -> str:
    """Write the period's figures for an area (None: the whole country) as plain text."""
    days = round((stats.until - stats.since) / timedelta(days=1))
    first = stats.since.astimezone(tz)
    # The period ends just before `until`: a period up to midnight ends on the day before.
    last = (stats.until - timedelta(microseconds=1)).astimezone(tz)
    return "\n".join(
        [
            f"📊 Thống kê {days} ngày ({first:%d/%m/%Y} – {last:%d/%m/%Y}), "
            f"{area_name or EVERYWHERE}",
            f"• Tin đã gửi: {count(stats.broadcasts)} đợt, {count(stats.sent)} lượt gửi thành công",
            f"• Gửi lỗi: {count(stats.failed)}; bị chặn: {count(stats.blocked)}",
            f"• Số người nhận được tin: {count(stats.reached)}",
            f"• Người đăng ký mới: {count(stats.new)}; dừng nhận tin: {count(stats.stopped)}",
            f"• Ý kiến phản hồi: {count(stats.feedback)}",
        ]
    )
