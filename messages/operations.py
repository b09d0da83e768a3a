"""What the product tells its admins about the running of it, in Vietnamese."""

from __future__ import annotations

CHANNEL_NAMES = {"telegram": "Telegram", "zalo_bot": "Zalo Bot", "zalo_oa": "Zalo OA"}


def credentials_refused(channel: str, reason: str) -> str:
    """Tell the admins that a platform refuses the bot's token, and what happens meanwhile."""
    name = CHANNEL_NAMES.get(channel, channel)
    return (
        f"⚠️ {name} từ chối mã truy cập (token) của bot: {reason}\n"
        f"Các tin gửi qua {name} đang tạm dừng và sẽ tự gửi tiếp khi mã được chấp nhận lại; "
        "không tin nào bị mất. Xin kiểm tra mã trong phần cài đặt của bot."
    )


def broadcast_failed(broadcast_id: int, problem: str) -> str:
    """Tell the author (or the admins) that a broadcast could not go, and why."""
    return (
        f"❌ Tin #{broadcast_id} không gửi được: {problem}\n"
        "Không ai nhận được tin này; các tin khác vẫn gửi bình thường. "
        "Xin soạn lại tin (/new) sau khi sửa chỗ trên."
    )
