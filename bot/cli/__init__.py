"""Give operators the `outreach` command: run, demo, database, cooperatives and areas."""

from __future__ import annotations

import asyncio

import click
from sqlalchemy import select

from bot.app import OutreachApp
from bot.cli.common import fail_cleanly, open_database, sessions, settings, tell
from bot.cli.doctor import doctor
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from db import places
from db.areas import resolve_area, resolve_commune
from db.base import utcnow
from db.cooperatives import by_public_code, create_cooperative, invite_link
from db.engine import create_db_engine
from db.migrate import upgrade
from db.models import Area, AreaLevel, Cooperative, CooperativeKind, FormerArea


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """Outreach bot for Vietnamese cooperatives (Telegram, later Zalo)."""
    try:  # text or JSON lines (LOG_FORMAT), tokens and phone numbers redacted
        configure_logging(verbose=verbose)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@click.option(
    "--webhook",
    metavar="URL",
    help="Take Telegram updates by webhook at this https:// address (your reverse proxy "
    "forwards it to OUTREACH_WEB_PORT) instead of long polling; also TELEGRAM_WEBHOOK_URL.",
)
@fail_cleanly
def run(webhook: str | None) -> None:
    """Run the bot until stopped (Ctrl+C or SIGTERM), serving /healthz and /metrics."""
    config = load_settings(telegram_webhook_url=webhook) if webhook else settings()
    if config.telegram_webhook_url and not config.telegram_bot_token:
        raise SettingsError("--webhook is for Telegram: set TELEGRAM_BOT_TOKEN too")
    config.require_channel()
    open_database(config.database_url).dispose()  # one line, and no empty file, if it is not there
    app = OutreachApp(config)
    asyncio.run(app.run_until_signalled())


@main.command()
@click.option("--chat-id", default=1001, show_default=True, help="Your simulated Telegram id.")
@click.option("--keep", type=click.Path(), help="Keep the demo database at this path.")
@click.option("--zalo", is_flag=True, help="Chat as a member on Zalo (numbered lists).")
@fail_cleanly
def demo(chat_id: int, keep: str | None, zalo: bool) -> None:
    """Try the bot in this terminal: no token, no internet, a throwaway database."""
    from bot.demo import run_demo

    asyncio.run(run_demo(chat_id=chat_id, keep=keep, zalo=zalo))


@main.group()
def db() -> None:
    """Create, migrate and inspect the database."""


@db.command("upgrade")
@fail_cleanly
def db_upgrade() -> None:
    """Create or migrate the schema and load the official areas (safe to run again)."""
    engine = create_db_engine(settings().database_url)
    counts = upgrade(engine)
    click.echo(
        f"database is up to date: {counts.get('province', 0)} provinces, "
        f"{counts.get('commune', 0)} communes, {counts.get('former', 0)} former units"
    )


@main.group()
def coop() -> None:
    """Add, list and invite to cooperatives."""


@coop.command("add")
@click.option("--name", required=True, help="Full name, e.g. 'HTX Nông nghiệp Mỹ Sơn'.")
@click.option("--province", required=True, help="Province name or code.")
@click.option("--commune", required=True, help="Commune name or code within the province.")
@click.option("--group", "is_group", is_flag=True, help="A cooperative group (tổ hợp tác).")
@click.option("--registration-code", help="Business registration number.")
@click.option("--sector", help="Sector, e.g. 'nông nghiệp'.")
@fail_cleanly
def coop_add(
    name: str,
    province: str,
    commune: str,
    is_group: bool,
    registration_code: str | None,
    sector: str | None,
) -> None:
    """Add a cooperative and print its invitation code."""
    with sessions().begin() as session:
        place = resolve_commune(session, province, commune, tell)
        kind = CooperativeKind.GROUP if is_group else CooperativeKind.COOPERATIVE
        created = create_cooperative(
            session,
            name=name,
            commune=place,
            now=utcnow(),
            kind=kind,
            registration_code=registration_code,
            sector=sector,
        )
        click.echo(f"{created.id}\t{created.public_code}\t{created.name}\t{place.name}")


@coop.command("list")
@fail_cleanly
def coop_list() -> None:
    """List cooperatives with their invitation codes."""
    with sessions()() as session:
        for c in session.scalars(select(Cooperative).order_by(Cooperative.id)):
            click.echo(f"{c.id}\t{c.public_code}\t{c.name}\t{c.area.name}")


@coop.command("link")
@click.argument("code")
@click.option("--bot-username", help="Skip asking Telegram for the bot's username.")
@fail_cleanly
def coop_link(code: str, bot_username: str | None) -> None:
    """Print the Telegram link (for a QR poster) that enrols members into a cooperative."""
    config = settings()
    with sessions()() as session:
        found = by_public_code(session, code)
        if found is None:
            raise LookupError(f"no cooperative has the code {code!r}; see `outreach coop list`")
        username = bot_username or asyncio.run(_bot_username(config))
        click.echo(invite_link(username, found))


async def _bot_username(settings: Settings) -> str:
    from telegram import Bot

    async with Bot(settings.require_token(), base_url=settings.telegram_api_url) as bot:
        return bot.username


@main.group()
def area() -> None:
    """Look up provinces, communes and former provinces, districts and communes."""


@area.command("find")
@click.argument("name")
@click.option("--province", help="Search communes and former units of this province.")
@fail_cleanly
def area_find(name: str, province: str | None) -> None:
    """Find an area by name, with or without diacritics; former units show what they became.

    Current areas print their code; former ones (before 1/7/2025) their old code, marked
    "old", which is never a current code: give the current code of what they became."""
    with sessions()() as session:
        scope: Area | None = None
        if province is None:  # provinces, communes, and former units, anywhere
            provinces = places.provinces(session, name)
            communes = places.communes_anywhere(session, name)
            current = provinces.areas + communes.areas
            former = provinces.former + places.former_districts(session, name) + communes.former
        else:
            scope = resolve_area(session, province, AreaLevel.PROVINCE, None, tell)
            found = places.communes(session, scope.id, name)
            current, former = found.areas, found.former
        if not current and not former:
            raise LookupError(f"no area matches {name!r}")
        lines: list[tuple[int, str]] = []  # best match first, current before former
        for match in current:
            one = match.item
            where = f"\t{one.parent.name}" if scope is None and one.parent is not None else ""
            lines.append((match.grade, f"{one.level.value}\t{one.code}\t{one.name}{where}"))
        for unit in former:
            became = ", ".join(_became(a, scope is None) for a in unit.now)
            lines.append(
                (
                    unit.grade,
                    f"former {unit.unit.level.value}\told {unit.unit.legacy_code}\t"
                    f"{_former_name(unit.unit)} -> {became or '(no current area recorded)'}",
                )
            )
        for _, line in sorted(lines, key=lambda graded: graded[0]):
            click.echo(line)


def _former_name(unit: FormerArea) -> str:
    """ "Xã Vĩnh Kim (Huyện Vĩnh Thạnh, Tỉnh Bình Định)": a former unit with where it was."""
    where = [w for w in (unit.former_district, unit.former_province) if w]
    return f"{unit.name} ({', '.join(where)})" if where else unit.name


def _became(area: Area, with_province: bool) -> str:
    """ "Xã Vĩnh Sơn 21787", with " (Tỉnh Gia Lai)" when the search was in no one province."""
    province = area.parent.name if with_province and area.parent is not None else None
    return f"{area.name} {area.code}" + (f" ({province})" if province else "")


from bot.cli.broadcast import broadcast  # noqa: E402  (registers on the group defined above)
from bot.cli.campaign import calendar_group, campaign  # noqa: E402
from bot.cli.content import content  # noqa: E402
from bot.cli.feedback import feedback  # noqa: E402
from bot.cli.ocop import ocop  # noqa: E402
from bot.cli.polls import poll  # noqa: E402
from bot.cli.report import report  # noqa: E402
from bot.cli.staff import audit_log, staff  # noqa: E402
from bot.cli.training import training  # noqa: E402
from bot.cli.zalo import zalo  # noqa: E402

main.add_command(broadcast)
main.add_command(campaign)
main.add_command(calendar_group)
main.add_command(content)
main.add_command(feedback)
main.add_command(poll)
main.add_command(ocop)
main.add_command(staff)
main.add_command(audit_log)
main.add_command(training)
main.add_command(zalo)
main.add_command(report)
main.add_command(doctor)
