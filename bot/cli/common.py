"""Share what the CLI's commands need: clean failures, settings, database, area lookup."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import SchemaError
from bot.settings import Settings, SettingsError, load_settings
from db.broadcasts import LifecycleError
from db.engine import create_db_engine, session_factory
from db.models import Area, AreaLevel
from db.textmatch import rank
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


def resolve_area(session: Session, text: str, level: AreaLevel, parent: Area | None) -> Area:
    """Find exactly one area by code or name, or raise LookupError saying what matched."""
    query = select(Area).where(Area.level == level)
    if parent is not None:
        query = query.where(Area.parent_id == parent.id)
    if text.isdigit():
        found = session.scalar(query.where(Area.code == int(text)))
        if found is None:
            raise LookupError(f"no {level.value} has the code {text}")
        return found
    scope = [(a.search_name, a) for a in session.scalars(query)]
    matches = [m.item for m in rank(text, scope) if m.grade == 0]
    if len(matches) != 1:
        names = ", ".join(m.item.name for m in rank(text, scope)) or "nothing"
        raise LookupError(f"{level.value} {text!r} is not one area (matches: {names}); use a code")
    return matches[0]


def resolve_commune(session: Session, province: str, commune: str) -> Area:
    """Find one commune of one province by names or codes."""
    parent = resolve_area(session, province, AreaLevel.PROVINCE, None)
    return resolve_area(session, commune, AreaLevel.COMMUNE, parent)
