"""`outreach report` as an operator runs it: the files it writes, read back cell by cell."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from db.reports import AreaMonth, PollRow, Report
from messages.report_files import write_report
from messages.triage import load_rules
from tests.bot.test_cli import run
from tests.db.test_reports import seed

PERIOD = ("--from", "2026-08-01", "--to", "31/10/2026")
FIGURES = [
    "Đợt gửi tin",
    "Tin nhắn",
    "Đã gửi",
    "Gửi lỗi",
    "Bị chặn",
    "Người nhận được tin",
    "Đăng ký mới",
    "Ngừng nhận tin",
    "Phản ánh",
]
AFTER_TOPICS = [
    "Phản ánh cần chú ý",
    "Đã trả lời",
    "Thời gian trả lời (giờ)",
    "Đánh giá: Hữu ích",
    "Đánh giá: Chưa rõ",
    "Tập huấn: đăng ký",
    "Tập huấn: hủy",
    "Tập huấn: tham dự",
    "Tập huấn: đánh giá",
    "OCOP: tin đã gửi",
    "OCOP: lượt bấm",
]


def topic_keys() -> list[str]:
    """The topics in the rules' order: one column each."""
    return list(load_rules().topics)


def headers() -> list[str]:
    """Every figure's column, the topics' from the triage rules staff edit."""
    rules = load_rules()
    topics = [f"Phản ánh: {rules.label(key)}" for key in topic_keys()]
    assert {"Phản ánh: Vốn, tín dụng", "Phản ánh: Khác"} <= set(topics)
    return [*FIGURES, *topics, *AFTER_TOPICS]


def line(
    first: list[object], before: list[int], topics: dict[str, int], after: list[object]
) -> list[object]:
    """A row as written: its labels, the figures before the topics, by topic, the rest."""
    assert len(before) == len(FIGURES) and len(after) == len(AFTER_TOPICS)
    return [*first, *before, *(topics.get(k, 0) for k in topic_keys()), *after]


# Nationwide, August to October 2026: the figures tests/db/test_reports.py counts by hand.
TOTALS = [
    line(["08/2026"], [2, 10, 5, 2, 2, 4, 3, 1, 3], {"von": 2, "khac": 1},
         [1, 2, 4, 3, 1, 2, 1, 0, 0, 0, 0]),
    line(["09/2026"], [2, 6, 5, 0, 0, 4, 2, 1, 2], {"dat_dai": 1, "thi_truong": 1},
         [1, 2, 5.5, 1, 1, 1, 0, 2, 1, 0, 0]),
    line(["10/2026"], [1, 4, 3, 0, 1, 3, 1, 1, 2], {"von": 1, "khac": 1},
         [0, 1, 4, 0, 0, 1, 0, 0, 1, 3, 5]),
    line(["Cả kỳ"], [5, 20, 13, 2, 3, 6, 6, 3, 7],
         {"von": 3, "khac": 2, "dat_dai": 1, "thi_truong": 1},
         [2, 5, 4, 4, 2, 4, 1, 2, 2, 3, 5]),
]  # fmt: skip
HN, KH = "Thành phố Hà Nội", "Tỉnh Khánh Hòa"
BY_AREA = [
    line(["08/2026", HN], [2, 4, 2, 1, 0, 1, 0, 1, 0], {}, [0, 0, None, 1, 0, 0, 0, 0, 0, 0, 0]),
    line(["08/2026", KH], [1, 6, 3, 1, 2, 3, 3, 0, 3], {"von": 2, "khac": 1},
         [1, 2, 4, 2, 1, 2, 1, 0, 0, 0, 0]),
    line(["09/2026", HN], [0, 0, 0, 0, 0, 0, 0, 0, 1], {"thi_truong": 1},
         [1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0]),
    line(["09/2026", KH], [2, 6, 5, 0, 0, 4, 2, 1, 1], {"dat_dai": 1},
         [0, 1, 10, 1, 1, 0, 0, 1, 1, 0, 0]),
    line(["10/2026", HN], [1, 2, 1, 0, 1, 1, 1, 0, 0], {}, [0, 0, None, 0, 0, 0, 0, 0, 0, 1, 1]),
    line(["10/2026", KH], [1, 2, 2, 0, 0, 2, 0, 1, 1], {"von": 1},
         [0, 1, 4, 0, 0, 1, 0, 0, 1, 2, 3]),
    line(["10/2026", "Chưa rõ địa bàn"], [0, 0, 0, 0, 0, 0, 0, 0, 1], {"khac": 1},
         [0, 0, None, 0, 0, 0, 0, 0, 0, 0, 1]),
]  # fmt: skip


@pytest.fixture
def seeded(database_url: str, sessions: sessionmaker[Session]) -> dict[str, str]:
    """The environment of a CLI run on the test database, with the report's data in it."""
    with sessions.begin() as session:
        seed(session)
    return {"DATABASE_URL": database_url}


def values(sheet: object) -> list[list[object]]:
    """Every row of a sheet as values."""
    return [list(row) for row in sheet.iter_rows(values_only=True)]  # type: ignore[attr-defined]


def test_xlsx_cell_by_cell(seeded: dict[str, str], tmp_path: Path) -> None:
    result = run("report", *PERIOD, "--format", "xlsx", env=seeded, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    name = "bao-cao-toan-quoc-2026-08-01-2026-10-31.xlsx"
    assert result.stdout == f"wrote report {name}: 3 months x 3 areas, 2 polls\n"
    book = load_workbook(tmp_path / name)
    assert book.sheetnames == ["Tổng hợp", "Theo địa bàn", "Bình chọn", "Ghi chú"]

    totals = book["Tổng hợp"]
    assert values(totals) == [["Tháng", *headers()], *TOTALS]
    assert totals["A1"].font.b and totals["B1"].font.b and totals.freeze_panes == "B2"
    assert isinstance(totals["C2"].value, int) and totals["C2"].value == 10
    assert len(totals._images) == 3  # messages by month, feedback by topic, reach by area

    by_area = book["Theo địa bàn"]
    assert values(by_area) == [["Tháng", "Địa bàn", *headers()], *BY_AREA]
    assert by_area["C1"].font.b and by_area.freeze_panes == "C2"

    polls = book["Bình chọn"]
    header, *rows = values(polls)
    assert header == ["Mã", "Câu hỏi", "Trạng thái", "Lựa chọn", "Số trả lời", HN, KH]
    assert [row[1:] for row in rows] == [
        ["Đầu kỳ", "Đã đóng", "A", 0, 0, 0],
        ["Đầu kỳ", "Đã đóng", "B", 0, 0, 0],
        ["Có cần vay vốn?", "Đang mở", "Có", 3, 1, 2],
        ["Có cần vay vốn?", "Đang mở", "Không", 2, 1, 1],
        ["Có cần vay vốn?", "Đang mở", "Chưa quyết định", 1, 0, 1],
    ]
    assert rows[0][0] == rows[1][0] != rows[2][0] == rows[3][0] == rows[4][0]

    notes = {row[0]: row[1] for row in values(book["Ghi chú"])}
    assert notes["Phạm vi"] == "Toàn quốc"
    assert notes["Thời gian"] == "01/08/2026 – 31/10/2026"
    assert notes["Đã gửi"] == "Tin nhắn được nền tảng (Telegram, Zalo) nhận để chuyển đi"
    assert re.fullmatch(r"\d\d/\d\d/20\d\d \d\d:\d\d \(UTC\+7\)", notes["Lập lúc"])


def test_csv_of_a_province_by_commune(seeded: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "kh.csv"
    args = ("--area", "khanh hoa", "--format", "csv", "--out", str(out))
    result = run("report", *PERIOD, *args, env=seeded, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote report {out}: 3 months x 3 areas, 2 polls\n"
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    header, *rows = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    assert header == ["Tháng", "Địa bàn", *headers()]
    province, lam_son, my_son = "Tỉnh Khánh Hòa (chưa rõ xã)", "Xã Lâm Sơn", "Xã Mỹ Sơn"
    expected = [
        line(["08/2026", lam_son], [1, 1, 1, 0, 0, 1, 1, 0, 1], {"von": 1},
             [0, 0, None, 1, 0, 0, 1, 0, 0, 0, 0]),
        line(["08/2026", my_son], [1, 5, 2, 1, 2, 2, 2, 0, 2], {"von": 1, "khac": 1},
             [1, 2, 4.0, 1, 1, 2, 0, 0, 0, 0, 0]),
        line(["09/2026", province], [1, 1, 1, 0, 0, 1, 1, 0, 0], {},
             [0, 0, None, 0, 1, 0, 0, 0, 0, 0, 0]),
        line(["09/2026", lam_son], [1, 2, 2, 0, 0, 2, 0, 0, 1], {"dat_dai": 1},
             [0, 1, 10.0, 0, 0, 0, 0, 0, 0, 0, 0]),
        line(["09/2026", my_son], [2, 3, 2, 0, 0, 1, 1, 1, 0], {},
             [0, 0, None, 1, 0, 0, 0, 1, 1, 0, 0]),
        line(["10/2026", province], [0, 0, 0, 0, 0, 0, 0, 0, 1], {"von": 1},
             [0, 1, 4.0, 0, 0, 0, 0, 0, 0, 0, 0]),
        line(["10/2026", lam_son], [0, 0, 0, 0, 0, 0, 0, 1, 0], {},
             [0, 0, None, 0, 0, 0, 0, 0, 0, 0, 1]),
        line(["10/2026", my_son], [1, 2, 2, 0, 0, 2, 0, 0, 0], {},
             [0, 0, None, 0, 0, 1, 0, 0, 1, 2, 2]),
    ]  # fmt: skip
    assert rows == [["" if v is None else str(v) for v in row] for row in expected]


def test_html_page(seeded: dict[str, str], tmp_path: Path) -> None:
    result = run("report", *PERIOD, "--format", "html", env=seeded, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "bao-cao-toan-quoc-2026-08-01-2026-10-31.html").read_text("utf-8")
    assert '<html lang="vi">' in page and 'name="viewport"' in page
    assert len(re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', page)) == 3
    assert "<th>Người nhận được tin</th>" in page
    cells = re.findall(r"<tr>(.*?)</tr>", page)
    august = [c for c in cells if c.startswith("<td>08/2026</td>")]
    assert august[0] == "".join(
        ["<td>08/2026</td>"] + [f'<td class="n">{v}</td>' for v in TOTALS[0][1:-11]]
        + ['<td class="n">1</td>', '<td class="n">2</td>', '<td class="n">4,0</td>']
        + [f'<td class="n">{v}</td>' for v in TOTALS[0][-8:]]
    )  # fmt: skip
    assert '<td class="n">5,5</td>' in page  # September's median, with a decimal comma
    assert "<td>Có cần vay vốn?</td><td>Đang mở</td><td>Có</td>" in page
    assert "<dd>01/08/2026 – 31/10/2026</dd>" in page


def test_year_covers_november_to_october(seeded: dict[str, str], tmp_path: Path) -> None:
    result = run("report", "--year", "2026", "--format", "xlsx", env=seeded, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    name = "bao-cao-toan-quoc-2025-11-01-2026-10-31.xlsx"
    assert result.stdout == f"wrote report {name}: 12 months x 3 areas, 2 polls\n"
    book = load_workbook(tmp_path / name)
    months = [row[0] for row in values(book["Tổng hợp"])[1:]]
    assert months == ["11/2025", "12/2025"] + [f"{m:02d}/2026" for m in range(1, 11)] + ["Cả kỳ"]
    assert {row[0] for row in values(book["Ghi chú"])} >= {"Phạm vi", "Thời gian"}
    notes = {row[0]: row[1] for row in values(book["Ghi chú"])}
    assert notes["Thời gian"] == "01/11/2025 – 31/10/2026"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-11-01", "--to", "2026-10-31"),
         "--from 2026-11-01 is after --to 2026-10-31"),
        ((*PERIOD, "--area", "Không Có Nơi Này"), "unknown area 'Không Có Nơi Này'"),
        ((*PERIOD, "--format", "pdf"), "unknown format 'pdf'; use one of xlsx, csv, html"),
        (("--from", "2026-13-01", "--to", "2026-12-31"), "--from '2026-13-01' is not a date"),
        (("--year", "2026", "--from", "2026-01-01"), "give either --year or --from/--to"),
        (("--from", "2026-01-01",), "give --from and --to"),
    ],
)  # fmt: skip
def test_errors_are_one_line(
    database_url: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    work = tmp_path / "work"  # not where the SQLite database is
    work.mkdir()
    result = run("report", *args, env={"DATABASE_URL": database_url}, cwd=work)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(work.iterdir()) == []  # nothing written


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    month = date(2026, 10, 1)
    row = AreaMonth(month, 1, "=HYPERLINK(1)", sent=2)
    poll = PollRow(1, "+1 hay -1?", "open", "@A", 1, {"=HYPERLINK(1)": 1})
    report = Report(
        start=month,
        end=date(2026, 10, 31),
        scope="Toàn quốc",
        generated_at=datetime(2026, 11, 1, tzinfo=UTC),
        rows=[row],
        polls=[poll],
        areas=[row.area],
        months=[month],
        month_totals=[AreaMonth(month, 0, "Toàn quốc", sent=2)],
        area_totals=[row],
        total=AreaMonth(month, 0, "Toàn quốc", sent=2),
    )
    write_report(report, tmp_path / "r.xlsx", "xlsx")
    write_report(report, tmp_path / "r.csv", "csv")
    book = load_workbook(tmp_path / "r.xlsx")
    assert book["Theo địa bàn"]["B2"].value == "'=HYPERLINK(1)"
    assert values(book["Bình chọn"])[1][1:5] == ["'+1 hay -1?", "Đang mở", "'@A", 1]
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text("utf-8-sig"))))
    assert rows[1][:3] == ["10/2026", "'=HYPERLINK(1)", "0"]
