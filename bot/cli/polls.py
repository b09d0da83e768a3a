"""`outreach poll`: ask members a question with one button an option, and read the answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from sqlalchemy import func, select

from bot.cli.broadcast import audience_options, build_audience, parse_local
from bot.cli.common import UsageProblem, fail_cleanly, sessions, settings
from bot.cli.feedback import TIME, area_ids, audit_cli, refused
from bot.polls import create_poll
from db import audit
from db import polls as votes
from db.audience import count_audience
from db.base import utcnow
from db.models import PollAnswer
from messages import feedback as say


@click.group()
def poll() -> None:
    """Ask members a question with buttons and read the answers."""


@poll.command("create")
@click.option("--question", required=True, help="What members are asked.")
@click.option("--option", "options", multiple=True, help="One answer; give 2 to 5.")
@audience_options
@click.option("--at", "at", help="Local time 'YYYY-MM-DD HH:MM' to ask (default: now).")
@click.option("--closes", help="Local time 'YYYY-MM-DD HH:MM' when answers stop.")
@fail_cleanly
def poll_create(
    question: str,
    options: tuple[str, ...],
    at: str | None,
    closes: str | None,
    **who: tuple[str, ...],
) -> None:
    """Schedule a poll: a broadcast with one button an option."""
    tz = settings().tz
    send_at, closes_at = _poll_times(at, closes)
    with sessions().begin() as session, refused():
        audience = build_audience(
            session, who["province"], who["commune"], who["role"], who["topic"], who["cooperative"]
        )
        size = count_audience(session, audience)
        if size == 0:
            raise UsageProblem("no active subscriber matches these filters; nothing was scheduled")
        created = create_poll(
            session,
            question,
            list(options),
            audience,
            created_by=audit.cli_actor(),
            now=utcnow(),
            tz=tz,
            send_at=send_at,
            closes_at=closes_at,
        )
        changes: dict[str, Any] = {"question": created.question, "options": created.options}
        changes |= {"audience": audience.to_json(), "broadcast": created.broadcast_id}
        changes["closes_at"] = closes_at.isoformat() if closes_at else None
        audit_cli(session, "poll.create", f"poll:{created.id}", changes)
        click.echo(
            f"poll {created.id} created: asks {size} members at "
            f"{send_at.astimezone(tz):{TIME}} as broadcast {created.broadcast_id}"
        )


def _poll_times(at: str | None, closes: str | None) -> tuple[datetime, datetime | None]:
    tz, now = settings().tz, utcnow()
    send_at = parse_local(at, tz, "--at") if at else now
    if send_at < now.replace(second=0, microsecond=0):
        raise UsageProblem(f"--at {at} is in the past; give a later time or leave it out")
    closes_at = parse_local(closes, tz, "--closes") if closes else None
    # A closing time already past is the poll's own problem (check_poll says so).
    if closes_at is not None and now < closes_at <= send_at:
        raise UsageProblem("--closes must be after the time the poll is asked")
    return send_at, closes_at


@poll.command("list")
@click.option("--limit", default=50, show_default=True)
@fail_cleanly
def poll_list(limit: int) -> None:
    """List the newest polls: id, status, created, closes, answers, question."""
    tz, now = settings().tz, utcnow()
    with sessions()() as session:
        query = select(PollAnswer.poll_id, func.count()).group_by(PollAnswer.poll_id)
        answers = {poll_id: count for poll_id, count in session.execute(query)}
        for found in votes.list_polls(session, limit=limit):
            closes = f"{found.closes_at.astimezone(tz):{TIME}}" if found.closes_at else "-"
            click.echo(
                f"{found.id}\t{'open' if votes.is_open(found, now) else 'closed'}\t"
                f"{found.created_at.astimezone(tz):{TIME}}\t{closes}\t"
                f"{answers.get(found.id, 0)}\t{say.shorten(found.question)}"
            )


@poll.command("show")
@click.argument("poll_id", type=int)
@click.option("--province", help="Only answers from this province (name or code).")
@fail_cleanly
def poll_show(poll_id: int, province: str | None) -> None:
    """Show a poll's answers: per option, then per province and option."""
    now = utcnow()
    with sessions()() as session:
        found = votes.get_poll(session, poll_id)
        counted = votes.results(session, found, area_ids(session, province, None))
        state = "open" if votes.is_open(found, now) else "closed"
        click.echo(f"poll {found.id} ({state}): {found.question}")
        click.echo(f"answers: {counted.answers}")
        for number, (option, count) in enumerate(
            zip(found.options, counted.totals, strict=True), 1
        ):
            share = count / counted.answers if counted.answers else 0.0
            click.echo(f"  {number}. {option}: {count} ({share:.0%})")
        numbers = [f"{n}. {option}" for n, option in enumerate(found.options, 1)]
        click.echo("\t".join(["province", *numbers]))
        for name, counts in counted.by_province.items():
            click.echo("\t".join([name, *map(str, counts)]))


@poll.command("close")
@click.argument("poll_id", type=int)
@fail_cleanly
def poll_close(poll_id: int) -> None:
    """Close a poll: no more answers, its results are final."""
    with sessions().begin() as session, refused():
        found = votes.get_poll(session, poll_id)
        votes.close_poll(session, found, utcnow())
        audit_cli(session, "poll.close", f"poll:{found.id}", {"status": ["open", "closed"]})
        click.echo(f"poll {found.id} is now closed")
