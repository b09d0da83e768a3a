"""Campaigns from the command line: preview a plan, load it, list, pause and resume."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.campaigns import describe_kind, load_campaign, pause, resume
from bot.cli.common import UsageProblem, fail_cleanly, nothing_loaded, sessions, settings
from db import audit
from db.audience import Audience, count_audience
from db.base import utcnow
from db.campaigns import CampaignRefused, by_slug, history, totals
from db.models import Campaign
from messages.packs import PackProblem, read_packs
from messages.render import compile_text
from schedules import calendar
from schedules.files import CampaignFile, CampaignProblem, Candidate, read_campaign
from schedules.firing import planned
from schedules.planner import plan
from schedules.preview import format_preview

DAY_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


@click.group()
def campaign() -> None:
    """Plan campaigns from YAML files and follow them."""


@campaign.command("preview")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--detail", is_flag=True, help="List every send too, with its item's title.")
@click.option(
    "--from", "since", type=click.DateTime(DAY_FORMATS), help="First day to show (2023-10-15)."
)
@click.option("--to", "until", type=click.DateTime(DAY_FORMATS), help="Last day to show, included.")
@fail_cleanly
def preview(path: Path, detail: bool, since: datetime | None, until: datetime | None) -> None:
    """Check a campaign file and show its sends week by week; needs no database."""
    try:
        items = read_packs()  # the shipped packs: what the campaign can send before any load
    except PackProblem as problem:
        raise UsageProblem(
            "the content packs have problems:\n" + "\n".join(problem.errors)
        ) from None
    try:
        file = read_campaign(path, known={item.slug for item in items})
        candidates = [
            Candidate(i.slug, i.kind.value, i.topic, tuple(i.tags), i.title) for i in items
        ]
        pool = file.pool.pick(candidates)
    except CampaignProblem as problem:
        count = len(problem.errors)
        raise UsageProblem(
            f"{count} problem{'s' if count > 1 else ''} in {path}:\n" + "\n".join(problem.errors)
        ) from None
    if not pool and (file.cadence.times or file.peaks):
        raise UsageProblem(
            f"{path}: the pool matches no content item, so the cadence sends nothing"
        )
    start = _day_start(since.date(), file.tz) if since else file.starts_at
    stop = _day_start(until.date() + timedelta(days=1), file.tz) if until else file.ends_at
    if stop <= start:
        raise UsageProblem("--to must not be before --from")
    sends = plan(file.campaign(pool), start, stop)
    titles = {item.slug: item.title for item in items}
    if since or until:
        last = stop - timedelta(microseconds=1)
        click.echo(f"Showing:     {start:%d/%m/%Y} .. {last:%d/%m/%Y} only")
    click.echo(format_preview(file, sends, titles, detail=detail, pool=pool))


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return "-"
    return f"{moment.astimezone(tz):%a %d/%m/%Y %H:%M}"


def _read(path: Path) -> CampaignFile:
    try:
        return read_campaign(path)
    except CampaignProblem as problem:
        raise nothing_loaded(problem.errors, str(path)) from None


@campaign.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@fail_cleanly
def load(path: Path) -> None:
    """Check a campaign file and save it; loading it again replaces its plan from now on."""
    file = _read(path)
    now = utcnow()
    with sessions().begin() as session:
        try:
            saved = load_campaign(session, file, now=now, created_by="cli")
        except CampaignRefused as refused:
            raise UsageProblem(str(refused)) from None
        row = saved.campaign
        if saved.action != "unchanged":
            audit.record(
                session,
                actor=audit.cli_actor(),
                action=f"campaign.{'add' if saved.action == 'added' else 'update'}",
                target=f"campaign:{row.slug}",
                changes={"source": str(path), "checksum": file.checksum},
                now=now,
            )
        sends = plan(planned(session, row), now, row.ends_at)
        reach = count_audience(session, Audience.from_json(row.audience))
        click.echo(
            f"campaign {row.slug!r} {saved.action}: next send {_local(row.next_fire_at, file.tz)}, "
            f"{len(sends)} sends to {_local(row.ends_at - timedelta(minutes=1), file.tz)[4:14]}, "
            f"{reach} members in its audience now"
        )


@campaign.command("list")
@fail_cleanly
def list_() -> None:
    """List campaigns (and the calendar) with their state and what they have done."""
    config = settings()
    with sessions()() as session:
        rows = list(session.scalars(select(Campaign).order_by(Campaign.id)))
        if not rows:
            click.echo("no campaigns yet: `outreach campaign load FILE`")
        for row in rows:
            done = totals(session, row)
            click.echo(
                f"{row.id}\t{row.slug}\t{describe_kind(row)}\t{row.status.value}\t"
                f"next {_local(row.next_fire_at, config.tz)}\t"
                f"{done.fired} fired, {done.missed} missed, {done.sent}/{done.messages} sent\t"
                f"{row.name}"
            )


@campaign.command("show")
@click.argument("slug")
@click.option("--limit", default=20, show_default=True, help="How many firings to list.")
@fail_cleanly
def show(slug: str, limit: int) -> None:
    """Show a campaign and its latest firings (what each planned send became)."""
    tz = settings().tz
    with sessions()() as session:
        row = by_slug(session, slug)
        done = totals(session, row)
        click.echo(f"{row.slug}: {row.name}")
        click.echo(f"status {row.status.value}, next send {_local(row.next_fire_at, tz)}")
        click.echo(f"window {_local(row.starts_at, tz)} to {_local(row.ends_at, tz)}")
        click.echo(
            f"{done.fired} sends fired, {done.missed} missed; "
            f"{done.sent} of {done.messages} messages sent"
        )
        for firing in history(session, row, limit):
            note = f"  ({firing.note})" if firing.note else ""
            click.echo(
                f"  {_local(firing.planned_at, tz)}  {firing.outcome.value:<9} "
                f"{firing.content or '-'}  {firing.recipients} members{note}"
            )


def _move(slug: str, action: str) -> None:
    tz = settings().tz
    now = utcnow()
    with sessions().begin() as session:
        row = by_slug(session, slug)
        audit.record(
            session,
            actor=audit.cli_actor(),
            action=f"campaign.{action}",
            target=f"campaign:{row.slug}",
            now=now,
        )
        try:
            if action == "pause":
                pause(session, row, now)
                click.echo(f"campaign {row.slug!r} paused: nothing fires until it is resumed")
                return
            skipped = resume(session, row, now)
        except CampaignRefused as refused:
            raise UsageProblem(str(refused)) from None
        click.echo(
            f"campaign {row.slug!r} resumed: {skipped} sends planned during the pause skipped, "
            f"next send {_local(row.next_fire_at, tz)}"
        )


@campaign.command("pause")
@click.argument("slug")
@fail_cleanly
def pause_(slug: str) -> None:
    """Stop a campaign firing (broadcasts already started go on; pause them with `broadcast`)."""
    _move(slug, "pause")


@campaign.command("resume")
@click.argument("slug")
@fail_cleanly
def resume_(slug: str) -> None:
    """Let a paused campaign fire again from now on; sends it missed are skipped, not sent late."""
    _move(slug, "resume")


@click.group("calendar")
def calendar_group() -> None:
    """The built-in calendar of cooperative days: list them, switch one off, give it a text."""


def _calendar(session: Session) -> Campaign:
    row = session.scalar(select(Campaign).where(Campaign.slug == calendar.CALENDAR_SLUG))
    if row is None:
        raise LookupError("the calendar is not set up yet: run `outreach content load` first")
    return row


def _day_line(day: calendar.CalendarDay) -> str:
    years = f"{day.years} năm" if day.years else ""
    mark = " *round*" if day.round else ""
    state = "off" if day.off else ("own text" if day.text else "on")
    return f"{day.next_day:%d/%m/%Y}\t{day.slug}\t{state}\t{years}{mark}\t{day.title}"


@calendar_group.command("list")
@fail_cleanly
def calendar_list() -> None:
    """List the days with their next date; round anniversaries (every ten years) are marked."""
    tz = settings().tz
    with sessions()() as session:
        row = _calendar(session)
        today = utcnow().astimezone(tz).date()
        for day in calendar.days(session, row, today):
            click.echo(_day_line(day))
        click.echo(f"next send {_local(row.next_fire_at, tz)}, status {row.status.value}")


def _change(slug: str, **change: Any) -> None:
    tz = settings().tz
    with sessions().begin() as session:
        row = _calendar(session)
        day = calendar.change(session, row, slug, utcnow(), **change)
        audit.record(
            session,
            actor=audit.cli_actor(),
            action="calendar.change",
            target=f"calendar:{slug}",
            changes=change,
            now=utcnow(),
        )
        click.echo(_day_line(day))
        click.echo(f"next send {_local(row.next_fire_at, tz)}")


@calendar_group.command("off")
@click.argument("slug")
@fail_cleanly
def calendar_off(slug: str) -> None:
    """Send nothing on this day."""
    _change(slug, off=True)


@calendar_group.command("on")
@click.argument("slug")
@fail_cleanly
def calendar_on(slug: str) -> None:
    """Send this day's message again."""
    _change(slug, off=False)


@calendar_group.command("text")
@click.argument("slug")
@click.option("--text", "text", help="The message, as for `broadcast create --text`.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reset", is_flag=True, help="Go back to the message from the content pack.")
@fail_cleanly
def calendar_text(slug: str, text: str | None, path: Path | None, reset: bool) -> None:
    """Give a day another text (a template checked now), or go back to the pack's."""
    if sum(given is not None and given is not False for given in (text, path, reset)) != 1:
        raise UsageProblem("give exactly one of --text, --file or --reset")
    if reset:
        _change(slug, text=None)
        return
    own = text if text is not None else Path(str(path)).read_text(encoding="utf-8")
    compile_text(own)  # a TemplateProblem says what is wrong before anything is saved
    _change(slug, text=own)
