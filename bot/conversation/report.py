"""Give an officer the report of their area in the chat (/report): an Excel file."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.conversation.events import Document, Reply
from db.models import Staff, StaffRole
from db.reports import build_report, year_period
from db.textmatch import fold
from messages import feedback as say
from messages.report_files import write_report


def reporting_year(today: date) -> tuple[date, date]:
    """Return the reporting year in progress (from 1/11, as the yearly report counts), to today."""
    start_year = today.year if today >= date(today.year, 11, 1) else today.year - 1
    return date(start_year, 11, 1), today


def report_command(
    session: Session, staff: Staff, text: str, now: datetime, tz: ZoneInfo
) -> list[Reply]:
    """Answer /report (the reporting year to date) or /report 2026 (that year's report)."""
    today = now.astimezone(tz).date()
    words = fold(text).split()
    if not words:
        start, end = reporting_year(today)
    elif len(words) == 1 and words[0].isdigit() and 2000 < int(words[0]) <= today.year + 1:
        start, end = year_period(int(words[0]))
        end = min(end, today)
    else:
        return [Reply(say.REPORT_USAGE)]
    if start > end:
        return [Reply(say.REPORT_USAGE)]
    area = staff.area if staff.role is not StaffRole.ADMIN else None
    report = build_report(session, start, end, area, tz, now)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"bao-cao-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
        write_report(report, path, "xlsx")
        content = path.read_bytes()
    total = report.total
    caption = say.REPORT_READY.format(
        scope=report.scope,
        start=f"{start:%d/%m/%Y}",
        end=f"{end:%d/%m/%Y}",
        sent=total.sent,
        reached=total.reached,
        feedback=total.feedback,
        flagged=total.flagged,
    )
    return [Reply(caption, document=Document(path.name, content))]
