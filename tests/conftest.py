"""Start the real parts tests need: SQLite files, a PostgreSQL database, the fake Telegram."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.settings import load_settings
from bot.simulator import FakeTelegram
from db.base import Base, utcnow
from db.engine import create_db_engine, session_factory
from db.migrate import upgrade
from tests.factories import FakeClock

PG_SERVER = os.environ.get("OUTREACH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
# Reference data loaded once by `db upgrade`; every other table is emptied between tests.
REFERENCE_TABLES = {"area", "former_area", "former_area_successor", "meta_value"}


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to reach the real Telegram fail loudly."""
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:9/unreachable-in-tests/bot")
    monkeypatch.setenv("OUTREACH_WEB_PORT", "0")  # every app serves /healthz: any free port
    # The fakes enforce no per-chat limit unless a test asks (per_chat_limit), nor do the
    # processes a test starts (the demo, outreach run) space their replies to a chat then.
    monkeypatch.setenv("OUTREACH_CHAT_INTERVAL", "0")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("OUTREACH_ADMINS", raising=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file with the areas loaded; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """Create a throwaway PostgreSQL database, migrated with the areas loaded."""
    name = f"outreach_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database with areas and no other rows, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "outreach.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    engine = create_db_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory on the test database."""
    return session_factory(engine)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Telegram Bot API, over real HTTP on 127.0.0.1."""
    async with FakeTelegram() as fake:
        yield fake


def make_app(
    database_url: str,
    telegram: FakeTelegram,
    clock: Callable[[], datetime] = utcnow,
    **overrides: object,
) -> OutreachApp:
    """Build the real app against the fake Telegram and the test database, on a clock."""
    # The fake Telegram enforces no per-chat limit unless a test asks for it (FakeTelegram's
    # per_chat_limit); those tests pass outreach_chat_interval too, the others do not wait.
    overrides.setdefault("outreach_chat_interval", 0.0)
    settings = load_settings(
        telegram_bot_token=telegram.token,
        telegram_api_url=telegram.base_url,
        database_url=database_url,
        **overrides,
    )
    return OutreachApp(settings, clock)


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves: Tuesday 24/11/2026, 07:30 in Hà Nội."""
    return FakeClock()


@pytest.fixture
async def running(
    database_url: str, telegram: FakeTelegram, clock: FakeClock
) -> AsyncIterator[OutreachApp]:
    """The running bot on the test's clock, polling the fake Telegram."""
    app = make_app(database_url, telegram, clock)
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
async def app(database_url: str, telegram: FakeTelegram) -> AsyncIterator[OutreachApp]:
    """The running bot, polling the fake Telegram."""
    running = make_app(database_url, telegram)
    await running.start()
    yield running
    await running.stop()
