"""What the bot says to officers: composing, approving and following announcements."""

from __future__ import annotations

from messages.sandbox import TemplateProblem

NOT_STAFF = (
    "Lệnh này chỉ dành cho cán bộ Liên minh Hợp tác xã. Nếu anh/chị là cán bộ, "
    "xin nhờ quản trị viên thêm tài khoản của mình."
)
ASK_KIND = "✍️ Soạn tin mới. Đây là loại tin nào?"
KIND_NOTICE = "Thông báo chung"
ASK_CONTENT = (
    "Gửi nội dung tin: một tin nhắn chữ (giữ nguyên chữ đậm, nghiêng, đường link), hoặc một "
    "ảnh kèm chú thích. Có thể chèn {{ subscriber.name }} để gọi tên từng người.\n"
    "Gõ /huy để thôi."
)
NEED_CONTENT = "Xin gửi nội dung tin bằng chữ, hoặc một ảnh kèm chú thích."
BAD_TEMPLATE = "Nội dung có chỗ viết chưa đúng nên chưa dùng được: {problem}. Xin gửi lại nội dung."
FORMATTING = "chỉ dùng chữ đậm, nghiêng, gạch chân, gạch ngang, mã, trích dẫn và đường link"
# Why a template cannot be used, by TemplateProblem.reason; {…} from its details.
TEMPLATE_PROBLEMS = {
    "syntax": "lỗi cú pháp mẫu tin{line_text}: {detail}",
    "error": "mẫu tin không điền được: {detail}",
    "field": "không có trường “{field}”; dùng được: {available}",
    "name": "không có tên “{name}”; dùng được: {available}",
    "output": "tin sau khi điền dài quá {limit} ký tự",
    "value": "mẫu tin tạo ra một đoạn chữ hay danh sách dài quá {limit} ký tự",
    "number": "phép tính cho ra số quá lớn (quá {limit} chữ số)",
    "work": "một phép tính trong mẫu tin tạo ra quá nhiều chữ (quá {limit} ký tự)",
    "range": "range() quá {limit} phần tử",
    "nesting": "vòng lặp lồng nhau quá {limit} tầng",
    "iterations": "các vòng lặp chạy quá {limit} lần",
    "calls": "mẫu tin gọi hàm quá {limit} lần",
    "depth": "macro gọi lồng nhau quá sâu",
    "time": "mẫu tin chạy quá {seconds} giây",
    "slow": "mẫu tin điền cho mỗi người nhận mất quá {seconds} giây; xin viết gọn lại",
    "refused": "không được dùng {what} trong tin",
    "source": "mẫu tin dài quá {limit} ký tự",
    "empty": "tin đang trống",
    "tag": "thẻ {tag} không dùng được; " + FORMATTING,
    "attribute": "thẻ {tag} không được có thuộc tính “{attribute}”",
    "link": "đường link {tag} phải bắt đầu bằng https://",
    "malformed": "thẻ {tag} viết chưa đúng",
    "unclosed": "thẻ {tag} chưa được đóng",
    "unopened": "thẻ đóng {tag} không có thẻ mở",
    "bare": "ký tự {character} cần viết dạng HTML",
}


def template_problem(problem: TemplateProblem) -> str:
    """Say in Vietnamese why a template cannot be used (the English message as a fallback)."""
    wording = TEMPLATE_PROBLEMS.get(problem.reason)
    details = {key: _number(value) for key, value in problem.details.items()}
    line = problem.details.get("line")
    details["line_text"] = f" (dòng {line})" if line else ""
    try:
        return wording.format(**details) if wording else str(problem)
    except (KeyError, ValueError, IndexError):
        return str(problem)


TOO_LONG = (
    "Tin dài quá: sẽ thành {parts} tin nhắn Telegram (tối đa {most}). "
    "Xin rút gọn, hoặc đưa toàn văn lên trang web và gửi đường link."
)
ASK_AREA_ALL = (
    "Gửi đến đâu? Chọn bên dưới, hoặc gõ tên tỉnh hay xã (ví dụ: Mỹ Sơn, Khánh Hòa), "
    "hoặc mã mời của một HTX."
)
ASK_AREA_PROVINCE = (
    "Gửi đến đâu? Chọn cả tỉnh, hoặc gõ tên một xã trong {province}, hoặc mã mời của một HTX."
)
ASK_AREA_COMMUNE = "Tin sẽ gửi đến bà con {commune} (hoặc gõ mã mời của một HTX trong xã)."
EVERYWHERE = "Toàn quốc"
WHOLE = "Cả {name}"
OUT_OF_SCOPE = "Anh/chị chỉ được gửi tin trong phạm vi {scope}. Xin chọn lại nơi nhận."
AREA_NOT_FOUND = "Không tìm thấy nơi nào tên “{text}” trong phạm vi của anh/chị. Xin gõ lại."
AREA_MANY = "Có nhiều nơi tên “{text}”: {names}. Xin gõ rõ hơn, kèm tên tỉnh."
ASK_ROLE = "Gửi cho ai?"
EVERYONE = "Tất cả"
EMPTY_AUDIENCE = (
    "Chưa có ai nhận tin với lựa chọn này (không ai ở {area} nhận loại tin này). "
    "Chưa có gì được lên lịch. Xin chọn lại nơi nhận."
)
PREVIEW = "👆 Xem trước: bà con sẽ nhận đúng như trên.\n📍 {area} · {role} · {count} người nhận."
# Added to the preview of a photo sent in the chat (a Telegram file) when Zalo members are in
# the audience: Zalo takes a photo only by its web address, so they get the words alone.
ZALO_NO_PHOTO = (
    "⚠️ Lưu ý: {count} thành viên trên Zalo sẽ nhận nội dung chữ, không kèm ảnh "
    "(Zalo chỉ nhận ảnh có địa chỉ web)."
)
SEND_NOW = "🚀 Gửi ngay"
SCHEDULE = "⏰ Hẹn giờ"
EDIT = "✏️ Sửa nội dung"
CANCEL = "✖️ Hủy"
ASK_TIME = "Gửi lúc nào? Gõ ví dụ: 15/10 7:30, mai 7h, thứ ba 19:30."
CANCELLED = "Đã hủy tin đang soạn. Gõ /new để soạn tin khác."
NOTHING_TO_CANCEL = "Anh/chị không soạn tin nào."
SCHEDULED = "✅ Đã lên lịch tin #{id}: gửi {when}, đến {count} người."
AWAITING = (
    "📨 Tin #{id} đã gửi để duyệt; tin {kind} cần người duyệt khác người soạn. "
    "Anh/chị sẽ được báo khi có kết quả."
)
NO_APPROVER = (
    "⚠️ Tin #{id} cần được duyệt nhưng chưa có cán bộ duyệt tin nào cho nơi nhận này. "
    "Xin báo quản trị viên thêm người duyệt."
)
TO_APPROVE = (
    "📝 Tin #{id} của {author} chờ duyệt.\n📍 {area} · {role} · {count} người nhận · gửi {when}."
)
APPROVE = "✅ Duyệt"
REJECT = "❌ Từ chối"
APPROVED_YOU = "Đã duyệt tin #{id}; tin sẽ gửi {when}."
APPROVED_AUTHOR = "✅ Tin #{id} đã được {approver} duyệt; tin sẽ gửi {when}."
ASK_REASON = "Vì sao từ chối tin #{id}? Gõ lý do, người soạn sẽ đọc được."
REJECTED_YOU = "Đã từ chối tin #{id}."
REJECTED_AUTHOR = "❌ Tin #{id} bị {approver} từ chối. Lý do: {reason}\nGõ /new để soạn lại."
OWN_BROADCAST = "Anh/chị không tự duyệt tin mình soạn được; tin cần người duyệt khác."
ALREADY_DECIDED = "Tin #{id} không còn chờ duyệt (hiện: {status})."
NOT_YOURS = "Tin #{id} không thuộc phạm vi của anh/chị."
NO_BROADCASTS = "Anh/chị chưa soạn tin nào. Gõ /new để soạn tin."
BROADCASTS = "📋 Tin của anh/chị (mới nhất trước):"
BROADCAST_LINE = "#{id} · {status} · {progress} · {when}\n   {preview}"
PAUSE = "⏸ Dừng #{id}"
RESUME = "▶️ Tiếp #{id}"
STOP = "✖️ Hủy #{id}"
MOVED = {
    "pause": "Đã tạm dừng tin #{id}.",
    "resume": "Đã cho tin #{id} gửi tiếp.",
    "cancel": "Đã hủy tin #{id}; những người chưa nhận sẽ không nhận nữa.",
}
CANNOT_MOVE = "Tin #{id} đang ở trạng thái “{status}”, không thể làm vậy."
STATUS = {
    "draft": "nháp",
    "awaiting_approval": "chờ duyệt",
    "rejected": "bị từ chối",
    "scheduled": "đã lên lịch",
    "sending": "đang gửi",
    "paused": "tạm dừng",
    "done": "đã gửi xong",
    "cancelled": "đã hủy",
}
ROLE_LABELS = {
    "member": "Thành viên HTX",
    "manager": "Cán bộ quản lý HTX",
    "farmer": "Nông dân",
    "officer": "Cán bộ xã, thôn",
}
STAFF_HELP = (
    "Lệnh dành cho cán bộ:\n"
    "/new – soạn tin mới\n"
    "/broadcasts – các tin đã soạn: tiến độ, dừng, gửi tiếp, hủy\n"
    "/stats – số liệu 30 ngày của địa bàn\n"
    "/inbox – phản ánh của bà con đang chờ: xem, trả lời, nhận xử lý, đóng\n"
    "/report – báo cáo năm nay của địa bàn (tệp Excel)\n"
    "/huy – thôi soạn tin"
)

ADMIN_ONLY = "Chỉ quản trị viên mới quản lý được danh sách cán bộ."
STAFF_USAGE = (
    "Quản lý cán bộ:\n"
    "/staff – xem danh sách\n"
    "/staff them <mã Telegram> <bientap|duyet|quantri> [nơi] – thêm, ví dụ: "
    "/staff them 123456789 bientap Mỹ Sơn, Khánh Hòa\n"
    "/staff doi <số> <vai trò> [nơi] – đổi vai trò, phạm vi\n"
    "/staff xoa <số> – xóa"
)
STAFF_LINE = "{id}. {name} · {role} · {area} · telegram:{user_id}"
STAFF_ROLE = {"admin": "quản trị", "editor": "biên tập", "approver": "duyệt tin"}
STAFF_EVERYWHERE = "toàn quốc"
STAFF_ADDED = "Đã thêm cán bộ:\n{line}"
STAFF_CHANGED = "Đã đổi:\n{line}"
STAFF_REMOVED = "Đã xóa cán bộ:\n{line}"
STAFF_NOT_FOUND = "Không có cán bộ số {id}. Gõ /staff để xem danh sách."
STAFF_BAD_ROLE = "Vai trò “{role}” không rõ; dùng bientap, duyet hoặc quantri."
STAFF_PLACE = "Không tìm thấy nơi “{text}”. Gõ tên tỉnh, hoặc tên xã kèm tỉnh: Mỹ Sơn, Khánh Hòa."
STAFF_PROBLEMS = {
    "an editor works in one area": "Biên tập viên cần một phạm vi: gõ tên tỉnh hoặc xã.",
    "an admin works everywhere": "Quản trị viên làm việc trên toàn quốc, không cần ghi nơi.",
    "last admin": "Đây là quản trị viên cuối cùng: hãy cho người khác làm quản trị trước.",
    "is staff already": "Tài khoản này đã là cán bộ; dùng /staff doi để đổi.",
}


def _number(value: object) -> object:
    """Write numbers the Vietnamese way: 20.000, 0,5."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return f"{value:,}".replace(",", ".")
