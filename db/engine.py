"""Create engines and session factories for SQLite or PostgreSQL from one URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_TIMEOUT = 30  # seconds a writer waits for another's lock
CONNECT_TIMEOUT = 10  # seconds to reach PostgreSQL when a person is waiting for the answer


class DatabaseUnavailable(Exception):
    """The database DATABASE_URL names is missing or cannot be reached; the message says so."""


def create_db_engine(url: str, *, create: bool = True) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout so threads share it.

    With `create=False` a SQLite file that does not exist is an error when connecting
    (SQLite's `mode=rw`), instead of a new empty database left behind.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(parsed)
        if create or path is None:
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": SQLITE_TIMEOUT}
            )
        else:
            target = f"file:{quote(str(path.resolve()))}?mode=rw"
            engine = create_engine(url, creator=lambda: _open_existing_sqlite(target))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _open_existing_sqlite(target: str) -> sqlite3.Connection:
    return sqlite3.connect(target, uri=True, check_same_thread=False, timeout=SQLITE_TIMEOUT)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sqlite_file(url: str | URL) -> Path | None:
    """Return the file a SQLite URL names, or None for PostgreSQL and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):  # already a SQLite URI: leave it to SQLite
        return None
    return Path(parsed.database)


def open_existing(url: str) -> Engine:
    """Return an engine on a database that exists and answers, or raise DatabaseUnavailable.

    A SQLite file is never created here (that is `outreach db upgrade`'s work); PostgreSQL
    gets a connect timeout, so that an unreachable server is reported within seconds. The
    message names DATABASE_URL, the URL without its password, and what failed.
    """
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    path = sqlite_file(parsed)
    if path is not None and not path.exists():
        raise DatabaseUnavailable(
            f"no database at {shown} (DATABASE_URL; there is no file {path.resolve()}): "
            "run `outreach db upgrade` first to create it"
        )
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})
    engine = create_db_engine(parsed.render_as_string(hide_password=False), create=False)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = first_line(exc, parsed.password)
        raise DatabaseUnavailable(
            f"cannot open the database at {shown} (DATABASE_URL): {reason}"
        ) from None
    return engine


def first_line(exc: BaseException, password: str | None = None) -> str:
    """Return the driver's first line of an error, without the password should it quote it."""
    origin = getattr(exc, "orig", None) or exc
    lines = str(origin).strip().splitlines() or [type(origin).__name__]
    line = lines[0].strip()
    if password:
        line = line.replace(password, "***")
    return line


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the factory that callers use to open one session per unit of work."""
    return sessionmaker(engine, expire_on_commit=False)


def is_postgresql(bind: Engine | Connection) -> bool:
    """Tell whether an engine or connection talks to PostgreSQL (SKIP LOCKED, upserts)."""
    return bind.dialect.name == "postgresql"
