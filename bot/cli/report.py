"""`outreach report`: a period's figures by month and area, as xlsx, csv or html, with charts."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from bot.cli.common import UsageProblem, fail_cleanly, sessions, settings, tell
from db.areas import resolve_place
from db.base import utcnow
from db.models import Area
from db.reports import build_report, year_period
from db.textmatch import fold
from messages.report_files import FORMATS, write_report

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


@click.command("report")
@click.option("--from", "start", help="First day: 2026-01-01 or 1/1/2026.")
@click.option("--to", "end", help="Last day, included: 2026-10-31 or 31/10/2026.")
@click.option("--year", type=int, help="The yearly report: 1/11 of the year before to 31/10.")
@click.option("--area", help="Province or commune: name, 'commune, province' or code.")
@click.option("--format", "fmt", default="xlsx", show_default=True, help="xlsx, csv or html.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
@fail_cleanly
def report(
    start: str | None,
    end: str | None,
    year: int | None,
    area: str | None,
    fmt: str,
    out: Path | None,
) -> None:
    """Write the outreach report of a period, by month and area (default: nationwide)."""
    if fmt not in FORMATS:
        raise UsageProblem(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    first, last = period(start, end, year)
    tz = settings().tz
    with sessions()() as session:
        scope = find_scope(session, area) if area else None
        built = build_report(session, first, last, scope, tz, utcnow().astimezone(tz))
    path = out or Path(f"bao-cao-{fold(built.scope).replace(' ', '-')}-{first}-{last}.{fmt}")
    write_report(built, path, fmt)
    polls = len({p.poll_id for p in built.polls})
    click.echo(
        f"wrote report {path}: {len(built.months)} months x {len(built.areas)} areas, {polls} polls"
    )


def period(start: str | None, end: str | None, year: int | None) -> tuple[date, date]:
    """Read the period from --from/--to or --year."""
    if year is not None:
        if start or end:
            raise UsageProblem("give either --year or --from/--to, not both")
        return year_period(year)
    if not (start and end):
        raise UsageProblem(
            "give --from and --to (e.g. --from 2026-01-01 --to 2026-10-31), or --year"
        )
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    if first > last:
        raise UsageProblem(f"--from {first} is after --to {last}")
    return first, last


def parse_day(text: str, option: str) -> date:
    """Read a day written 2026-10-15 or 15/10/2026."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise UsageProblem(f"{option} {text!r} is not a date like 2026-10-15 or 15/10/2026")


def find_scope(session: Session, text: str) -> Area:
    """Find the province or commune a report is for: a name, 'commune, province' or a code.

    A near match is taken and printed on stderr with its code."""
    try:
        return resolve_place(session, text, tell)
    except LookupError as exc:
        raise UsageProblem(f"unknown area {text!r}: {exc}") from None
