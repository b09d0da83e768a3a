"""`outreach ocop`: import the OCOP catalog and send product spotlights."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.broadcast import ROLES, TOPICS, build_audience, parse_local
from bot.cli.common import UsageProblem, fail_cleanly, sessions, settings
from bot.spotlights import schedule_spotlights
from db.audience import count_audience
from db.base import utcnow
from db.ocop import AreaPlaces, upsert_products
from messages.ocop import CatalogProblem, parse_catalog, read_rows


@click.group()
def ocop() -> None:
    """Import the OCOP catalog and send product spotlights."""


@ocop.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and list the bad ones.")
@fail_cleanly
def import_(path: Path, skip_bad: bool) -> None:
    """Import products from a .csv or .xlsx; importing the same file again updates them."""
    now = utcnow()
    with sessions().begin() as session:
        try:
            rows = read_rows(path)
            places = AreaPlaces(session)
            catalog = parse_catalog(rows, places, now.astimezone(settings().tz).year)
        except CatalogProblem as exc:
            raise UsageProblem(f"{exc}; nothing was imported") from None
        # Each bad row's errors, and each place name taken as another (a typo, a former
        # commune), by line: "line 3 (province): taken "khanh hao" as Tỉnh Khánh Hòa (code 56)".
        for line in sorted(catalog.errors + places.taken_lines(rows), key=_line_number):
            click.echo(line, err=True)
        if catalog.errors and not skip_bad:
            raise UsageProblem(
                f"{len(catalog.bad_lines)} rows have errors; nothing was imported: fix them, "
                "or import the good rows with --skip-bad"
            )
        counts = upsert_products(session, catalog.products, now)
        click.echo(
            f"added {counts.added}, updated {counts.updated}, skipped {len(catalog.bad_lines)}"
        )


def _line_number(message: str) -> int:
    """The line a "line N: ..." or "line N (column): ..." message is about."""
    number = message.removeprefix("line ").split(":")[0].split(" ")[0]
    return int(number) if number.isdigit() else 0


@ocop.command("spotlight")
@click.option("--province", multiple=True, help="Name (any accents) or code; repeatable.")
@click.option(
    "--commune",
    multiple=True,
    help="Name within --province (anywhere without it), 'name, province', or code.",
)
@click.option("--role", multiple=True, type=click.Choice(ROLES))
@click.option("--topic", multiple=True, type=click.Choice(TOPICS))
@click.option("--at", "at", help="Local time 'YYYY-MM-DD HH:MM' (default: now).")
@fail_cleanly
def spotlight_(
    province: tuple[str, ...],
    commune: tuple[str, ...],
    role: tuple[str, ...],
    topic: tuple[str, ...],
    at: str | None,
) -> None:
    """Schedule one product spotlight per province of the audience, in rotation."""
    tz, now = settings().tz, utcnow()
    send_at = parse_local(at, tz, "--at") if at else now
    if send_at < now.replace(second=0, microsecond=0):
        raise UsageProblem(f"--at {at} is in the past; give a later time or leave it out")
    with sessions().begin() as session:
        audience = build_audience(session, province, commune, role, topic, ())
        if count_audience(session, audience) == 0:
            raise UsageProblem("no active subscriber matches these filters; nothing was scheduled")
        scheduled = schedule_spotlights(session, audience, now=now, send_at=send_at)
        if not scheduled:
            raise UsageProblem(
                "the catalog has no active product; import one with `outreach ocop import`"
            )
        for item in scheduled:
            product = item.spotlight.product
            click.echo(
                f"broadcast {item.broadcast.id}: {item.spotlight.province.name}: "
                f"{product.name} ({product.cooperative}), {item.recipients} recipients, "
                f"sending at {send_at.astimezone(tz):%Y-%m-%d %H:%M}"
            )
