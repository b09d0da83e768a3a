"""Write what the bot says about a member's channels and phone number, in plain Vietnamese."""

from __future__ import annotations

import hashlib

from db.models import Channel

CHANNEL_NAMES = {
    Channel.TELEGRAM: "Telegram",
    Channel.ZALO_BOT: "Zalo",
    Channel.ZALO_OA: "Zalo (trang Liên minh HTX)",
}

LINK_NEEDS_REGISTRATION = (
    "Anh/chị chưa đăng ký trên kênh này. Nếu đã đăng ký ở kênh khác (Telegram hoặc Zalo), "
    "gõ /lienket ở kênh đó để lấy mã, rồi gửi “/lienket MÃ” vào đây. "
    "Nếu chưa đăng ký ở đâu, gõ /batdau."
)
LINK_BAD_CODE = (
    "Mã liên kết không đúng hoặc đã hết hạn (mã dùng trong 15 phút). "
    "Anh/chị lấy mã mới bằng lệnh /lienket ở kênh đã đăng ký."
)
LINK_TOO_MANY = "Anh/chị nhập sai mã nhiều lần. Xin thử lại sau 15 phút."
LINK_SAME_CHANNEL = (
    "Mã này được lấy từ chính kênh này. Anh/chị gửi mã vào kênh khác (Telegram hoặc Zalo) nhé."
)
LINK_HERE, LINK_KEEP = "Nhận tin ở kênh này", "Giữ như cũ"
KEPT = "Đã giữ nguyên kênh nhận tin."

ASK_PHONE = (
    "Anh/chị gõ số điện thoại di động dùng Zalo, ví dụ: 0912 345 678.\n"
    "Số này chỉ dùng để gửi tin qua Zalo khi không gửi được bằng tin nhắn thường."
)
BAD_PHONE = "Số “{typed}” không phải số di động Việt Nam. Anh/chị gõ lại, ví dụ: 0912 345 678."
PHONE_NOT_USED = (
    "Hiện chưa cần số điện thoại: tin đến anh/chị qua kênh này. "
    "Chúng tôi không lưu số điện thoại khi chưa dùng đến."
)
PHONE_PURPOSE = "zns"
PHONE_NOTICE_VERSION = "2026-12"  # the notice below, word for word
PHONE_NOTICE = (
    "Anh/chị cho phép Liên minh HTX lưu số {phone} và dùng số này để gửi tin chính sách, "
    "tập huấn qua Zalo (tin báo ZNS) khi không gửi được bằng tin nhắn thường?\n"
    "Số chỉ dùng cho mục đích này, không chia sẻ cho bên nào khác. "
    "Anh/chị có thể xóa số bất cứ lúc nào bằng lệnh /sdt."
)
PHONE_AGREE, PHONE_DECLINE = "✅ Đồng ý", "Không đồng ý"
PHONE_DECLINED = "Chúng tôi không lưu số điện thoại của anh/chị."
PHONE_CHANGE, PHONE_DELETE = "Đổi số", "Xóa số"
PHONE_DELETED = "Đã xóa số điện thoại. Chúng tôi sẽ không gửi tin theo số này nữa."


def phone_notice_sha256(phone: str) -> str:
    """Hash the exact notice a member agreed to, as consent evidence."""
    return hashlib.sha256(PHONE_NOTICE.format(phone=phone).encode()).hexdigest()


def link_code(code: str, channel: Channel) -> str:
    """Give the member the code to type on their other channel."""
    return (
        f"Mã liên kết của anh/chị: {code[:3]} {code[3:]} (dùng trong 15 phút).\n"
        f"Mở kênh còn lại (Telegram hoặc Zalo) và gửi: /lienket {code}\n"
        f"Khi đã liên kết, anh/chị chỉ nhận mỗi tin một lần, ở kênh anh/chị chọn "
        f"(hiện là {CHANNEL_NAMES[channel]})."
    )


def linked(other: Channel, preferred: Channel) -> str:
    """Confirm the link and say where broadcasts go."""
    return (
        f"Đã liên kết với tài khoản {CHANNEL_NAMES[other]} của anh/chị. "
        f"Tin vẫn gửi qua {CHANNEL_NAMES[preferred]}. "
        f"Muốn nhận tin ở kênh này thay thế, chọn “{LINK_HERE}”."
    )


def now_here(channel: Channel) -> str:
    """Confirm the channel broadcasts now go to."""
    return f"Từ giờ anh/chị nhận tin qua {CHANNEL_NAMES[channel]}."


def phone_saved(phone: str) -> str:
    """Confirm the phone number kept."""
    return f"Đã lưu số {phone}. Gõ /sdt để đổi hoặc xóa số."


def phone_shown(phone: str) -> str:
    """Show the phone number kept, with what can be done."""
    return f"Số điện thoại anh/chị đã cho phép dùng: {phone}."


def national(phone: str) -> str:
    """Write 84912345678 the way people read it: 0912 345 678."""
    digits = "0" + phone[2:] if phone.startswith("84") else phone
    return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
