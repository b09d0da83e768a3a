"""Write what the bot says to members in conversation, in plain Vietnamese."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from db.models import Role, Topic

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]

ROLE_LABELS: dict[Role, str] = {
    Role.MEMBER: "Thành viên HTX",
    Role.MANAGER: "Cán bộ quản lý HTX",
    Role.FARMER: "Nông dân",
    Role.OFFICER: "Cán bộ xã, trưởng thôn",
    Role.OTHER: "Khác",
}

TOPIC_LABELS: dict[Topic, str] = {
    Topic.POLICY: "Chủ trương, chính sách",
    Topic.OCOP: "Sản phẩm OCOP",
    Topic.TRAINING: "Lớp tập huấn",
    Topic.MARKET: "Thông tin thị trường",
    Topic.MODEL: "Mô hình HTX điển hình",
}

# The division words official names open with ("Tỉnh Khánh Hòa", "Thành phố Huế", "Xã Mỹ
# Sơn"), the former ones too; longer first, so that "Thị trấn" is not read as "Thị".
DIVISIONS = ("Thành phố", "Thị trấn", "Thị xã", "Đặc khu", "Tỉnh", "Phường", "Xã", "Huyện", "Quận")
_DIVISION = re.compile(rf"(^|, )({'|'.join(DIVISIONS)}) ")


def mid_sentence(name: str) -> str:
    """Write an official place name as it reads mid-sentence, its division word in lower case.

    "Tỉnh Khánh Hòa" is "tỉnh Khánh Hòa", "Xã Mỹ Sơn, Tỉnh Khánh Hòa" is "xã Mỹ Sơn, tỉnh
    Khánh Hòa"; the name proper keeps its capitals, and words that open no official name
    ("Khánh Hòa", "tỉnh của anh/chị") are left as they are. At the start of a sentence or a
    label ("Đã chọn: Tỉnh Khánh Hòa.") the name is written as it is.
    """
    return _DIVISION.sub(lambda found: f"{found[1]}{found[2].lower()} ", name)


CONSENT_PURPOSE = "outreach"
CONSENT_VERSION = "2026-12"  # the notice below, word for word (its hash is kept too)
CONSENT_NOTICE = (
    "Trước khi đăng ký, xin anh/chị đọc kỹ:\n"
    "• Chúng tôi lưu: tên hiển thị, mã tài khoản trò chuyện, xã nơi anh/chị sống, vai trò, "
    "hợp tác xã (nếu có), chủ đề quan tâm và ý kiến anh/chị gửi.\n"
    "• Mục đích duy nhất: gửi tin chính sách, sản phẩm OCOP, lớp tập huấn, thông tin thị trường "
    "phù hợp với anh/chị và nhận ý kiến phản hồi. Không chia sẻ cho bên nào khác.\n"
    "• Anh/chị có thể gõ /dung để dừng nhận tin bất cứ lúc nào, "
    "và /xoa để xóa toàn bộ dữ liệu của mình.\n"
    "(Theo Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15.)\n\n"
    "Anh/chị có đồng ý không?"
)
CONSENT_SHA256 = hashlib.sha256(CONSENT_NOTICE.encode()).hexdigest()

WELCOME = (
    "Chào anh/chị! Đây là kênh tin của Liên minh Hợp tác xã "
    "dành cho thành viên HTX, nông dân và cán bộ."
)
AGREE, DECLINE = "✅ Tôi đồng ý", "Không đồng ý"
DECLINED = (
    "Anh/chị chưa đồng ý nên chúng tôi không lưu thông tin gì. "
    "Khi nào muốn nhận tin, gõ /batdau để đăng ký."
)
CONSENT_AGAIN = "Xin anh/chị chọn “Tôi đồng ý” hoặc “Không đồng ý” (hoặc gõ 1 hay 2)."

ASK_PROVINCE = "Anh/chị ở tỉnh, thành phố nào? Gõ tên, ví dụ: Khánh Hòa"
ASK_ROLE = "Anh/chị thuộc nhóm nào dưới đây?"
ASK_COOP = (
    "Anh/chị thuộc hợp tác xã hoặc tổ hợp tác nào? Gõ tên để tìm, ví dụ: Mỹ Sơn. "
    "Nếu không thuộc HTX nào, chọn “Bỏ qua”."
)
SKIP = "Bỏ qua"
ASK_TOPICS = (
    "Anh/chị muốn nhận tin về chủ đề nào? Chọn một chủ đề để bật hoặc tắt, xong thì chọn “Xong”."
)
DONE = "Xong"
NEED_TOPIC = "Xin chọn ít nhất một chủ đề, rồi chọn “Xong”."
BACK_TO_PROVINCE = "Chọn lại tỉnh"
TYPE_AGAIN_HINT = "Nếu không đúng, anh/chị gõ lại tên khác."

# Every command a member has: the Vietnamese name first, the English one beside it.
HELP = (
    "Các lệnh anh/chị dùng được:\n"
    "/batdau (/start) – đăng ký, hoặc nhận tin lại\n"
    "/hoso (/profile) – xem và sửa thông tin của anh/chị\n"
    "/chude (/topics) – chọn chủ đề muốn nhận\n"
    "/ocop – xem sản phẩm OCOP theo tỉnh và nhóm hàng\n"
    "/taphuan (/trainings) – các lớp tập huấn sắp tới: đăng ký, hủy\n"
    "/dangky 12 – đăng ký lớp số 12\n"
    "/danhgia 12 5 – chấm 5 sao cho lớp số 12\n"
    "/khokhan (/baokhokhan) – báo khó khăn của HTX hay gia đình\n"
    "/huy – thôi báo khó khăn đang viết dở\n"
    "/binhchon 3 2 – chọn mục 2 ở bình chọn số 3\n"
    "/huuich 12, /chuaro 12 – cho biết tin số 12 hữu ích hay chưa rõ\n"
    "/lienket (/link) – dùng cả Telegram và Zalo, nhận mỗi tin một lần\n"
    "/sdt (/phone) – số điện thoại để nhận tin qua Zalo\n"
    "/dung (/stop) – dừng nhận mọi tin\n"
    "/xoa (/forget) – xóa toàn bộ dữ liệu của anh/chị\n"
    "/trogiup (/help) – xem hướng dẫn này\n\n"
    "Muốn góp ý hay hỏi điều gì, anh/chị cứ gõ tin nhắn, cán bộ sẽ đọc."
)
FEEDBACK_THANKS = "Cảm ơn anh/chị đã gửi ý kiến. Cán bộ phụ trách sẽ đọc và trả lời nếu cần."
ONLY_TEXT = "Hiện bot chỉ đọc được tin nhắn chữ. Anh/chị gõ nội dung giúp nhé."
STALE_BUTTON = "Lựa chọn này đã cũ. Anh/chị làm tiếp theo hướng dẫn dưới đây nhé."
NOT_REGISTERED = "Anh/chị chưa đăng ký nhận tin. Gõ /batdau để đăng ký."
UNFINISHED = "Anh/chị chưa đăng ký xong. Gõ /batdau để làm tiếp."
ALREADY_ACTIVE = "Anh/chị đang nhận tin. Gõ /hoso để xem thông tin, /trogiup để xem các lệnh."
RESUMED = "Chào mừng anh/chị trở lại! Anh/chị sẽ nhận tin như trước."
CONTINUE_REGISTRATION = "Anh/chị đang đăng ký dở, mình làm tiếp nhé."
STOPPED = (
    "Đã dừng. Từ giờ anh/chị sẽ không nhận thêm tin nào.\n"
    "Gõ /batdau khi muốn nhận lại. Gõ /xoa nếu muốn xóa toàn bộ dữ liệu."
)
ALREADY_STOPPED = "Anh/chị đã dừng nhận tin từ trước. Gõ /batdau khi muốn nhận lại."
FORGET_CONFIRM = (
    "Anh/chị muốn xóa toàn bộ dữ liệu của mình (địa bàn, vai trò, chủ đề, ý kiến đã gửi)? "
    "Sau khi xóa, anh/chị sẽ không nhận tin nữa và không khôi phục được."
)
FORGET_YES, FORGET_NO = "Xóa hết dữ liệu", "Không xóa"
FORGOTTEN = (
    "Đã xóa toàn bộ dữ liệu của anh/chị. Cảm ơn anh/chị đã đồng hành.\n"
    "Nếu muốn nhận tin lại, gõ /batdau để đăng ký từ đầu."
)
NOT_FORGOTTEN = "Chưa xóa gì. Dữ liệu của anh/chị vẫn giữ nguyên."
SAVED = "Đã lưu thay đổi."
PROFILE_EDIT_AREA, PROFILE_EDIT_ROLE = "Sửa địa bàn", "Sửa vai trò"
PROFILE_EDIT_COOP, PROFILE_EDIT_TOPICS = "Sửa HTX", "Sửa chủ đề"
PROFILE_STOP, PROFILE_RESUME, PROFILE_FORGET = "Dừng nhận tin", "Nhận tin lại", "Xóa dữ liệu"
MISSED = "Xin lỗi, tin nhắn trước của bot chưa tới được anh/chị. Bot hỏi lại nhé:"
SYSTEM_ERROR = "Xin lỗi, hệ thống đang bận. Anh/chị thử lại sau ít phút nhé."


def unknown_command(command: str) -> str:
    """Explain that a command does not exist and list those that do."""
    return f"Bot chưa hiểu lệnh /{command}.\n\n{HELP}"


def pick_a_number(typed: str, count: int) -> str:
    """Say that a typed number is not on the list and show the list again."""
    return f"Không có lựa chọn số {typed}. Anh/chị chọn một trong các mục dưới đây:"


def ask_commune(province: str, example: str) -> str:
    """Ask for the commune within the chosen province."""
    return f"Anh/chị ở xã, phường nào của {mid_sentence(province)}? Gõ tên, ví dụ: {example}"


def province_not_found(text: str) -> str:
    """Say that no province matched what was typed."""
    return (
        f"Chưa tìm thấy tỉnh “{text}”. Anh/chị gõ lại tên tỉnh, thành phố, "
        "ví dụ: Khánh Hòa, Hà Nội, Cần Thơ."
    )


def commune_not_found(text: str, province: str, example: str) -> str:
    """Say that no commune matched within the province."""
    return (
        f"Chưa tìm thấy xã “{text}” ở {mid_sentence(province)}. Anh/chị gõ lại tên xã, phường, "
        f"ví dụ: {example}. Nếu chọn nhầm tỉnh, chọn “{BACK_TO_PROVINCE}”."
    )


def did_you_mean(kind: str, text: str) -> str:
    """Offer the closest matches for what was typed."""
    return f"Với “{text}”, có phải anh/chị muốn chọn {kind} nào dưới đây? {TYPE_AGAIN_HINT}"


def did_you_mean_district(text: str) -> str:
    """Offer former districts when a district name was typed where a province was asked."""
    return (
        f"“{text}” là tên huyện cũ? Huyện đã giải thể từ 1/7/2025. "
        f"Anh/chị chọn dòng đúng dưới đây, hoặc gõ tên tỉnh, ví dụ: Khánh Hòa."
    )


def former_province(old: str, new: str) -> str:
    """Say which province a merged province now belongs to."""
    return f"{old} cũ nay thuộc {mid_sentence(new)}."


def former_district(old: str, old_province: str | None, count: int) -> str:
    """Say that a former district is now several communes and ask which one."""
    where = f" ({mid_sentence(old_province)} cũ)" if old_province else ""
    return (
        f"{old}{where} đã giải thể từ 1/7/2025, nay thuộc {count} xã, phường dưới đây. "
        "Anh/chị ở xã, phường nào?"
    )


def chosen(label: str) -> str:
    """Confirm a choice in a few words."""
    return f"Đã chọn: {label}."


def coop_not_found(text: str, province: str) -> str:
    """Say that no cooperative matched in the member's province."""
    where = mid_sentence(province)
    return f"Chưa tìm thấy HTX “{text}” ở {where}. Anh/chị gõ lại tên khác, hoặc chọn “{SKIP}”."


def invited(coop: str, commune: str, province: str) -> str:
    """Greet a member who came through a cooperative's invitation link."""
    where = mid_sentence(f"{commune}, {province}")
    return f"Anh/chị được mời nhận tin cùng {coop} ({where})."


def bad_invite(code: str) -> str:
    """Say that an invitation code is unknown; registration continues normally."""
    return f"Mã mời “{code}” không đúng hoặc đã hết hiệu lực. Anh/chị vẫn đăng ký bình thường được."


def joined_coop(coop: str) -> str:
    """Confirm that an already-registered member now belongs to a cooperative."""
    return f"Đã ghi nhận anh/chị thuộc {coop}."


def registered(area: str, topics: list[str]) -> str:
    """Close registration with what the member will receive and the next steps."""
    return (
        f"Đăng ký xong! Anh/chị sẽ nhận tin về: {', '.join(topics)}, cho {mid_sentence(area)}.\n"
        "Gõ /hoso để xem hoặc sửa thông tin, /dung để dừng nhận tin, /trogiup để xem các lệnh.\n"
        "Muốn góp ý, anh/chị cứ gõ tin nhắn."
    )


def date_vi(moment: datetime, tz: ZoneInfo) -> str:
    """Write a date and time the Vietnamese way: 'Thứ Ba, 15/10/2024 07:30'."""
    local = moment.astimezone(tz)
    return f"{WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y %H:%M}"


def profile(fields: list[tuple[str, str]]) -> str:
    """Lay out everything stored about a member, one line a field."""
    lines = "\n".join(f"• {name}: {value}" for name, value in fields)
    return f"Thông tin chúng tôi đang lưu về anh/chị:\n{lines}\n\nChọn mục dưới đây để sửa."
