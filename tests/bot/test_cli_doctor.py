"""`outreach doctor` against real parts: databases, the fake Telegram and Zalo servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from telegram import Bot

from bot.cli import main
from bot.doctor import check_clock, check_zalo_oa
from bot.doctor_channels import check_telegram
from bot.settings import Settings, load_settings
from bot.simulator import FakeTelegram
from bot.simulator.zalo_bot_api import FakeZaloBot
from db.base import utcnow
from db.engine import create_db_engine, session_factory
from db.migrate import MIGRATIONS, alembic_config
from db.models import OAuthToken


def _revisions() -> tuple[str, str]:
    """The newest revision and the one before it: the doctor names both."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_revision("head")
    assert head is not None and isinstance(head.down_revision, str)
    return head.revision, head.down_revision


HEAD, PREVIOUS = _revisions()

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
UNREACHABLE = "http://127.0.0.1:9/unreachable-in-tests"


def doctor(cwd: Path, env: dict[str, str], *args: str) -> Result:
    """Run `outreach doctor` in this process, from a directory without a .env file."""
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(main, ["doctor", *args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def line(result: Result, name: str) -> str:
    """Return the output line of one check."""
    return next(row for row in result.stdout.splitlines() if row[7:].startswith(f"{name} "))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database with the areas loaded."""
    path = tmp_path / "outreach.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as fake:
        yield fake


def telegram_env(fake: FakeTelegram, database_url: str, **more: str) -> dict[str, str]:
    """Configure the fake Telegram, a database and an admin."""
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "OUTREACH_ADMINS": "42",
        **more,
    }


async def test_all_good_says_ok_and_shows_no_token(
    database_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    env = telegram_env(telegram, database_url)
    result = await asyncio.to_thread(doctor, tmp_path, env)
    assert result.exit_code == 0, result.stdout
    assert line(result, "database").startswith("[ ok ] database      ")
    assert f"schema at revision {HEAD} (current)" in line(result, "database")
    assert line(result, "telegram") == (
        "[ ok ] telegram      @htx_outreach_bot (bot 123456), long polling"
    )
    assert line(result, "clock").startswith("[ ok ] clock         local time ")
    assert "Asia/Ho_Chi_Minh" in line(result, "clock")
    assert "TEST-TOKEN" not in result.stdout + result.stderr
    if database_url.startswith("sqlite"):  # one instance only: a warning, not a failure
        assert "several instances need PostgreSQL" in line(result, "configuration")
        assert result.stdout.splitlines()[-1] == "3 ok, 1 warning, 0 problems"
    else:
        assert "in step with the database server and 127.0.0.1" in line(result, "clock")
        assert result.stdout.splitlines()[-1] == "4 ok, 0 warnings, 0 problems"


async def test_wrong_telegram_token_fails_with_the_fix(
    sqlite_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    env = telegram_env(telegram, sqlite_url, TELEGRAM_BOT_TOKEN="654321:WRONG-TOKEN-X")
    result = await asyncio.to_thread(doctor, tmp_path, env)
    assert result.exit_code == 1
    assert "[FAIL] telegram      Telegram refused TELEGRAM_BOT_TOKEN (bot 654321)" in result.stdout
    assert (
        "fix: the token was revoked or mistyped: get the current one from @BotFather (/token)"
        in (result.stdout)
    )
    assert "WRONG-TOKEN" not in result.stdout + result.stderr
    assert line(result, "database").startswith("[ ok ]")  # the other checks still ran


def empty_database(path: Path) -> None:
    sqlite3.connect(path).close()


def old_database(path: Path) -> None:
    migrate_to(path, PREVIOUS)


def database_without_areas(path: Path) -> None:
    migrate_to(path, "head")


def migrate_to(path: Path, revision: str) -> None:
    engine = create_db_engine(f"sqlite:///{path}")
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


@pytest.mark.parametrize(
    ("prepare", "says"),
    [
        (empty_database, "the database is empty"),
        (old_database, f"the database is at revision {PREVIOUS}, the code needs {HEAD}"),
        (database_without_areas, "the provinces and communes are not loaded"),
    ],
)
def test_database_behind_the_code_says_upgrade(tmp_path: Path, prepare: object, says: str) -> None:
    path = tmp_path / "old.db"
    prepare(path)  # type: ignore[operator]
    result = doctor(tmp_path, {"DATABASE_URL": f"sqlite:///{path}"})
    assert result.exit_code == 1
    assert line(result, "database").startswith("[FAIL] database      SQLite ")
    assert says in line(result, "database")
    assert "       fix: run `outreach db upgrade`" in result.stdout


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    result = doctor(tmp_path, {"DATABASE_URL": "sqlite:///nowhere.db"})
    assert f"[FAIL] database      no SQLite database at {tmp_path / 'nowhere.db'}" in result.stdout
    assert not (tmp_path / "nowhere.db").exists()


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = doctor(tmp_path, {"TELEGRAM_RATE_LIMIT": "5000"})
    assert result.exit_code == 1
    assert line(result, "configuration").startswith(
        "[FAIL] configuration TELEGRAM_RATE_LIMIT must be between 1 and 1000"
    )
    assert "fix: correct it in the environment or .env" in result.stdout
    assert "[warn] database      not checked: the configuration could not be read" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 ok, 2 warnings, 1 problem"


def test_no_channel_fails_and_still_checks_the_database(sqlite_url: str, tmp_path: Path) -> None:
    result = doctor(tmp_path, {"DATABASE_URL": sqlite_url})
    assert result.exit_code == 1
    assert "channels: none" in line(result, "configuration")
    assert "fix: set TELEGRAM_BOT_TOKEN (from @BotFather)" in result.stdout
    assert line(result, "database").startswith("[ ok ] database      SQLite ")


def test_postgresql_unreachable_is_plain_and_hides_the_password(tmp_path: Path) -> None:
    url = "postgresql://outreach:s3cret-pass@127.0.0.1:1/outreach"
    result = doctor(tmp_path, {"DATABASE_URL": url}, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    database = next(c for c in report["checks"] if c["name"] == "database")
    assert database["status"] == "fail"
    assert database["detail"].startswith("cannot connect to PostgreSQL at 127.0.0.1:1 (")
    assert "outreach:***@127.0.0.1:1/outreach)" in database["detail"]
    assert database["fix"] == "start PostgreSQL or correct DATABASE_URL"
    assert "s3cret" not in result.stdout + result.stderr


async def test_json_output_parses(sqlite_url: str, telegram: FakeTelegram, tmp_path: Path) -> None:
    result = await asyncio.to_thread(doctor, tmp_path, telegram_env(telegram, sqlite_url), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == [
        "configuration",
        "database",
        "telegram",
        "clock",
    ]
    assert {c["status"] for c in report["checks"]} <= {"ok", "warn"}
    assert set(report["checks"][0]) == {"name", "status", "detail", "fix"}


async def test_zalo_bot_token_checked(sqlite_url: str, zalo: FakeZaloBot, tmp_path: Path) -> None:
    env = {"ZALO_BOT_TOKEN": zalo.token, "ZALO_BOT_API_URL": zalo.base_url}
    good = await asyncio.to_thread(doctor, tmp_path, {**env, "DATABASE_URL": sqlite_url})
    assert line(good, "zalo-bot") == "[ ok ] zalo-bot      bot.htx (bot 987654)"
    assert "in step with 127.0.0.1" in line(good, "clock")  # the Zalo API's Date header
    env["ZALO_BOT_TOKEN"] = "987654:WRONG-ZALO-TOKEN"
    bad = await asyncio.to_thread(doctor, tmp_path, {**env, "DATABASE_URL": sqlite_url})
    assert bad.exit_code == 1
    assert "[FAIL] zalo-bot      Zalo refused ZALO_BOT_TOKEN (bot 987654)" in bad.stdout
    assert "bot.zaloplatforms.com" in bad.stdout and "WRONG-ZALO" not in bad.stdout


def test_zalo_oa_not_connected_says_connect(sqlite_url: str, tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": sqlite_url,
        "ZALO_OA_APP_ID": "1234567890",
        "ZALO_OA_APP_SECRET": "app-secret",
        "ZALO_OA_SECRET_KEY": "oa-secret",
        "ZALO_OA_API_URL": UNREACHABLE,
    }
    result = doctor(tmp_path, env)
    assert result.exit_code == 1
    assert "zalo-oa (app 1234567890)" in line(result, "configuration")
    assert line(result, "zalo-oa") == "[FAIL] zalo-oa       the Zalo OA is not connected yet"
    assert "fix: run `outreach zalo connect`" in result.stdout
    assert "secret" not in result.stdout


@pytest.mark.parametrize(
    ("access", "refresh", "status", "says"),
    [
        (timedelta(hours=20), timedelta(days=80), "ok", "access token valid until"),
        (timedelta(hours=-1), timedelta(days=80), "ok", "renewed automatically"),
        (timedelta(days=-2), timedelta(hours=-1), "fail", "authorisation expired on"),
    ],
)
def test_zalo_oa_tokens(
    engine: Engine, access: timedelta, refresh: timedelta, status: str, says: str
) -> None:
    now = utcnow()
    with session_factory(engine).begin() as session:
        session.add(
            OAuthToken(
                provider="zalo_oa",
                access_token="a",
                refresh_token="r",
                access_expires_at=now + access,
                refresh_expires_at=now + refresh,
            )
        )
    check = check_zalo_oa(engine, now, HANOI)
    assert (check.status, says in check.detail) == (status, True), check


def skewed(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("seconds", "status", "says"),
    [(0, "ok", "in step with"), (30, "warn", "30 s ahead of"), (-120, "fail", "120 s behind")],
)
async def test_clock_against_the_database_and_the_api(
    database_url: str,
    engine: Engine,
    telegram: FakeTelegram,
    seconds: float,
    status: str,
    says: str,
) -> None:
    settings = load_settings(
        telegram_bot_token=telegram.token,
        telegram_api_url=telegram.base_url,
        database_url=database_url,
    )
    check = await check_clock(settings, engine, now=lambda: skewed(seconds))
    assert check.status == status, check
    assert says in check.detail
    if status != "ok":
        assert "scheduler lease" in check.detail
        assert check.fix == "turn on time synchronisation (timedatectl set-ntp true, or chrony)"


async def test_clock_without_tzdata_says_install_it() -> None:
    settings = Settings.model_construct(outreach_timezone="Nowhere/Atlantis")
    check = await check_clock(settings, None)
    assert (check.status, check.fix) == ("fail", "pip install tzdata")


async def test_webhook_left_registered_and_failing_is_a_warning(telegram: FakeTelegram) -> None:
    url = "https://bot.example.org/webhooks/telegram"
    async with Bot(telegram.token, base_url=telegram.base_url) as bot:
        await bot.set_webhook(url)
    telegram.send_text(1001, "xin chào")  # the fake cannot push it: it notes the error
    for _ in range(200):
        if telegram.webhook.get("last_error_message"):
            break
        await asyncio.sleep(0.01)
    polling = load_settings(telegram_bot_token=telegram.token, telegram_api_url=telegram.base_url)
    check = await check_telegram(telegram.token, polling)
    assert check.status == "warn"
    assert f"a webhook is registered ({url})" in check.detail
    assert "Telegram's last delivery to the webhook failed" in check.detail
    other = polling.model_copy(update={"telegram_webhook_url": "https://new.example.org/hook"})
    check = await check_telegram(telegram.token, other)
    assert "not https://new.example.org/hook" in check.detail
    assert "`outreach run` registers TELEGRAM_WEBHOOK_URL at start" in check.fix
