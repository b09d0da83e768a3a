"""Share what the CLI's commands need: clean failures, settings, database, area lookup."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from bot.app import SchemaError
from bot.settings import Settings, SettingsError, load_settings
from db.broadcasts import LifecycleError
from db.engine import create_db_engine, session_factory
from messages.render import TemplateProblem


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
        ) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def settings() -> Settings:
    """Read the settings, or fail with the one line that names the bad one."""
    return load_settings()


def sessions() -> sessionmaker[Session]:
    """Open the configured database."""
    return session_factory(create_db_engine(settings().database_url))


def nothing_loaded(errors: list[str], where: str) -> UsageProblem:
    """Report every problem found in files, one per line, and that nothing was loaded."""
    count = len(errors)
    return UsageProblem(
        f"{count} problem{'s' if count > 1 else ''} in {where}; nothing was loaded:\n"
        + "\n".join(errors)
    )
