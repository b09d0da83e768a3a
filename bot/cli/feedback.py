"""`outreach feedback` and `outreach poll`: read, answer and triage feedback; run polls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.common import UsageProblem, fail_cleanly, sessions, settings, tell
from bot.conversation.flow import place
from bot.polls import PollProblem
from db import audit
from db import feedback as store
from db import polls as votes
from db.areas import resolve_area, resolve_commune, resolve_commune_in
from db.base import utcnow
from db.models import Area, AreaLevel, Broadcast, Feedback, Staff, Subscriber
from db.staff import get_staff
from messages import feedback as say
from messages.triage import DEFAULT_RULES, Rules, RulesProblem, load_rules, parse_rules

MAX_REPLY = 2000  # as in the officers' chat inbox
TIME = "%Y-%m-%d %H:%M"


@click.group()
def feedback() -> None:
    """Read what members wrote, answer them, assign, close and triage it."""


@contextmanager
def refused() -> Iterator[None]:
    """Turn the data layer's refusals into usage problems: one line, exit status 2."""
    try:
        yield
    except (store.FeedbackProblem, PollProblem, votes.PollClosed) as exc:
        raise UsageProblem(str(exc)) from None


def rules(path: str | None = None) -> Rules:
    """Load the triage rules: a given file, else the configured one, else the shipped one."""
    try:
        return load_rules(Path(path) if path else settings().outreach_triage_rules)
    except RulesProblem as exc:
        raise UsageProblem(f"the triage rules cannot be used:\n{exc}") from None
    except OSError as exc:  # a rules file named in the settings that is not there
        raise UsageProblem(f"cannot read the triage rules: {exc}") from None


def area_ids(session: Session, province: str | None, commune: str | None) -> set[int] | None:
    """Resolve --province/--commune to the area ids they cover; None: everywhere.

    A commune without --province is looked for in the whole country (or written "xã, tỉnh");
    a near match is taken and printed on stderr with its code."""
    if commune is not None:
        if province is not None:
            return {resolve_commune(session, province, commune, tell).id}
        if "," in commune:  # "Mỹ Sơn, Khánh Hòa"
            name, where = (part.strip() for part in commune.split(",", 1))
            return {resolve_commune(session, where, name, tell).id}
        return {resolve_commune_in(session, commune, None, tell).id}
    if province is None:
        return None
    found = resolve_area(session, province, AreaLevel.PROVINCE, None, tell)
    # Feedback and answers carry the member's commune: a province means all its communes.
    return {found.id, *session.scalars(select(Area.id).where(Area.parent_id == found.id))}


def _name(session: Session, item: Feedback) -> str:
    member = session.get(Subscriber, item.subscriber_id)
    if member is None or not member.display_name:
        return f"member {item.subscriber_id}"
    return member.display_name


def _area(session: Session, item: Feedback) -> str:
    found = session.get(Area, item.area_id) if item.area_id is not None else None
    return place(found) or "unknown area"


def _line(session: Session, item: Feedback, known: Rules) -> str:
    fields = [
        str(item.id),
        f"{item.received_at.astimezone(settings().tz):{TIME}}",
        item.status.value,
        "!" + ",".join(item.flags) if item.flagged else "",
        known.label(item.topic or "khac"),
        item.kind.value,
        _area(session, item),
        _name(session, item),
        f"re #{item.broadcast_id}" if item.broadcast_id else "",
        say.shorten(item.text) or "(photo)",  # the member's words as typed
    ]
    return "\t".join(fields)


@feedback.command("list")
@click.option("--province", help="Only from this province (name or code).")
@click.option("--commune", help="Only from this commune: of --province, 'name, province' or code.")
@click.option("--closed", is_flag=True, help="List closed feedback instead of open.")
@click.option("--flagged", is_flag=True, help="Only flagged feedback.")
@click.option("--limit", default=20, show_default=True)
@fail_cleanly
def feedback_list(
    province: str | None, commune: str | None, closed: bool, flagged: bool, limit: int
) -> None:
    """List feedback, flagged first and newest first, with how much is open."""
    known = rules()
    with sessions()() as session:
        scope = area_ids(session, province, commune)
        items = store.inbox(session, scope, limit=limit, closed=closed)
        if flagged:  # flagged ones come first, so the first `limit` rows hold all that fit
            items = [item for item in items if item.flagged]
        for item in items:
            click.echo(_line(session, item, known))
        click.echo(f"{store.count_open(session, scope)} open in total")


def _details(session: Session, item: Feedback, known: Rules) -> list[str]:
    found = known.triage(item.text, item.category)
    flags = ", ".join(f"{f} ({known.label(f)})" for f in item.flags) or "none"
    lines = [
        f"feedback {item.id} ({item.kind.value}, {item.channel.value}) {item.status.value}, "
        f"received {item.received_at.astimezone(settings().tz):{TIME}}",
        f"from: {_name(session, item)} (member {item.subscriber_id}), {_area(session, item)}",
        f"category: {item.category or '-'}",
        f"topic: {item.topic or 'khac'} ({known.label(item.topic or 'khac')})",
        f"flags: {flags}",
        f"matched words: {', '.join(found.matched) or 'none'}",
    ]
    if item.photo:
        lines.append(f"photo: {item.photo}")
    about = session.get(Broadcast, item.broadcast_id) if item.broadcast_id else None
    if about is not None:
        lines.append(f"about broadcast {about.id}: {say.gist(about.text, about.templated)}")
    officer = session.get(Staff, item.assigned_to_id) if item.assigned_to_id else None
    if officer is not None:
        lines.append(f"assigned to: staff {officer.id} {officer.name or ''}".rstrip())
    return lines


@feedback.command("show")
@click.argument("feedback_id", type=int)
@fail_cleanly
def feedback_show(feedback_id: int) -> None:
    """Show one piece of feedback in full: triage and why, link, officer, replies."""
    known, tz = rules(), settings().tz
    with sessions()() as session:
        item = store.get_feedback(session, feedback_id)
        click.echo("\n".join(_details(session, item, known)))
        click.echo(f"text:\n{item.text}")
        for reply in store.replies(session, item.id):
            click.echo(
                f"reply by {reply.author} at {reply.sent_at.astimezone(tz):{TIME}} "
                f"({store.reply_outcome(session, reply)}): {say.gist(reply.text, length=300)}"
            )


def _reply_text(text: str | None, path: str | None) -> str:
    if (text is None) == (path is None):
        raise UsageProblem("give the answer with exactly one of --text or --file")
    body = (text if text is not None else Path(path or "").read_text(encoding="utf-8")).strip()
    if not body:
        raise UsageProblem("the answer is empty")
    if len(body) > MAX_REPLY:
        raise UsageProblem(f"the answer has {len(body)} characters; at most {MAX_REPLY}")
    return body


def audit_cli(session: Session, action: str, target: str, changes: dict[str, Any]) -> None:
    audit.record(
        session,
        actor=audit.cli_actor(),
        action=action,
        target=target,
        changes=changes,
        now=utcnow(),
    )


@feedback.command("reply")
@click.argument("feedback_id", type=int)
@click.option("--text", help="The answer, as plain text.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="Read it here.")
@fail_cleanly
def feedback_reply(feedback_id: int, text: str | None, path: str | None) -> None:
    """Answer the member who wrote it, in their own chat, marked as from the alliance."""
    body, tz = _reply_text(text, path), settings().tz
    with sessions().begin() as session, refused():
        item = store.get_feedback(session, feedback_id)
        message = say.reply_message(body, item.received_at, item.text, tz)
        sent = store.send_reply(
            session, item, message, author=audit.cli_actor(), staff_id=None, now=utcnow()
        )
        audit_cli(session, "feedback.reply", f"feedback:{item.id}", {"reply": body})
        click.echo(f"reply to feedback {item.id} queued as broadcast {sent.broadcast_id}")


@feedback.command("assign")
@click.argument("feedback_id", type=int)
@click.option("--to", "staff_id", type=int, help="The officer's id (see `outreach staff list`).")
@click.option("--nobody", is_flag=True, help="Take it away from whoever has it.")
@fail_cleanly
def feedback_assign(feedback_id: int, staff_id: int | None, nobody: bool) -> None:
    """Give a piece of feedback to an officer, or to nobody."""
    if (staff_id is None) != nobody:
        raise UsageProblem("give exactly one of --to STAFF_ID or --nobody")
    with sessions().begin() as session:
        item = store.get_feedback(session, feedback_id)
        officer = get_staff(session, staff_id) if staff_id is not None else None
        before = store.assign(session, item, officer)
        after = officer.id if officer is not None else None
        audit_cli(
            session, "feedback.assign", f"feedback:{item.id}", {"assigned_to": [before, after]}
        )
        click.echo(f"feedback {item.id} assigned to {f'staff {after}' if after else 'nobody'}")


@feedback.command("close")
@click.argument("feedback_id", type=int)
@fail_cleanly
def feedback_close(feedback_id: int) -> None:
    """Close a piece of feedback: handled."""
    with sessions().begin() as session, refused():
        item = store.get_feedback(session, feedback_id)
        before = store.close(session, item, utcnow())
        changes = {"status": [before.value, item.status.value]}
        audit_cli(session, "feedback.close", f"feedback:{item.id}", changes)
        click.echo(f"feedback {item.id} is now closed")


@feedback.command("reopen")
@click.argument("feedback_id", type=int)
@fail_cleanly
def feedback_reopen(feedback_id: int) -> None:
    """Open a closed piece of feedback again."""
    with sessions().begin() as session, refused():
        item = store.get_feedback(session, feedback_id)
        store.reopen(session, item)
        changes = {"status": ["closed", item.status.value]}
        audit_cli(session, "feedback.reopen", f"feedback:{item.id}", changes)
        click.echo(f"feedback {item.id} is now {item.status.value}")


@feedback.command("triage")
@click.argument("text")
@click.option("--rules", "path", type=click.Path(exists=True, dir_okay=False))
@fail_cleanly
def feedback_triage(text: str, path: str | None) -> None:
    """Show how the rules would file a text: topic, flags and the words that decided."""
    known = rules(path)
    found = known.triage(text)
    click.echo(f"topic: {found.topic} ({known.label(found.topic)})")
    click.echo(f"flags: {', '.join(f'{f} ({known.label(f)})' for f in found.flags) or 'none'}")
    click.echo(f"matched: {', '.join(found.matched) or 'nothing'}")


@feedback.command("rules")
@click.option("--check", "path", type=click.Path(exists=True, dir_okay=False))
@fail_cleanly
def feedback_rules(path: str | None) -> None:
    """Say where the triage rules are and list them, or check a rules file."""
    if path is not None:
        try:
            checked = parse_rules(Path(path).read_text(encoding="utf-8"), source=path)
        except RulesProblem as exc:
            count = len(exc.errors)
            raise UsageProblem(
                f"{count} problem{'s' if count > 1 else ''} in {path}:\n{exc}"
            ) from None
        click.echo(f"ok: {len(checked.topics)} topics, {len(checked.flags)} flags")
        return
    # The variable itself, not the settings: this must work where the settings do not load.
    where = os.environ.get("OUTREACH_TRIAGE_RULES") or str(DEFAULT_RULES)
    click.echo(f"rules: {where}")
    known = rules(where)
    for section, found in (("topic", known.topics), ("flag", known.flags)):
        for key, rule in found.items():
            click.echo(f"{section}\t{key}\t{len(rule.entries)} words\t{rule.label}")
