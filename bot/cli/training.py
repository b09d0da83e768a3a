"""`outreach training`: create courses, announce them, follow and export who registered."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from bot.cli.broadcast import build_audience, parse_local
from bot.cli.common import UsageProblem, fail_cleanly, sessions, settings
from bot.courses import CourseDraft, CourseProblem, cancel_course, create_course
from db.audience import count_audience
from db.base import utcnow
from db.models import Broadcast, RegistrationStatus, Role, TrainingCourse, TrainingTopic
from db.textmatch import fold
from db.training import count_status, get_course, mark_attendance, roster
from messages.member import ROLE_LABELS
from messages.ocop import CatalogProblem, read_rows
from messages.tables import Cell, write_table

TOPICS = [t.value for t in TrainingTopic]
STATUS_LABELS = {
    RegistrationStatus.REGISTERED: "Đã đăng ký",
    RegistrationStatus.WAITING: "Danh sách chờ",
    RegistrationStatus.CANCELLED: "Đã huỷ",
}
HEADERS = (
    "STT",
    "Mã đăng ký",
    "Họ tên",
    "Kênh",
    "Xã/phường",
    "Tỉnh/thành phố",
    "Hợp tác xã",
    "Vai trò",
    "Trạng thái",
    "Thứ tự chờ",
    "Đăng ký lúc",
    "Có chỗ lúc",
    "Huỷ lúc",
    "Đánh giá (sao)",
    "Có mặt",
)
PRESENT = {"x", "co", "1", "v", "yes", "co mat"}  # what staff type in "Có mặt", any accents


@click.group()
def training() -> None:
    """Create training courses, announce them and export who registered."""


def _end(value: str, start: datetime, tz: ZoneInfo) -> datetime:
    if len(value.strip()) <= 5:  # "16:30": the same day as the start
        try:
            hour, minute = (int(part) for part in value.split(":"))
            return start.replace(hour=hour, minute=minute)
        except ValueError:
            raise UsageProblem(f"--end {value!r} is not a time like '16:30'") from None
    return parse_local(value, tz, "--end")


@training.command("create")
@click.option("--title", required=True)
@click.option("--topic", required=True, type=click.Choice(TOPICS))
@click.option("--organiser", required=True, help="e.g. 'Liên minh HTX tỉnh Khánh Hòa'.")
@click.option("--start", required=True, help="Local time 'YYYY-MM-DD HH:MM'.")
@click.option("--end", required=True, help="'HH:MM' the same day, or 'YYYY-MM-DD HH:MM'.")
@click.option("--place", help="Where it takes place.")
@click.option("--online", help="The link for an online course.")
@click.option("--capacity", required=True, type=int)
@click.option("--deadline", required=True, help="Registration closes (local time).")
@click.option("--description")
@click.option("--province", multiple=True, help="Who it is for: province; repeatable.")
@click.option("--commune", multiple=True, help="Who it is for: commune; repeatable.")
@click.option("--role", multiple=True, type=click.Choice([r.value for r in Role]))
@click.option("--cooperative", multiple=True, help="Invitation code or id; repeatable.")
@click.option("--announce-at", help="When to announce (local time; default now).")
@click.option("--no-announce", is_flag=True, help="Create it without an announcement.")
@fail_cleanly
def create(
    title: str,
    topic: str,
    organiser: str,
    start: str,
    end: str,
    place: str | None,
    online: str | None,
    capacity: int,
    deadline: str,
    description: str | None,
    province: tuple[str, ...],
    commune: tuple[str, ...],
    role: tuple[str, ...],
    cooperative: tuple[str, ...],
    announce_at: str | None,
    no_announce: bool,
) -> None:
    """Create a course, schedule its announcement, reminders (3 d, 1 d, 2 h) and rating."""
    tz, now = settings().tz, utcnow()
    starts = parse_local(start, tz, "--start")
    announce = None if no_announce else now
    if announce_at and not no_announce:
        announce = parse_local(announce_at, tz, "--announce-at")
    with sessions().begin() as session:
        # Announced to those who asked for training news; who may register is wider.
        audience = build_audience(session, province, commune, role, ("training",), cooperative)
        draft = CourseDraft(
            title=title,
            topic=TrainingTopic(topic),
            organiser=organiser,
            starts_at=starts,
            ends_at=_end(end, starts, tz),
            capacity=capacity,
            deadline_at=parse_local(deadline, tz, "--deadline"),
            audience=audience,
            place=place,
            online_url=online,
            description=description,
        )
        try:
            course, made = create_course(
                session, draft, created_by="cli", now=now, announce_at=announce
            )
        except CourseProblem as exc:
            raise UsageProblem(str(exc)) from None
        click.echo(f"course {course.id}: {course.title}")
        for broadcast in made:
            click.echo(f"  {broadcast.kind} at {_local(broadcast.send_at, tz)}")
        if announce is not None:
            click.echo(f"  announced to {count_audience(session, audience)} subscribers")


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment is not None else ""


@training.command("list")
@click.option("--all", "everything", is_flag=True, help="Include past and cancelled courses.")
@fail_cleanly
def list_(everything: bool) -> None:
    """List courses: id, start, seats taken, waiting, status, title."""
    tz, now = settings().tz, utcnow()
    with sessions()() as session:
        query = select(TrainingCourse).order_by(TrainingCourse.starts_at)
        if not everything:
            query = query.where(TrainingCourse.starts_at > now)
        for course in session.scalars(query):
            seated = count_status(session, course.id, RegistrationStatus.REGISTERED)
            waiting = count_status(session, course.id, RegistrationStatus.WAITING)
            click.echo(
                f"{course.id}\t{_local(course.starts_at, tz)}\t{seated}/{course.capacity}"
                f"\t{waiting} waiting\t{course.status}\t{course.title}"
            )


@training.command("show")
@click.argument("course_id", type=int)
@fail_cleanly
def show(course_id: int) -> None:
    """Show a course, its seats and line, and the messages it sends."""
    tz = settings().tz
    with sessions()() as session:
        course = get_course(session, course_id)
        seated = count_status(session, course_id, RegistrationStatus.REGISTERED)
        waiting = count_status(session, course_id, RegistrationStatus.WAITING)
        click.echo(f"course {course.id} ({course.status}): {course.title}")
        click.echo(f"  {_local(course.starts_at, tz)} to {_local(course.ends_at, tz)}")
        click.echo(f"  registration until {_local(course.deadline_at, tz)}")
        click.echo(f"  seats: {seated}/{course.capacity} taken, {waiting} waiting")
        messages = session.scalars(
            select(Broadcast).where(Broadcast.course_id == course_id).order_by(Broadcast.send_at)
        )
        for b in messages:
            click.echo(f"  broadcast {b.id} {b.kind} {b.status} at {_local(b.send_at, tz)}")


@training.command("export")
@click.argument("course_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@fail_cleanly
def export(course_id: int, out: Path) -> None:
    """Write the registration list to a .csv or .xlsx file (seated, then the line)."""
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageProblem(f"--out {out}: the file must end in .csv or .xlsx")
    tz = settings().tz
    with sessions()() as session:
        get_course(session, course_id)
        rows = roster(session, course_id)
    table: list[list[Cell]] = [
        [
            number,
            r.registration_id,
            r.name,
            r.channel,
            r.commune,
            r.province,
            r.cooperative,
            ROLE_LABELS[Role(r.role)] if r.role else "",
            STATUS_LABELS[r.status],
            r.place_in_line or None,
            _local(r.registered_at, tz),
            _local(r.seated_at, tz),
            _local(r.cancelled_at, tz),
            r.rating,
            "x" if r.attended_at else None,
        ]
        for number, r in enumerate(rows, 1)
    ]
    write_table(out, HEADERS, table)
    click.echo(f"wrote {len(rows)} registrations to {out}")


@training.command("attendance")
@click.argument("course_id", type=int)
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@fail_cleanly
def attendance(course_id: int, sheet: Path) -> None:
    """Mark who came, from the exported list with "x" typed in its "Có mặt" column."""
    try:
        rows = read_rows(sheet)
    except CatalogProblem as problem:
        raise UsageProblem(str(problem)) from None
    present = _present(rows, sheet.name)
    with sessions().begin() as session:
        get_course(session, course_id)
        marked, unknown = mark_attendance(session, course_id, present, utcnow())
        if unknown:
            session.rollback()
            listed = ", ".join(str(n) for n in unknown)
            raise UsageProblem(
                f"{sheet.name}: registrations {listed} are not on course {course_id}; "
                "nothing was marked (export the list of this course again)"
            )
        seated = count_status(session, course_id, RegistrationStatus.REGISTERED)
    click.echo(f"marked {marked} present on course {course_id} ({seated} seated)")


def _present(rows: list[tuple[int, list[str]]], name: str) -> set[int]:
    """Read the registration ids marked present; a row that cannot be read is an error."""
    if not rows:
        raise UsageProblem(f"{name} is empty")
    header = [fold(cell) for cell in rows[0][1]]
    try:
        ids, marks = header.index(fold(HEADERS[1])), header.index(fold(HEADERS[-1]))
    except ValueError:
        raise UsageProblem(
            f"{name}: the first row must have the columns '{HEADERS[1]}' and '{HEADERS[-1]}' "
            "(use the file `outreach training export` writes)"
        ) from None
    present, errors = set(), []
    for number, cells in rows[1:]:
        cell = cells[ids] if ids < len(cells) else ""
        mark = fold(cells[marks]) if marks < len(cells) else ""
        if not cell and not mark:
            continue
        if not cell.isdigit():
            errors.append(f"{name}:{number}: '{HEADERS[1]}' must be a number, not {cell!r}")
        elif mark in PRESENT:
            present.add(int(cell))
        elif mark:
            errors.append(f"{name}:{number}: '{HEADERS[-1]}' must be x or empty, not {mark!r}")
    if errors:
        raise UsageProblem("nothing was marked:\n" + "\n".join(errors))
    return present


@training.command("cancel")
@click.argument("course_id", type=int)
@click.option("--reason", help="Told to those registered (Vietnamese).")
@fail_cleanly
def cancel(course_id: int, reason: str | None) -> None:
    """Call a course off: drop its reminders and tell everyone registered or waiting."""
    with sessions().begin() as session:
        try:
            course, told = cancel_course(session, course_id, reason, utcnow())
        except CourseProblem as exc:
            raise UsageProblem(str(exc)) from None
        click.echo(f"course {course.id} cancelled; {told} members are being told")
