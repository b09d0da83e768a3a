"""Write what the bot says when it reads a member's own words: former places, yes, no, stop."""

from __future__ import annotations

from messages.member import mid_sentence

NOT_UNDERSTOOD = "Chưa hiểu ý anh/chị."
RETYPE = "Không phải, gõ lại tên khác"
STOP_OFFER = (
    "Anh/chị muốn dừng nhận tin? Chọn “Dừng nhận tin” (hoặc gõ /dung hay /stop) để dừng ngay. "
    "Nếu không, anh/chị cứ nhắn tiếp như bình thường."
)
STOP_YES = "Dừng nhận tin"
STOP_NO = "Không, vẫn nhận tin"
NOT_STOPPED = "Anh/chị vẫn nhận tin như cũ."


def pick(name: str) -> str:
    """Label the one suggestion offered: yes, that place."""
    return f"Đúng, chọn {name}"


def former_commune(old: str, new: str, kind: str) -> str:
    """Say what a former commune is now, and ask whether that is the member's."""
    return f"{old} cũ nay thuộc {mid_sentence(new)}. Anh/chị chọn {kind} này nhé?"


def former_commune_split(old: str, count: int) -> str:
    """Say that a former commune was split, and ask which part the member lives in."""
    return f"{old} cũ nay thuộc {count} xã, phường dưới đây. Anh/chị ở xã, phường nào?"


def former_communes(text: str, count: int) -> str:
    """Say that several places had that name before 1/7/2025, and ask which one."""
    return f"Trước 1/7/2025 có {count} nơi tên “{text}”. Anh/chị ở nơi nào dưới đây?"


def did_you_mean_one(text: str, name: str) -> str:
    """Offer the one place that comes near what was typed."""
    return f"Với “{text}”, có phải anh/chị muốn chọn {name}?"
