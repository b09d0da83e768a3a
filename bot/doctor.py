"""Check an installation and say in plain words what to fix: the checks of `outreach doctor`.

Each check is a function returning a `Check`; none raises for a problem it is meant to find,
so one failing check never stops the others. `run_checks` runs them all in order.
"""

from __future__ import annotations

import asyncio
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.app import SchemaError, check_schema
from bot.channels.zalo_oa_tokens import PROVIDER
from bot.doctor_channels import (
    Check,
    Reading,
    bot_id,
    check_telegram,
    check_zalo_bot,
    http_reading,
    not_checked,
    redact,
)
from bot.settings import Settings, SettingsError, load_settings
from db.base import utcnow
from db.engine import create_db_engine, is_postgresql, session_factory
from db.models import Area, OAuthToken

__all__ = ["Check", "check_clock", "check_configuration", "check_database", "run_checks"]

Now = Callable[[], datetime]
UPGRADE_FIX = "run `outreach db upgrade`"
ZALO_CONNECT_FIX = "run `outreach zalo connect` and sign in as an admin of the OA"
CLOCK_FIX = "turn on time synchronisation (timedatectl set-ntp true, or chrony)"
CLOCK_WHY = (
    "scheduled sends go out early or late, instances disagree about who holds the "
    "scheduler lease, and Zalo's 48-hour reply window is judged wrong"
)
WARN_SKEW, FAIL_SKEW = 5.0, 60.0  # seconds


def check_configuration() -> tuple[Check, Settings | None]:
    """Read the settings; say which channels and time zone they give, and what is missing."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        fix = "correct it in the environment or .env"
        if str(exc).startswith("OUTREACH_TIMEZONE") and not zoneinfo.available_timezones():
            fix = "pip install tzdata (this system has no time zone database)"
        return Check("configuration", "fail", str(exc), fix), None
    source = "environment and ./.env" if Path(".env").is_file() else "environment"
    detail = f"from the {source}; timezone {settings.outreach_timezone}; channels: "
    detail += ", ".join(_channels(settings)) or "none"
    try:
        settings.require_channel()
    except SettingsError:
        fix = (
            "set TELEGRAM_BOT_TOKEN (from @BotFather), ZALO_BOT_TOKEN (from "
            "bot.zaloplatforms.com) or the ZALO_OA_* settings, in the environment or .env"
        )
        return Check("configuration", "fail", detail, fix), settings
    notes, fixes = _configuration_warnings(settings)
    if notes:
        warning = Check("configuration", "warn", "; ".join([detail, *notes]), "; ".join(fixes))
        return warning, settings
    return Check("configuration", "ok", detail), settings


def _channels(settings: Settings) -> list[str]:
    found = []
    if settings.telegram_bot_token:
        found.append(f"telegram (bot {bot_id(settings.telegram_bot_token)})")
    if settings.zalo_bot_token:
        found.append(f"zalo-bot (bot {bot_id(settings.zalo_bot_token)})")
    if settings.zalo_oa:
        found.append(f"zalo-oa (app {settings.zalo_oa_app_id})")
    return found


def _configuration_warnings(settings: Settings) -> tuple[list[str], list[str]]:
    notes, fixes = [], []
    if not settings.outreach_admins:
        notes.append("OUTREACH_ADMINS is empty: nobody gets alerts or can approve")
        fixes.append("add your numeric Telegram id to OUTREACH_ADMINS (@userinfobot tells it)")
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        notes.append("SQLite is fine for one instance; several instances need PostgreSQL")
        fixes.append("set DATABASE_URL=postgresql://... before running more than one instance")
    return notes, fixes


def open_database(url: str) -> tuple[Check, Engine | None]:
    """Check the database at url; return the check and, when it passed, an engine on it."""
    parsed = make_url(url)
    path = Path(parsed.database or ":memory:")
    # Connecting to a missing SQLite file would create an empty one: say so instead.
    if parsed.get_backend_name() == "sqlite" and path.name != ":memory:" and not path.is_file():
        missing = Check("database", "fail", f"no SQLite database at {path.resolve()}", UPGRADE_FIX)
        return missing, None
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"connect_timeout": "5"})  # an operator is waiting
    engine = create_db_engine(parsed.render_as_string(hide_password=False))
    check = check_database(engine)
    if check.status == "ok":
        return check, engine
    engine.dispose()
    return check, None


def check_database(engine: Engine) -> Check:
    """Connect, check the schema is current and the areas loaded; show version and revision."""
    try:
        with engine.connect() as connection:
            version = _server_version(connection)
    except SQLAlchemyError as exc:
        return _unreachable(engine, exc)
    try:
        check_schema(engine)
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            has_areas = connection.scalar(select(Area.id).limit(1)) is not None
    except SchemaError as exc:
        return Check("database", "fail", f"{version}; {exc}", UPGRADE_FIX)
    except SQLAlchemyError as exc:
        return Check("database", "fail", f"{version}; {_reason(engine, exc)}", UPGRADE_FIX)
    if not has_areas:
        detail = f"{version}; the provinces and communes are not loaded (table area is empty)"
        return Check("database", "fail", detail, UPGRADE_FIX)
    return Check("database", "ok", f"{version}, schema at revision {revision} (current)")


def _server_version(connection: Connection) -> str:
    if is_postgresql(connection):
        shown = str(connection.scalar(text("SHOW server_version")))
        return f"PostgreSQL {shown.split()[0]}"
    return f"SQLite {connection.scalar(text('SELECT sqlite_version()'))}"


def _unreachable(engine: Engine, exc: SQLAlchemyError) -> Check:
    url = engine.url
    # The URL as the operator wrote it: without the timeout open_database adds.
    shown = url.difference_update_query(["connect_timeout"]).render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        detail = f"cannot open SQLite database {url.database}: {_reason(engine, exc)}"
        return Check("database", "fail", detail, "check the path in DATABASE_URL and its rights")
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    detail = f"cannot connect to PostgreSQL at {where} ({shown}): {_reason(engine, exc)}"
    return Check("database", "fail", detail, "start PostgreSQL or correct DATABASE_URL")


def _reason(engine: Engine, exc: SQLAlchemyError) -> str:
    """Return the driver's first line, without the password should it quote it."""
    origin = getattr(exc, "orig", None) or exc
    lines = str(origin).strip().splitlines() or [type(origin).__name__]
    return redact(lines[0], engine.url.password)


def check_zalo_oa(engine: Engine, now: datetime, tz: zoneinfo.ZoneInfo) -> Check:
    """Look at the stored Zalo OA tokens: connected, and renewable without an admin."""
    with session_factory(engine)() as session:
        row = session.get(OAuthToken, PROVIDER)
    if row is None:
        return Check("zalo-oa", "fail", "the Zalo OA is not connected yet", ZALO_CONNECT_FIX)
    refresh_until = f"{row.refresh_expires_at.astimezone(tz):%Y-%m-%d %H:%M}"
    if row.refresh_expires_at <= now:
        detail = f"the OA's authorisation expired on {refresh_until}: it cannot be renewed"
        return Check("zalo-oa", "fail", detail, ZALO_CONNECT_FIX)
    if row.last_error:
        detail = f"the last renewal failed ({row.last_error}); it is retried every few minutes"
        return Check("zalo-oa", "warn", detail, f"if this lasts, {ZALO_CONNECT_FIX}")
    if row.access_expires_at <= now:
        access = "access token expired, renewed automatically at the next send"
    else:
        access = f"access token valid until {row.access_expires_at.astimezone(tz):%Y-%m-%d %H:%M}"
    return Check("zalo-oa", "ok", f"connected; {access}; renewable until {refresh_until}")


async def check_clock(settings: Settings, engine: Engine | None, now: Now = utcnow) -> Check:
    """Compare this machine's clock with the database server's and a channel API's."""
    try:
        tz = zoneinfo.ZoneInfo(settings.outreach_timezone)
    except zoneinfo.ZoneInfoNotFoundError:
        detail = f"the time zone {settings.outreach_timezone} is unknown on this machine"
        return Check("clock", "fail", detail, "pip install tzdata")
    readings = []
    if make_url(settings.database_url).get_backend_name() == "postgresql":
        if engine is None:
            readings.append(Reading("the database server", None, "its check failed"))
        else:
            readings.append(await asyncio.to_thread(database_reading, engine, now))
    if url := _api_url(settings):
        readings.append(await http_reading(url, now))
    return judge_clock(readings, tz, now())


def _api_url(settings: Settings) -> str | None:
    if settings.telegram_bot_token:
        return settings.telegram_api_url
    if settings.zalo_bot_token:
        return settings.zalo_bot_api_url
    return settings.zalo_oa_api_url if settings.zalo_oa else None


def database_reading(engine: Engine, now: Now) -> Reading:
    """Read PostgreSQL's clock (SQLite has none: it runs on this machine)."""
    try:
        with engine.connect() as connection:
            before = now()
            theirs = connection.scalar(text("SELECT clock_timestamp()"))
            after = now()
    except SQLAlchemyError as exc:
        return Reading("the database server", None, _reason(engine, exc))
    if not isinstance(theirs, datetime):
        return Reading("the database server", None, f"clock_timestamp() gave {theirs!r}")
    middle = before + (after - before) / 2
    return Reading("the database server", (theirs - middle).total_seconds())


def judge_clock(readings: list[Reading], tz: zoneinfo.ZoneInfo, now: datetime) -> Check:
    """Say whether this machine's clock agrees with the others, within 5 s; fail past 60 s."""
    local = f"local time {now.astimezone(tz):%Y-%m-%d %H:%M:%S} {tz.key}"
    missed = [f"not compared with {r.source}: {r.error}" for r in readings if r.offset is None]
    measured = [r for r in readings if r.offset is not None]
    if not measured:
        why = "; ".join(missed) or "nothing to compare with (SQLite and no channel API)"
        return Check("clock", "warn", f"{local}; {why}")
    worst = max(measured, key=lambda r: abs(r.offset or 0.0))
    skew = abs(worst.offset or 0.0)
    if skew <= WARN_SKEW:
        sources = " and ".join(r.source for r in measured)
        return Check("clock", "ok", "; ".join([f"{local}, in step with {sources}", *missed]))
    direction = "behind" if (worst.offset or 0.0) > 0 else "ahead of"
    detail = (
        f"{local}; this machine's clock is {skew:.0f} s {direction} {worst.source}: {CLOCK_WHY}"
    )
    return Check("clock", "fail" if skew > FAIL_SKEW else "warn", detail, CLOCK_FIX)


async def run_checks(now: Now = utcnow) -> list[Check]:
    """Run every check in order; a check that cannot run says why."""
    config, settings = check_configuration()
    if settings is None:
        why = "the configuration could not be read"
        return [config, not_checked("database", why), not_checked("clock", why)]
    secrets = (settings.telegram_bot_token, settings.zalo_bot_token)
    opened = asyncio.to_thread(open_database, settings.database_url)
    (database, engine), channels = await asyncio.gather(
        _guarded("database", opened, lambda broken: (broken, None), secrets),
        _channel_checks(settings, now),
    )
    checks = [config, database, *channels]
    try:
        if settings.zalo_oa:
            checks.append(await _guarded("zalo-oa", _zalo_oa(engine, now(), settings), _same))
        clock = check_clock(settings, engine, now)
        checks.append(await _guarded("clock", clock, _same, secrets))
    finally:
        if engine is not None:
            engine.dispose()
    return checks


async def _zalo_oa(engine: Engine | None, now: datetime, settings: Settings) -> Check:
    if engine is None:
        return not_checked("zalo-oa", "the database check failed")
    return await asyncio.to_thread(check_zalo_oa, engine, now, settings.tz)


async def _channel_checks(settings: Settings, now: Now) -> list[Check]:
    probes: list[Awaitable[Check]] = []
    if token := settings.telegram_bot_token:
        probes.append(_guarded("telegram", check_telegram(token, settings, now), _same, [token]))
    if token := settings.zalo_bot_token:
        probes.append(_guarded("zalo-bot", check_zalo_bot(token, settings), _same, [token]))
    return list(await asyncio.gather(*probes))


def _same(check: Check) -> Check:
    return check


async def _guarded[T](
    name: str,
    work: Awaitable[T],
    fallback: Callable[[Check], T],
    secrets: Iterable[str | None] = (),
) -> T:
    """Report a check that broke unexpectedly as failed, so that the others still run."""
    try:
        return await work
    except Exception as exc:  # e.g. a missing database driver: shown, never swallowed
        detail = redact(f"the check itself broke: {type(exc).__name__}: {exc}", *secrets)
        return fallback(Check(name, "fail", detail, "report this, with the line above"))
