"""Write a report for staff: a workbook (xlsx), the table by area (csv) or a web page (html).

Every label a person reads is Vietnamese; the definitions of the figures travel with the file
("Ghi chú" sheet, the page's last section), so a report read months later still says what it
counted.
"""

from __future__ import annotations

import base64
import csv
import io
import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from babel.numbers import format_decimal

# The Agg canvas is used explicitly, figure by figure: no GUI backend, nothing kept by pyplot.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from db.reports import NATIONWIDE, AreaMonth, Report
from messages.filters import LOCALE
from messages.render import ENVIRONMENT
from messages.tables import safe
from messages.triage import load_rules

FORMATS = ("xlsx", "csv", "html")
Cell = str | int | float | None
TITLE = "Báo cáo thông tin đến thành viên hợp tác xã"
POLL_STATUS = {"open": "Đang mở", "closed": "Đã đóng"}
TOP_AREAS = 15


@dataclass(frozen=True)
class Column:
    """A figure of AreaMonth as staff read it: its header and what it counts."""

    key: str
    header: str
    meaning: str


BEFORE_TOPICS = (
    Column("broadcasts", "Đợt gửi tin", "Đợt gửi tin bắt đầu trong tháng có người nhận ở địa bàn"),
    Column("deliveries", "Tin nhắn", "Tin nhắn (mỗi người nhận một tin) của các đợt gửi đó"),
    Column("sent", "Đã gửi", "Tin nhắn được nền tảng (Telegram, Zalo) nhận để chuyển đi"),
    Column("failed", "Gửi lỗi", "Tin nhắn không gửi được, không kể người đã chặn"),
    Column("blocked", "Bị chặn", "Tin nhắn không gửi được vì người nhận đã chặn tài khoản"),
    Column("reached", "Người nhận được tin", "Số người khác nhau có ít nhất một tin đã gửi"),
    Column("new", "Đăng ký mới", "Người đồng ý nhận tin trong tháng"),
    Column("stopped", "Ngừng nhận tin", "Người gửi /stop (ngừng nhận tin) trong tháng"),
    Column(
        "feedback", "Phản ánh", "Ý kiến, phản ánh nhận được, tính theo xã của người gửi lúc gửi"
    ),
)
AFTER_TOPICS = (
    Column("flagged", "Phản ánh cần chú ý", "Có dấu hiệu thô tục, tin sai sự thật hoặc nhạy cảm"),
    Column("answered", "Đã trả lời", "Phản ánh đã được cán bộ trả lời"),
    Column(
        "reply_hours_median",
        "Thời gian trả lời (giờ)",
        "Trung vị số giờ từ lúc nhận đến lần trả lời đầu tiên",
    ),
    Column("useful", "Đánh giá: Hữu ích", "Lượt bấm “Hữu ích” dưới tin nhắn"),
    Column("unclear", "Đánh giá: Chưa rõ", "Lượt bấm “Chưa rõ” dưới tin nhắn"),
    Column("registered", "Tập huấn: đăng ký", "Lượt đăng ký lớp tập huấn (có chỗ hoặc chờ)"),
    Column("cancelled", "Tập huấn: hủy", "Lượt đăng ký đã hủy"),
    Column("attended", "Tập huấn: tham dự", "Lượt có mặt theo danh sách điểm danh"),
    Column("rated", "Tập huấn: đánh giá", "Lượt chấm điểm lớp học sau khi học"),
    Column("spotlights", "OCOP: tin đã gửi", "Tin giới thiệu sản phẩm OCOP đã gửi"),
    Column("taps", "OCOP: lượt bấm", "Lượt bấm Liên hệ / Xem thêm dưới tin OCOP"),
)


def month_text(month: date) -> str:
    """Write a month as "10/2026"."""
    return f"{month.month:02d}/{month.year}"


def _topics(report: Report) -> list[tuple[str, str]]:
    rules = load_rules()
    keys = list(rules.topics)
    seen = set().union(*(r.feedback_by_topic for r in report.month_totals))
    keys += sorted(seen - set(keys))  # topics no longer in the rules keep their column
    return [(key, rules.label(key)) for key in keys]


def _figures(topics: list[tuple[str, str]]) -> list[Column]:
    by_topic = [Column(f"topic:{k}", f"Phản ánh: {label}", "") for k, label in topics]
    return [*BEFORE_TOPICS, *by_topic, *AFTER_TOPICS]


def _value(row: AreaMonth, key: str) -> Cell:
    if key.startswith("topic:"):
        return row.feedback_by_topic.get(key.removeprefix("topic:"), 0)
    value: int | float | None = getattr(row, key)
    return round(value, 1) if isinstance(value, float) else value


@dataclass(frozen=True)
class Table:
    """Headers and rows, as they go into a sheet, a CSV file or a page."""

    headers: list[str]
    rows: list[list[Cell]]


def totals_table(report: Report) -> Table:
    """Build the per-month totals of the scope and the whole period's line."""
    columns = _figures(_topics(report))
    lines = [(month_text(r.month), r) for r in report.month_totals]
    lines.append(("Cả kỳ", report.total))
    rows = [[label, *(_value(r, c.key) for c in columns)] for label, r in lines]
    return Table(["Tháng", *(c.header for c in columns)], rows)


def area_table(report: Report) -> Table:
    """Build the month x area table, every figure a column."""
    columns = _figures(_topics(report))
    rows = [
        [month_text(r.month), r.area, *(_value(r, c.key) for c in columns)] for r in report.rows
    ]
    return Table(["Tháng", "Địa bàn", *(c.header for c in columns)], rows)


def poll_table(report: Report) -> Table:
    """Build the polls' options with their answers, in total and by area."""
    answered = {area for poll in report.polls for area in poll.by_area}
    # The report's order; an area with answers and nothing else comes after, by name.
    areas = [a for a in report.areas if a in answered] + sorted(answered - set(report.areas))
    rows: list[list[Cell]] = [
        [p.poll_id, p.question, POLL_STATUS.get(p.status, p.status), p.option, p.total]
        for p in report.polls
    ]
    for row, poll in zip(rows, report.polls, strict=True):
        row += [poll.by_area.get(a, 0) for a in areas]
    return Table(["Mã", "Câu hỏi", "Trạng thái", "Lựa chọn", "Số trả lời", *areas], rows)


def notes(report: Report) -> list[tuple[str, str]]:
    """Say what the report covers and what each figure counts."""
    made = report.generated_at
    period = f"{report.start:%d/%m/%Y} – {report.end:%d/%m/%Y}"
    by = "tỉnh, thành phố" if report.scope == NATIONWIDE else "xã, phường"
    rows = f"Mỗi dòng của trang “Theo địa bàn” là một tháng ở một {by}"
    return [
        ("Báo cáo", TITLE),
        ("Phạm vi", report.scope),
        ("Thời gian", period),
        ("Lập lúc", f"{made:%d/%m/%Y %H:%M}{_offset(made)}"),
        ("Cách đọc", f"{rows}; tháng tính theo giờ Việt Nam."),
        ("Phản ánh: <chủ đề>", "Phản ánh theo chủ đề do quy tắc phân loại gán; không rõ: Khác"),
        *((c.header, c.meaning) for c in (*BEFORE_TOPICS, *AFTER_TOPICS)),
    ]


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    if offset is None:
        return ""
    hours = offset.total_seconds() / 3600
    return f" (UTC{hours:+g})"  # " (UTC+7)"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    figure.clear()  # frees the artists now, not when the figure is collected
    return buffer.getvalue()


def _bars(title: str, labels: list[str], values: list[int]) -> bytes:
    figure = Figure(figsize=(8, max(2.5, 0.4 * len(labels) + 1.2)), dpi=100, layout="tight")
    axes = figure.add_subplot()
    axes.set_title(title)
    if not labels:
        axes.text(0.5, 0.5, "Không có số liệu", ha="center", va="center")
        axes.set_axis_off()
        return _png(figure)
    axes.barh(labels, values, color="#2e7d32")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 ticks
    axes.invert_yaxis()  # the largest on top
    axes.bar_label(axes.containers[0])  # type: ignore[arg-type]
    return _png(figure)


def _messages_chart(report: Report) -> bytes:
    figure = Figure(figsize=(8, 4), dpi=100, layout="tight")
    axes = figure.add_subplot()
    axes.set_title("Tin nhắn theo tháng")
    months = [month_text(r.month) for r in report.month_totals]
    series = [("sent", "Đã gửi", "#2e7d32"), ("failed", "Gửi lỗi", "#f9a825")]
    for i, (key, label, colour) in enumerate([*series, ("blocked", "Bị chặn", "#c62828")]):
        values = [getattr(r, key) for r in report.month_totals]
        places = [x + (i - 1) * 0.27 for x in range(len(months))]
        axes.bar(places, values, 0.27, label=label, color=colour)
    axes.set_xticks(range(len(months)), months)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend()
    return _png(figure)


def charts(report: Report) -> list[tuple[str, bytes]]:
    """Draw the three charts as PNG: messages by month, feedback by topic, reach by area."""
    by_topic = report.total.feedback_by_topic
    topics = [(label, by_topic[key]) for key, label in _topics(report) if by_topic.get(key)]
    reached = sorted((r for r in report.area_totals if r.reached), key=lambda r: -r.reached)
    top = reached[:TOP_AREAS]
    titles = [
        "Tin nhắn theo tháng",
        "Phản ánh theo chủ đề (cả kỳ)",
        f"Người nhận được tin theo địa bàn ({TOP_AREAS} nơi nhiều nhất)",
    ]
    return [
        (titles[0], _messages_chart(report)),
        (titles[1], _bars(titles[1], [t[0] for t in topics], [t[1] for t in topics])),
        (titles[2], _bars(titles[2], [r.area for r in top], [r.reached for r in top])),
    ]


def write_report(report: Report, path: Path, fmt: str) -> None:
    """Write the report to a file as xlsx, csv or html."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        _write_csv(area_table(report), path)
    elif fmt == "xlsx":
        _write_xlsx(report, path)
    else:
        path.write_text(render_html(report), encoding="utf-8")


def _write_csv(table: Table, path: Path) -> None:
    # Imported here: the bot.cli package imports this module when it loads.

    with path.open("w", encoding="utf-8-sig", newline="") as handle:  # the BOM: Excel reads UTF-8
        writer = csv.writer(handle)
        writer.writerow(table.headers)
        writer.writerows([safe(v) for v in row] for row in table.rows)


def _write_xlsx(report: Report, path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "Tổng hợp"
    totals = totals_table(report)
    _fill(sheet, totals, "B2")
    row = len(totals.rows) + 3
    for _title, png in charts(report):
        image = Image(io.BytesIO(png))
        sheet.add_image(image, f"A{row}")
        row += math.ceil(image.height / 20) + 2  # rows are 20 pixels high
    _fill(book.create_sheet("Theo địa bàn"), area_table(report), "C2")
    _fill(book.create_sheet("Bình chọn"), poll_table(report), "B2")
    _fill(
        book.create_sheet("Ghi chú"),
        Table(["Mục", "Nội dung"], list(map(list, notes(report)))),
        "A2",
    )
    book.save(path)


def _fill(sheet: Worksheet, table: Table, freeze: str) -> None:

    sheet.append(table.headers)
    for values in table.rows:
        sheet.append([safe(v) for v in values])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, header in enumerate(table.headers, 1):
        widest = max([min(len(header), 18)] + [len(str(r[column - 1] or "")) for r in table.rows])
        sheet.column_dimensions[get_column_letter(column)].width = min(60, widest + 2)
    sheet.freeze_panes = freeze


def _display(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.0", locale=LOCALE)
    if isinstance(value, int):
        return format_decimal(value, format="#,##0", locale=LOCALE)
    return value


def _html_table(table: Table) -> dict[str, object]:
    cells = [[(_display(v), isinstance(v, int | float)) for v in row] for row in table.rows]
    return {"headers": table.headers, "rows": cells}


def render_html(report: Report) -> str:
    """Render the report as one page that needs no other file, readable on a phone."""
    images = [
        (title, "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
        for title, png in charts(report)
    ]
    return ENVIRONMENT.get_template("report.html.j2").render(
        title=TITLE,
        notes=notes(report),
        charts=images,
        totals=_html_table(totals_table(report)),
        areas=_html_table(area_table(report)),
        polls=_html_table(poll_table(report)),
    )
