"""What the bot says about feedback: to members who write, react, answer polls or report a
difficulty, and to the officers who read and answer them."""

from __future__ import annotations

import contextlib
import html
from datetime import datetime
from zoneinfo import ZoneInfo

from messages.channels import plain
from messages.render import TemplateProblem, compile_text, subscriber_context

SAMPLE_MEMBER = subscriber_context("Nguyễn Văn An", None, None, None)

# --- members --------------------------------------------------------------------------

THANKS = "Cảm ơn anh/chị đã gửi ý kiến. Cán bộ Liên minh Hợp tác xã sẽ xem và trả lời sớm."
THANKS_ABOUT = (
    "Cảm ơn anh/chị đã phản hồi về tin “{gist}”. Cán bộ Liên minh Hợp tác xã sẽ xem và trả lời sớm."
)
TOO_LONG = (
    "Tin của anh/chị dài quá nên bot chỉ lưu {kept} ký tự đầu (đến “…{tail}”). "
    "Xin gửi phần còn lại trong tin nhắn tiếp theo."
)
SLOW_DOWN = (
    "Anh/chị đang gửi nhiều tin liên tiếp. Bot vẫn ghi lại đầy đủ mọi tin, nhưng sẽ chỉ trả lời "
    "lại sau ít phút. Xin cảm ơn anh/chị đã kiên nhẫn."
)

USEFUL = "👍 Hữu ích"
UNCLEAR = "🤔 Chưa rõ"
THANKS_USEFUL = "Cảm ơn anh/chị đã cho biết tin này hữu ích."
ASK_UNCLEAR = (
    "Cảm ơn anh/chị. Anh/chị chưa rõ điều gì trong tin này? Xin gõ câu hỏi, cán bộ sẽ trả lời."
)
REACTION_CHANGED = "Đã đổi đánh giá của anh/chị thành “{value}”."
REACTION_GONE = "Tin này không còn nhận đánh giá. Cảm ơn anh/chị."
TYPED_REACTION = "Xin gõ kèm số của tin, ví dụ: /huuich 12."

POLL_HEAD = "📊 <b>Bình chọn</b>\n\n{question}\n"
POLL_FOOT_OPEN = "\nChọn một mục dưới đây. Anh/chị có thể đổi ý đến khi bình chọn kết thúc."
POLL_FOOT_UNTIL = (
    "\nChọn một mục dưới đây. Anh/chị có thể đổi ý đến {until}, khi bình chọn kết thúc."
)
POLL_ANSWERED = (
    "✅ Đã ghi nhận lựa chọn “{option}”. Anh/chị có thể đổi ý đến khi bình chọn kết thúc."
)
POLL_CHANGED = "✅ Đã đổi lựa chọn của anh/chị từ “{before}” thành “{option}”."
POLL_SAME = "Anh/chị đã chọn “{option}” rồi. Cảm ơn anh/chị."
POLL_CLOSED = "Bình chọn này đã kết thúc, không nhận thêm ý kiến. Cảm ơn anh/chị."
POLL_UNKNOWN = "Không tìm thấy bình chọn này. Xin chọn lại một mục ngay dưới tin bình chọn."
POLL_TYPED = "Xin gõ số của bình chọn và số lựa chọn, ví dụ: /binhchon 3 2."

DIFFICULTY_ASK = (
    "📝 Báo khó khăn. Hợp tác xã hay gia đình anh/chị đang gặp khó khăn về việc gì? "
    "Chọn một mục (gõ /huy để thôi):"
)
DIFFICULTY_DESCRIBE = (
    "Xin anh/chị kể rõ khó khăn về “{category}”: việc gì, ở đâu, từ bao giờ, cần hỗ trợ gì. "
    "Có thể gửi kèm một ảnh có chú thích."
)
DIFFICULTY_NEED_TEXT = "Đã nhận ảnh. Xin anh/chị viết thêm vài dòng mô tả khó khăn."
DIFFICULTY_SAVED = (
    "✅ Đã ghi nhận khó khăn #{id} về “{category}”. Cán bộ phụ trách địa bàn sẽ liên hệ "
    "và trả lời anh/chị. Nếu có ảnh minh họa, xin gửi ngay bây giờ; không có thì chọn “Xong”."
)
DIFFICULTY_SAVED_PHOTO = (
    "✅ Đã ghi nhận khó khăn #{id} về “{category}”, kèm ảnh. Cán bộ phụ trách địa bàn sẽ liên hệ "
    "và trả lời anh/chị."
)
DIFFICULTY_PHOTO_SAVED = "✅ Đã nhận ảnh cho khó khăn #{id}. Cảm ơn anh/chị."
DIFFICULTY_MORE_SAVED = "✅ Đã ghi thêm vào khó khăn #{id}."
DIFFICULTY_DONE = "Cảm ơn anh/chị. Cán bộ sẽ trả lời sớm."
DONE = "Xong"
DIFFICULTY_CANCELLED = "Đã thôi báo khó khăn. Khi cần, anh/chị gõ /khokhan."

REPLY = (
    "💬 <b>Liên minh Hợp tác xã trả lời</b>\n\n{text}\n\n"
    "<i>Về ý kiến anh/chị gửi {when}: “{gist}”</i>"
)

# --- officers ---------------------------------------------------------------------------

FLAGGED = (
    "⚠️ Phản ánh #{id} cần chú ý ngay ({flags}).\n"
    "Từ: {member}, {place}\n“{text}”\n\nXem và trả lời: /inbox {id}"
)
INBOX_EMPTY = "📭 Không có phản ánh nào đang chờ trong phạm vi của anh/chị."
INBOX_HEAD = "📬 Phản ánh đang chờ ({count}), cần chú ý và mới nhất lên đầu:"
INBOX_LINE = "{mark}#{id} · {topic} · {when} · {member}, {place}{about}{status}\n   “{gist}”"
INBOX_MORE = "Xem tiếp"
INBOX_ABOUT = " · về tin #{broadcast}"
ITEM = (
    "{mark}Phản ánh #{id} · {kind} · {topic}{flags}\n"
    "Từ: {member}, {place} · {channel}\nLúc: {when}{about}{assigned}\nTrạng thái: {status}\n\n"
    "“{text}”{replies}"
)
ITEM_REPLY = "\n\n↪️ {who} trả lời {when}: “{text}”"
PHOTO_OF = "📷 Ảnh kèm phản ánh #{id}"
REPLY_BUTTON = "💬 Trả lời"
TAKE_BUTTON = "🙋 Tôi nhận xử lý"
CLOSE_BUTTON = "✔️ Đóng"
REOPEN_BUTTON = "↩️ Mở lại"
ASK_REPLY = (
    "Gõ câu trả lời cho phản ánh #{id}. Bà con sẽ nhận trong cùng cuộc trò chuyện, "
    "ghi rõ là của Liên minh Hợp tác xã. Gõ /huy để thôi."
)
REPLY_QUEUED = "✅ Đã gửi trả lời cho phản ánh #{id}."
REPLY_EMPTY = "Câu trả lời đang trống. Xin gõ nội dung trả lời, hoặc /huy để thôi."
REPLY_TOO_LONG = "Câu trả lời dài quá ({length} ký tự, tối đa {most}). Xin rút gọn."
TAKEN = "🙋 Anh/chị đã nhận xử lý phản ánh #{id}."
CLOSED = "✔️ Đã đóng phản ánh #{id}."
REOPENED = "↩️ Đã mở lại phản ánh #{id}."
NOT_YOURS = "Phản ánh #{id} không thuộc phạm vi của anh/chị."
NO_SUCH = "Không có phản ánh #{id}."
ALREADY_CLOSED = "Phản ánh #{id} đã đóng. Chọn “Mở lại” nếu cần trả lời tiếp."

REPORT_READY = (
    "📊 Báo cáo {scope}, từ {start} đến {end}: {sent} tin đã gửi, {reached} người nhận, "
    "{feedback} phản ánh ({flagged} cần chú ý). Chi tiết theo tháng, theo địa bàn và biểu đồ "
    "trong tệp Excel."
)
REPORT_USAGE = (
    "Gõ /report để lấy báo cáo từ 1/11 đến hôm nay, hoặc /report 2026 để lấy báo cáo năm "
    "(1/11/2025 – 31/10/2026, nộp trước 10/11)."
)

STATUS = {"open": "chờ xử lý", "answered": "đã trả lời", "closed": "đã đóng"}
KIND = {"message": "Ý kiến", "difficulty": "Báo khó khăn"}
CHANNEL = {"telegram": "Telegram", "zalo_bot": "Zalo", "zalo_oa": "Zalo OA"}
UNKNOWN_PLACE = "chưa rõ địa bàn"
NO_NAME = "Thành viên #{id}"


def gist(text: str, templated: bool = False, length: int = 60) -> str:
    """Give the start of a broadcast (HTML) as a member reads it: rendered, without markup."""
    if templated:  # if it cannot render, it is shown as written
        with contextlib.suppress(TemplateProblem):
            text = compile_text(text).render(SAMPLE_MEMBER)
    return shorten(plain(text), length)


def shorten(text: str, length: int = 60) -> str:
    """Give the start of a plain text (what a member typed) exactly as written, on one line.

    Nothing is read as markup: "lãi suất <5% hay >7%? giá 5 &lt; 7" stays as it is; where
    it goes into HTML, the caller escapes it.
    """
    words = " ".join(text.split())
    return words if len(words) <= length else words[: length - 1].rstrip() + "…"


def local(moment: datetime, tz: ZoneInfo) -> str:
    """Write a moment as officers and members read it: 07:30 15/10."""
    return f"{moment.astimezone(tz):%H:%M %d/%m}"


def reply_message(text: str, written_at: datetime, about: str, tz: ZoneInfo) -> str:
    """Write an officer's answer as the member gets it, marked as from the alliance (HTML)."""
    return REPLY.format(
        text=html.escape(text.strip(), quote=False),
        when=local(written_at, tz),
        gist=html.escape(shorten(about, length=80), quote=False),
    )


def poll_message(question: str, options: list[str], until: str | None) -> str:
    """Write a poll as members get it (HTML): the question, the numbered options, how to answer."""
    lines = [POLL_HEAD.format(question=html.escape(question.strip(), quote=False))]
    lines += [f"{n}. {html.escape(option, quote=False)}" for n, option in enumerate(options, 1)]
    lines.append(POLL_FOOT_UNTIL.format(until=until) if until else POLL_FOOT_OPEN)
    return "\n".join(lines)
