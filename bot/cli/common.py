"""Share what the CLI's commands need: clean failures, settings, database, area lookup."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.app import SchemaError, check_schema
from bot.settings import Settings, SettingsError, load_settings
from db.broadcasts import LifecycleError
from db.engine import DatabaseUnavailable, first_line, open_existing, session_factory
from messages.render import TemplateProblem

log = logging.getLogger(__name__)


class UsageProblem(ValueError):
    """An operator's input that cannot be used as given; the message says what to type."""


def fail_cleanly[F: Callable[..., Any]](func: F) -> F:
    """Turn the errors an operator can fix into one line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (
            SettingsError,
            SchemaError,
            LookupError,
            LifecycleError,
            TemplateProblem,
            UsageProblem,
            DatabaseUnavailable,
        ) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except OperationalError as exc:  # the database went away, is locked, refused a login...
            log.debug("database error", exc_info=True)  # the whole story with --verbose
            click.echo(f"error: the database (DATABASE_URL) failed: {first_line(exc)}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def tell(line: str) -> None:
    """Print a note for the operator on stderr: what a typed place was taken as, say."""
    click.echo(line, err=True)


def settings() -> Settings:
    """Read the settings, or fail with the one line that names the bad one."""
    return load_settings()


def sessions() -> sessionmaker[Session]:
    """Open the configured database, or fail with one line if it is missing, away or behind."""
    return session_factory(open_database(settings().database_url))


def open_database(url: str) -> Engine:
    """Return an engine on a database that exists, answers and is migrated, never creating one.

    Each failure is one line naming DATABASE_URL: no SQLite file there (run `outreach db
    upgrade`), a server that does not answer (and why), or a schema behind the code.
    """
    engine = open_existing(url)
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        with _quiet("alembic.runtime.migration"):  # its "Context impl SQLiteImpl." lines
            check_schema(engine)
    except SchemaError as exc:
        engine.dispose()
        raise SchemaError(f"{shown} (DATABASE_URL): {exc}") from None
    except SQLAlchemyError as exc:  # e.g. a file that is not a SQLite database
        engine.dispose()
        raise DatabaseUnavailable(
            f"cannot read the database at {shown} (DATABASE_URL): {first_line(exc)}"
        ) from None
    return engine


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Keep a library's informational lines out of a command's output for a moment."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def nothing_loaded(errors: list[str], where: str) -> UsageProblem:
    """Report every problem found in files, one per line, and that nothing was loaded."""
    count = len(errors)
    return UsageProblem(
        f"{count} problem{'s' if count > 1 else ''} in {where}; nothing was loaded:\n"
        + "\n".join(errors)
    )
