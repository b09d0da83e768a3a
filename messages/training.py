"""Say everything about training courses: announcements, lists, seats, the line, reminders.

Replies in the conversation are plain text; broadcasts (announcement, reminders, rating) are
Telegram HTML from the kind templates, with every value escaped.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from db.models import RegistrationStatus, TrainingCourse, TrainingRegistration, TrainingTopic
from messages.channels import plain
from messages.filters import clock, count, weekday_date
from messages.kinds import Kind, render_kind

TOPIC_LABELS = {
    TrainingTopic.VIETGAP: "VietGAP, sản xuất an toàn",
    TrainingTopic.ACCOUNTING: "Kế toán hợp tác xã",
    TrainingTopic.TAX: "Thuế",
    TrainingTopic.CREDIT: "Tiếp cận tín dụng",
    TrainingTopic.FOUNDING: "Thành lập hợp tác xã",
    TrainingTopic.DIGITAL: "Chuyển đổi số, thương mại điện tử",
    TrainingTopic.OCOP: "Xây dựng sản phẩm OCOP",
    TrainingTopic.MANAGEMENT: "Quản trị hợp tác xã",
    TrainingTopic.OTHER: "Chủ đề khác",
}

# When each reminder goes, before the start, and how it names the time left.
REMINDERS = (
    (timedelta(days=3), "sau 3 ngày nữa"),
    (timedelta(days=1), "vào ngày mai"),
    (timedelta(hours=2), "sau 2 giờ nữa"),
)
RATING_AFTER = timedelta(hours=1)  # the one-tap rating is asked an hour after the end
RATING_LABELS = ("★☆☆☆☆ Chưa tốt", "★★☆☆☆ Tạm được", "★★★☆☆ Khá", "★★★★☆ Tốt", "★★★★★ Rất tốt")

NO_COURSES = (
    "Hiện chưa có lớp tập huấn nào sắp tới dành cho anh/chị. "
    "Khi có lớp mới, bot sẽ báo để anh/chị đăng ký."
)
NOT_A_MEMBER = "Anh/chị cần đăng ký nhận tin trước (gõ /batdau), rồi mới đăng ký lớp tập huấn được."
NO_SUCH_COURSE = "Không tìm thấy lớp tập huấn này. Anh/chị gõ /taphuan để xem các lớp sắp tới."
HOW_TO_REGISTER = "Gõ /dangky kèm số lớp, ví dụ: /dangky 12. Gõ /taphuan để xem số của các lớp."
HOW_TO_RATE = "Gõ /danhgia, số lớp và số sao từ 1 đến 5, ví dụ: /danhgia 12 5."
KEEP_SEAT = "Anh/chị vẫn giữ chỗ. Hẹn gặp anh/chị ở lớp học!"
LIST_BUTTON = "◀ Danh sách lớp"
REGISTER_BUTTON = "✍️ Đăng ký"
CANCEL_BUTTON = "Hủy đăng ký"
CONFIRM_CANCEL_BUTTON = "Đồng ý hủy"
KEEP_BUTTON = "Giữ chỗ"
REGISTER_HINT = "Chọn “Đăng ký” để giữ chỗ."


def place(course: TrainingCourse) -> str:
    """Say where a course takes place: a hall, an online link, or both."""
    where = [
        p for p in (course.place, course.online_url and f"Trực tuyến: {course.online_url}") if p
    ]
    return "; ".join(where)


def course_data(course: TrainingCourse, seats_left: int | None = None) -> dict[str, Any]:
    """Give the course templates their values."""
    return {
        "title": course.title,
        "start": course.starts_at,
        "end": course.ends_at,
        "place": place(course),
        "capacity": course.capacity,
        "seats_left": seats_left,
        "deadline": course.deadline_at,
        "organiser": course.organiser,
        "description": course.description,
    }


def announcement(course: TrainingCourse, seats_left: int | None = None) -> str:
    """Render the announcement broadcast (HTML)."""
    return render_kind(Kind.TRAINING_ANNOUNCEMENT, course=course_data(course, seats_left))


def reminder(course: TrainingCourse, when: str) -> str:
    """Render a reminder broadcast (HTML)."""
    return render_kind(Kind.TRAINING_REMINDER, course=course_data(course), when=when)


def rating_request(course: TrainingCourse) -> str:
    """Ask those who attended to rate the course with one tap (HTML)."""
    return (
        f"🙏 <b>Anh/chị thấy lớp “{html.escape(course.title)}” thế nào?</b>\n\n"
        "Chọn số sao dưới đây. Ý kiến của anh/chị giúp các lớp sau tốt hơn."
    )


def promoted(course: TrainingCourse) -> str:
    """Tell a member in line that a seat has come free for them (HTML)."""
    return (
        f"🎉 <b>Đã có chỗ cho anh/chị ở lớp “{html.escape(course.title)}”.</b>\n\n"
        f"📅 {weekday_date(course.starts_at)}, {clock(course.starts_at)}\n"
        f"📍 {html.escape(place(course))}\n\n"
        "Nếu không tham gia được, anh/chị gõ /taphuan để hủy, nhường chỗ cho người khác."
    )


def details(course: TrainingCourse, seats_left: int, state: str) -> str:
    """Show one course in the conversation (plain text): its card, then the member's state.

    `state` is `state_line(..., on_card=True)`, which takes the place of the announcement's
    last line (how to register) and repeats nothing the card shows.
    """
    text = plain(announcement(course, seats_left)).rsplit("\n\n", 1)[0]
    return f"{text}\n\n{state}"


def state_line(
    course: TrainingCourse,
    entry: TrainingRegistration | None,
    seats_left: int,
    place_in_line: int,
    now: datetime,
    *,
    on_card: bool = False,
) -> str:
    """Say where the member stands for a course, or whether they can still register.

    `on_card`: under the course's card, which already shows the seats left and the deadline,
    so that the line says what to do rather than repeat them.
    """
    if entry is not None and entry.status == RegistrationStatus.REGISTERED:
        return "✅ Anh/chị đã đăng ký lớp này."
    if entry is not None and entry.status == RegistrationStatus.WAITING:
        return f"⏳ Anh/chị đang ở danh sách chờ, thứ {place_in_line}."
    if now > course.deadline_at:
        return "Đã hết hạn đăng ký."
    if seats_left == 0:
        wait = "Anh/chị vẫn có thể đăng ký vào danh sách chờ."
        return wait if on_card else f"Lớp đã đủ chỗ; {wait[0].lower()}{wait[1:]}"
    if on_card:
        return REGISTER_HINT
    return f"Còn {count(seats_left)}/{count(course.capacity)} chỗ, hạn đăng ký {deadline(course)}."


def deadline(course: TrainingCourse) -> str:
    """Say the registration deadline as members read it."""
    return f"{clock(course.deadline_at)} {weekday_date(course.deadline_at)}"


def list_text(lines: list[tuple[TrainingCourse, str]]) -> str:
    """List upcoming courses, numbered, each with the member's state (plain text)."""
    items = [
        f"{number}. {course.title} (lớp số {course.id})\n"
        f"   📅 {weekday_date(course.starts_at)}, {clock(course.starts_at)}\n"
        f"   📍 {place(course)}\n"
        f"   {state}"
        for number, (course, state) in enumerate(lines, 1)
    ]
    return "🎓 Các lớp tập huấn sắp tới:\n\n" + "\n\n".join(items) + "\n\nChọn một lớp để xem."


def seated(course: TrainingCourse) -> str:
    """Confirm a seat."""
    return (
        f"✅ Anh/chị đã đăng ký lớp “{course.title}”.\n"
        f"📅 {weekday_date(course.starts_at)}, {clock(course.starts_at)}\n"
        f"📍 {place(course)}\n\n"
        "Bot sẽ nhắc lịch trước 3 ngày, 1 ngày và 2 giờ. "
        "Nếu bận, anh/chị gõ /taphuan để hủy, nhường chỗ cho người khác."
    )


def waiting(course: TrainingCourse, place_in_line: int) -> str:
    """Say the course is full and where the member stands in line."""
    return (
        f"Lớp “{course.title}” đã đủ chỗ. Anh/chị được ghi vào danh sách chờ, "
        f"đứng thứ {place_in_line}. Khi có người hủy, bot sẽ báo ngay để anh/chị đi học."
    )


def refused(outcome: str, course: TrainingCourse) -> str:
    """Explain why a request could not be done."""
    texts = {
        "closed": f"Lớp “{course.title}” đã hết hạn đăng ký lúc {deadline(course)}.",
        "started": f"Lớp “{course.title}” đã bắt đầu, không thay đổi đăng ký được nữa.",
        "cancelled_course": f"Lớp “{course.title}” đã bị hủy. Mong anh/chị thông cảm.",
        "not_for_you": f"Lớp “{course.title}” dành cho khu vực hoặc đối tượng khác.",
        "not_registered": f"Anh/chị chưa đăng ký lớp “{course.title}”.",
        "too_early": f"Lớp “{course.title}” chưa kết thúc; anh/chị đánh giá sau buổi học nhé.",
    }
    return texts[outcome]


def already(entry_status: str, course: TrainingCourse, place_in_line: int) -> str:
    """Say the member already has a seat or a place in line."""
    if entry_status == "waiting":
        return f"Anh/chị đã ở danh sách chờ lớp “{course.title}”, đứng thứ {place_in_line}."
    return f"Anh/chị đã đăng ký lớp “{course.title}” rồi."


def ask_cancel(course: TrainingCourse) -> str:
    """Ask before giving up a seat, which goes to the next in line at once."""
    return f"Anh/chị chắc chắn muốn hủy đăng ký lớp “{course.title}”?"


def cancelled(course: TrainingCourse) -> str:
    """Confirm a cancellation."""
    return f"Đã hủy đăng ký lớp “{course.title}”. Chỗ của anh/chị đã được nhường cho người khác."


def left_line(course: TrainingCourse) -> str:
    """Confirm leaving the waiting line."""
    return f"Đã rút tên khỏi danh sách chờ lớp “{course.title}”."


def thanks_for_rating(stars: int) -> str:
    """Thank the member for their rating."""
    return f"Cảm ơn anh/chị đã đánh giá {'★' * stars}{'☆' * (5 - stars)}. Chúc anh/chị thành công!"


def course_cancelled(course: TrainingCourse, reason: str | None) -> str:
    """Tell those registered or waiting that a course is called off (HTML)."""
    why = f"\nLý do: {html.escape(reason)}" if reason else ""
    return (
        f"⚠️ <b>Lớp “{html.escape(course.title)}” đã bị hủy.</b>{why}\n\n"
        "Mong anh/chị thông cảm. Gõ /taphuan để xem các lớp khác."
    )
