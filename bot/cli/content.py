"""`outreach content`: load the content packs and list, show and preview their messages."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
import yaml
from sqlalchemy.orm import Session

from bot.cli.common import UsageProblem, fail_cleanly, nothing_loaded, sessions, settings
from db.base import utcnow
from db.content import get_item, list_items, load_items
from db.models import Channel, ContentItem, Subscriber
from db.subscribers import get_subscriber
from messages.channels import plain, split_text
from messages.kinds import Kind
from messages.packs import SHIPPED, PackProblem, pack_files, read_packs, render_content
from messages.render import SAMPLE_SUBSCRIBER, subscriber_context
from schedules.calendar import ensure_calendar

CHANNELS = [c.value for c in Channel]


@click.group()
def content() -> None:
    """Load the content packs and list, show and preview their messages."""


@content.command("load")
@click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Read the packs (*.yaml) in this folder instead of those shipped with the product.",
)
@fail_cleanly
def load(directory: Path | None) -> None:
    """Check every pack, then add, update and retire items; any error loads nothing."""
    where = directory or SHIPPED
    try:
        items = read_packs(where)
    except PackProblem as problem:
        raise nothing_loaded(problem.errors, "the packs") from None
    now = utcnow()
    with sessions().begin() as session:
        counts = load_items(session, items, now, packs=[p.stem for p in pack_files(where)])
        # The commemoration days may have changed: the built-in calendar follows them.
        cal = ensure_calendar(session, now, settings().tz)
    click.echo(
        f"content: {counts.added} added, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {counts.retired} retired"
    )
    if cal.next_fire_at is not None:
        local = cal.next_fire_at.astimezone(settings().tz)
        click.echo(
            f"calendar: next cooperative day goes {local:%Y-%m-%d %H:%M} (see `outreach calendar`)"
        )


@content.command("list")
@click.option("--kind", type=click.Choice([k.value for k in Kind]))
@click.option("--tag", help="Only items with this tag, e.g. huong-dan-thanh-lap.")
@click.option("--pack", help="Only items of this pack (its file name without .yaml).")
@click.option("--all", "retired", is_flag=True, help="Include items retired from their packs.")
@fail_cleanly
def list_(kind: str | None, tag: str | None, pack: str | None, retired: bool) -> None:
    """List the library's messages: slug, kind, topic and title."""
    with sessions()() as session:
        rows = [
            (i.slug, i.kind, i.topic or "-", i.title + ("" if i.active else " (retired)"))
            for i in list_items(session, kind=kind, tag=tag, pack=pack, retired=retired)
        ]
    if not rows:
        raise LookupError("no content item matches; load the packs with `outreach content load`")
    click.echo(table([("SLUG", "KIND", "TOPIC", "TITLE"), *rows]))


def table(rows: list[tuple[str, ...]]) -> str:
    """Align columns for a terminal; the last one is left as long as it is."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


@content.command("show")
@click.argument("ref")
@fail_cleanly
def show(ref: str) -> None:
    """Show every field of an item (by slug or id), its data as YAML."""
    tz = settings().tz
    with sessions()() as session:
        item = get_item(session, ref)
    fields = [
        ("slug", item.slug),
        ("id", str(item.id)),
        ("kind", item.kind),
        ("topic", item.topic or "-"),
        ("title", item.title),
        ("tags", ", ".join(item.tags) or "-"),
        ("pack", item.pack),
        ("active", "yes" if item.active else "no (retired from its pack)"),
        ("checksum", item.checksum),
        ("created", f"{item.created_at.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})"),
        ("updated", f"{item.updated_at.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})"),
    ]
    click.echo("\n".join(f"{name + ':':<10}{value}" for name, value in fields))
    data = yaml.dump(item.data, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=100)
    click.echo("data:\n" + "\n".join(f"  {ln}" if ln else "" for ln in data.rstrip().splitlines()))


class _BlockDumper(yaml.SafeDumper):
    """Write text of several lines as a YAML block, as people write it in the packs."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    )


_BlockDumper.add_representer(str, _text)


@content.command("preview")
@click.argument("ref")
@click.option("--as", "who", help="A subscriber id, or channel:chat_id (e.g. telegram:1001).")
@click.option("--channel", type=click.Choice(CHANNELS), help="Show it as on this channel.")
@fail_cleanly
def preview(ref: str, who: str | None, channel: str | None) -> None:
    """Print an item exactly as a subscriber (or a sample one) would read it on their channel.

    Telegram shows the HTML it is sent as, in parts when it is too long for one message;
    Zalo shows the plain text. Commemorations fall on their next day from today.
    """
    today = utcnow().astimezone(settings().tz).date()
    with sessions()() as session:
        item = get_item(session, ref)
        person = find_subscriber(session, who) if who else None
        context = context_of(person) if person else SAMPLE_SUBSCRIBER
        on = Channel(channel) if channel else person.channel if person else Channel.TELEGRAM
        text = render_content(item.kind, item.data, today=today, subscriber=context)
    whom = f"subscriber {person.id}" if person else "a sample subscriber"
    click.echo(f"{item.slug} as {whom} ({context['name']}) reads it on {on.value}:\n")
    click.echo("\n\n".join(as_seen(text, on)))


def as_seen(text: str, channel: Channel) -> list[str]:
    """Return what a channel shows of rendered HTML: Telegram's parts, or Zalo's plain text."""
    if channel is not Channel.TELEGRAM:
        return [plain(text)]
    parts = split_text(text)
    if len(parts) == 1:
        return parts
    return [f"--- part {n}/{len(parts)} ---\n{part}" for n, part in enumerate(parts, 1)]


def find_subscriber(session: Session, text: str) -> Subscriber:
    """Find a subscriber by id or by channel:chat_id, or say what to type."""
    if text.isdigit():
        found = session.get(Subscriber, int(text))
    elif ":" in text and text.split(":", 1)[0] in CHANNELS:
        channel, chat_id = text.split(":", 1)
        found = get_subscriber(session, Channel(channel), chat_id)
    else:
        raise UsageProblem(
            f"--as {text!r}: give a subscriber id or channel:chat_id, "
            f"the channel one of {', '.join(CHANNELS)}"
        )
    if found is None:
        raise LookupError(f"no subscriber is {text!r}")
    return found


def context_of(subscriber: Subscriber) -> dict[str, Any]:
    """Return what a template may say about a subscriber, as the dispatcher gives it."""
    area = subscriber.area
    return subscriber_context(
        subscriber.display_name,
        area.name if area else None,
        area.parent.name if area and area.parent else None,
        subscriber.cooperative.name if subscriber.cooperative else None,
    )


def broadcast_text(session: Session, ref: str, day: date) -> tuple[ContentItem, str]:
    """Render an item as a broadcast's text, the same for everyone, for the day it is sent.

    It is rendered once, as text to send as it is (not a template), so a template that
    greets by name would say "bà con" to everyone rather than one person's name.
    """
    item = get_item(session, ref)
    if not item.active:
        raise UsageProblem(f"content item {item.slug!r} was retired from its pack; pick another")
    everyone = subscriber_context(None, None, None, None)
    return item, render_content(item.kind, item.data, today=day, subscriber=everyone)
