"""`outreach broadcast`: create, list, show, pause, resume and cancel broadcasts."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.common import UsageProblem, fail_cleanly, sessions, settings, tell
from bot.cli.content import broadcast_text
from bot.media import PhotoProblem, accept_photo
from db import audit
from db.areas import resolve_area, resolve_commune, resolve_commune_in
from db.audience import Audience, count_audience
from db.base import utcnow
from db.broadcasts import Progress, create_broadcast, move, progress
from db.cooperatives import by_public_code
from db.models import Area, AreaLevel, Broadcast, Cooperative, Delivery, DeliveryStatus, Role, Topic
from db.models.content import ContentItem
from messages.channels import MAX_PARTS, telegram_parts
from messages.render import compile_text

ROLES = [r.value for r in Role]
TOPICS = [t.value for t in Topic]
LOCAL_FORMAT = "%Y-%m-%d %H:%M"


@click.group()
def broadcast() -> None:
    """Send a message to an audience, now or at a time, and follow it."""


def parse_local(value: str, tz: ZoneInfo, option: str) -> datetime:
    """Read 'YYYY-MM-DD HH:MM' in local time as an aware datetime."""
    try:
        return datetime.strptime(value.strip(), LOCAL_FORMAT).replace(tzinfo=tz)
    except ValueError:
        raise UsageProblem(f"{option} {value!r} is not a time like '2026-11-24 07:30'") from None


def build_audience(
    session: Session,
    provinces: tuple[str, ...],
    communes: tuple[str, ...],
    roles: tuple[str, ...],
    topics: tuple[str, ...],
    cooperatives: tuple[str, ...],
) -> Audience:
    """Turn the filter options into an audience, resolving names and codes.

    A place that is not one area without doubt but comes near only one (a typo) is taken, and
    what it was taken as printed on stderr with its code."""
    parents = [resolve_area(session, p, AreaLevel.PROVINCE, None, tell) for p in provinces]
    area_ids = [] if communes else [p.id for p in parents]
    for commune in communes:
        area_ids.append(_commune(session, commune, parents).id)
    return Audience(
        area_ids=tuple(area_ids),
        roles=tuple(Role(r) for r in roles),
        topics=tuple(Topic(t) for t in topics),
        cooperative_ids=tuple(_cooperative(session, c).id for c in cooperatives),
    )


def _commune(session: Session, text: str, parents: list[Area]) -> Area:
    """A --commune: "commune, province", a code, or a name in --province (anywhere if none)."""
    if "," in text:  # "Mỹ Sơn, Khánh Hòa"
        name, province = (part.strip() for part in text.split(",", 1))
        return resolve_commune(session, province, name, tell)
    if text.strip().isdigit():
        return resolve_commune_in(session, text, None)
    return resolve_commune_in(session, text, parents or None, tell)


def _cooperative(session: Session, text: str) -> Cooperative:
    found = session.get(Cooperative, int(text)) if text.isdigit() else by_public_code(session, text)
    if found is None:
        raise LookupError(f"no cooperative has the id or code {text!r}; see `outreach coop list`")
    return found


def check_length(sample: str, photo: str | None) -> None:
    """Refuse a message too long to read in a chat (it would go as more than five messages)."""
    parts = telegram_parts(sample, photo is not None)
    if parts > MAX_PARTS:
        raise UsageProblem(
            f"the text would go as {parts} Telegram messages (at most {MAX_PARTS}): "
            "shorten it, or link to the full text with a button"
        )


def given_text(text: str | None, path: str | None, content: str | None, photo: str | None) -> str:
    """Return the template given by --text or --file, checked now; "" when --content gives it."""
    if sum(given is not None for given in (text, path, content)) != 1:
        raise UsageProblem("give the message with exactly one of --text or --file, or --content")
    if content is not None:
        return ""
    body = text if text is not None else Path(path or "").read_text(encoding="utf-8")
    check_length(compile_text(body).render(), photo)  # mistakes show now, not at send time
    return body


def given_photo(photo: str | None, folder: Path, public_url: str | None) -> str | None:
    """Return --photo in the form every channel takes (a URL), a file stored to be served."""
    if photo is None:
        return None
    try:
        return accept_photo(photo, folder=folder, base_url=public_url)
    except PhotoProblem as problem:
        raise UsageProblem(str(problem)) from None


def content_text(
    session: Session, ref: str, day: date, kind: str | None, photo: str | None
) -> tuple[ContentItem, str]:
    """Render a content item for the day it is sent, checked like any other message."""
    item, text = broadcast_text(session, ref, day)
    check_length(text, photo)
    if kind not in (None, item.kind):
        raise UsageProblem(f"--kind {kind}: that item is a {item.kind}; leave --kind out")
    return item, text


def audience_options[F: Callable[..., Any]](func: F) -> F:
    """Add the audience filters every sending command takes: where, who, what, which HTX."""
    options = [
        click.option("--province", multiple=True, help="Name (any accents) or code; repeatable."),
        click.option(
            "--commune",
            multiple=True,
            help="Name within --province (anywhere without it), 'name, province', or code.",
        ),
        click.option("--role", multiple=True, type=click.Choice(ROLES)),
        click.option("--topic", multiple=True, type=click.Choice(TOPICS)),
        click.option("--cooperative", multiple=True, help="Invitation code or id; repeatable."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@broadcast.command("create")
@click.option(
    "--text",
    help="The message, plain text (< and & as typed); <b>, <i>, <u>, <s>, <code>, <pre>, "
    '<blockquote> and <a href="https://..."> format it; Jinja2: {{ subscriber.name }} works.',
)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="Read it here.")
@click.option("--content", help="Send a content item (slug or id; see `outreach content list`).")
@click.option(
    "--photo",
    help="An https:// URL, or a JPEG, PNG or WebP file (up to 10 MB, served at "
    "OUTREACH_PUBLIC_URL/m/); the text becomes its caption.",
)
@click.option("--kind", help="policy, ocop, training, ... (default: policy, or the item's kind).")
@audience_options
@click.option("--at", "at", help="Local time 'YYYY-MM-DD HH:MM' (default: now).")
@click.option("--expires", help="Local time after which unsent messages are dropped.")
@fail_cleanly
def create(
    text: str | None,
    path: str | None,
    content: str | None,
    photo: str | None,
    kind: str | None,
    province: tuple[str, ...],
    commune: tuple[str, ...],
    role: tuple[str, ...],
    topic: tuple[str, ...],
    cooperative: tuple[str, ...],
    at: str | None,
    expires: str | None,
) -> None:
    """Schedule a broadcast and print its id and the number of recipients."""
    body = given_text(text, path, content, photo)
    config = settings()
    photo = given_photo(photo, config.outreach_media_dir, config.outreach_public_url)
    tz, now = config.tz, utcnow()
    send_at = parse_local(at, tz, "--at") if at else now
    if send_at < now.replace(second=0, microsecond=0):
        raise UsageProblem(f"--at {at} is in the past; give a later time or leave it out")
    until = parse_local(expires, tz, "--expires") if expires else None
    if until is not None and until <= send_at:
        raise UsageProblem("--expires must be after the send time")
    with sessions().begin() as session:
        item = None
        if content is not None:  # rendered once, for the day it goes: sent as it is
            item, body = content_text(session, content, send_at.astimezone(tz).date(), kind, photo)
        audience = build_audience(session, province, commune, role, topic, cooperative)
        size = count_audience(session, audience)
        if size == 0:
            raise UsageProblem("no active subscriber matches these filters; nothing was scheduled")
        created = create_broadcast(
            session,
            text=body,
            audience=audience,
            send_at=send_at,
            created_by="cli",
            now=now,
            kind=item.kind if item else kind or "policy",
            photo=photo,
            expires_at=until,
            templated=item is None,
            content_id=item.id if item else None,
        )
        audit.record(
            session,
            actor=audit.cli_actor(),
            action="broadcast.create",
            target=f"broadcast:{created.id}",
            changes={
                "kind": created.kind,
                "audience": audience.to_json(),
                "send_at": send_at.isoformat(),
                "recipients_now": size,
            },
            now=now,
        )
        click.echo(
            f"broadcast {created.id}: {size} recipients, sending at "
            f"{send_at.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})"
        )


@broadcast.command("list")
@click.option("--limit", default=20, show_default=True)
@fail_cleanly
def list_(limit: int) -> None:
    """List the newest broadcasts with their status and progress."""
    tz = settings().tz
    with sessions()() as session:
        rows = session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
        for b in rows:
            sent = session.scalar(
                select(func.count()).where(
                    Delivery.broadcast_id == b.id, Delivery.status == DeliveryStatus.SENT
                )
            )
            first_line = b.text.strip().splitlines()[0][:50] if b.text.strip() else ""
            click.echo(
                f"{b.id}\t{b.status}\t{b.send_at.astimezone(tz):%Y-%m-%d %H:%M}\t"
                f"{sent}/{b.recipients if b.recipients is not None else '-'}\t{first_line}"
            )


def describe(p: Progress, tz: ZoneInfo) -> str:
    """Write a broadcast's progress for an operator."""
    b = p.broadcast
    lines = [
        f"broadcast {b.id} ({b.kind}) {b.status}, "
        f"send at {b.send_at.astimezone(tz):%Y-%m-%d %H:%M}",
        f"recipients: {b.recipients if b.recipients is not None else 'not yet taken'}",
    ]
    for status in DeliveryStatus:
        if p.by_status[status.value]:
            lines.append(f"  {status.value}: {p.by_status[status.value]}")
    for reason, count in p.failed_by_reason.most_common():
        lines.append(f"  failed because {reason}: {count}")
    lines.append(f"subscribers newly marked blocked or invalid: {p.newly_blocked}")
    return "\n".join(lines)


@broadcast.command("show")
@click.argument("broadcast_id", type=int)
@click.option("--follow", is_flag=True, help="Show a live progress bar until it is done.")
@fail_cleanly
def show(broadcast_id: int, follow: bool) -> None:
    """Show a broadcast's progress: queued, sent, failed by reason, skipped, blocked."""
    tz, factory = settings().tz, sessions()
    if follow:
        _follow(factory, broadcast_id)
    with factory() as session:
        click.echo(describe(progress(session, broadcast_id), tz))


def _follow(factory: sessionmaker[Session], broadcast_id: int) -> None:
    samples: list[tuple[float, int]] = []
    while True:
        with factory() as session:
            p = progress(session, broadcast_id)
        total, left = p.total, p.left
        done = total - left
        samples = [*samples[-9:], (time.monotonic(), done)]
        rate = _rate(samples)
        click.echo("\r" + bar(done, total, rate, p.broadcast.status.value), nl=False)
        if p.broadcast.status.value in ("done", "cancelled") or (total and not left):
            click.echo()
            return
        time.sleep(1)


def _rate(samples: list[tuple[float, int]]) -> float:
    if len(samples) < 2 or samples[-1][0] == samples[0][0]:
        return 0.0
    return (samples[-1][1] - samples[0][1]) / (samples[-1][0] - samples[0][0])


def bar(done: int, total: int, rate: float, status: str, width: int = 30) -> str:
    """Draw '[#####.....] 50% 10/20 · 3.0/s · 0:03 left · sending'."""
    share = done / total if total else 0.0
    filled = int(share * width)
    left = (
        f"{int((total - done) / rate) // 60}:{int((total - done) / rate) % 60:02d} left"
        if rate > 0
        else "--:-- left"
    )
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%} {done}/{total} · "
        f"{rate:.1f}/s · {left} · {status}   "
    )


def _move(action: str, broadcast_id: int) -> None:
    now = utcnow()
    with sessions().begin() as session:
        found = session.get(Broadcast, broadcast_id)
        before = found.status.value if found is not None else None
        moved = move(session, broadcast_id, action, now)
        audit.record(
            session,
            actor=audit.cli_actor(),
            action=f"broadcast.{action}",
            target=f"broadcast:{broadcast_id}",
            changes={"status": [before, moved.status.value]},
            now=now,
        )
        click.echo(f"broadcast {broadcast_id} is now {moved.status}")


@broadcast.command("pause")
@click.argument("broadcast_id", type=int)
@fail_cleanly
def pause(broadcast_id: int) -> None:
    """Pause a broadcast: nothing more is sent until it is resumed."""
    _move("pause", broadcast_id)


@broadcast.command("resume")
@click.argument("broadcast_id", type=int)
@fail_cleanly
def resume(broadcast_id: int) -> None:
    """Resume a paused broadcast."""
    _move("resume", broadcast_id)


@broadcast.command("cancel")
@click.argument("broadcast_id", type=int)
@fail_cleanly
def cancel(broadcast_id: int) -> None:
    """Cancel a broadcast; what is not yet sent is dropped."""
    _move("cancel", broadcast_id)
