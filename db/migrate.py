"""Create or migrate the schema with Alembic and load the reference areas."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from db.areas import count_areas, load_areas
from db.engine import session_factory

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic configuration pointing at our migrations and this engine's URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade(engine: Engine) -> dict[str, int]:
    """Bring the schema to the newest revision and load areas; running it twice changes nothing."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with session_factory(engine).begin() as session:
        if load_areas(session):
            log.info("loaded areas from vietnam-provinces")
        return count_areas(session)
