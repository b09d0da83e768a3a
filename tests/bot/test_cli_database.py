"""A database that is missing, unreachable or not migrated: one line, no traceback, no file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.bot.test_cli import run, run_process

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/x"

# One command or more of each family that reads or writes the database.
COMMANDS = [
    ["coop", "list"],
    ["coop", "add", "--name", "HTX Mỹ Sơn", "--province", "khanh hoa", "--commune", "my son"],
    ["coop", "link", "ABC123", "--bot-username", "htx_bot"],
    ["area", "find", "my son"],
    ["broadcast", "list"],
    ["broadcast", "create", "--text", "Chào bà con"],
    ["broadcast", "show", "1"],
    ["campaign", "list"],
    ["calendar", "list"],
    ["content", "list"],
    ["feedback", "list"],
    ["ocop", "import", str(Path(__file__).parents[2] / "bench" / "data" / "ocop_sample.csv")],
    ["poll", "list"],
    ["report", "--year", "2026", "--format", "csv"],
    ["staff", "list"],
    ["audit"],
    ["training", "list"],
    ["zalo", "status"],
    ["run"],
]


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def assert_one_line(result: object, *expected: str) -> str:
    out = result.stdout  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert result.returncode != 0, (out, err)  # type: ignore[attr-defined]
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for part in expected:
        assert part in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_missing_sqlite_file_is_one_line_and_not_created(
    command: list[str], tmp_path: Path
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123456:TESTTESTTEST"}  # for `run`; the others ignore it
    before = files(tmp_path)
    result = run(*command, env=env, cwd=tmp_path)  # DATABASE_URL unset: sqlite:///outreach.db
    line = assert_one_line(
        result, "no database at sqlite:///outreach.db (DATABASE_URL", "outreach db upgrade"
    )
    assert str(tmp_path / "outreach.db") in line  # the folder it looked in: the current one
    assert files(tmp_path) == before  # no empty outreach.db left behind


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_unmigrated_sqlite_file_says_to_upgrade(command: list[str], tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    env = {"DATABASE_URL": "sqlite:///empty.db", "TELEGRAM_BOT_TOKEN": "123456:TESTTESTTEST"}
    before = files(tmp_path)
    result = run(*command, env=env, cwd=tmp_path)
    assert_one_line(result, "sqlite:///empty.db (DATABASE_URL)", "run `outreach db upgrade`")
    assert files(tmp_path) == before


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_unreachable_postgresql_names_the_url_and_why(command: list[str], tmp_path: Path) -> None:
    env = {"DATABASE_URL": UNREACHABLE, "TELEGRAM_BOT_TOKEN": "123456:TESTTESTTEST"}
    result = run(*command, env=env, cwd=tmp_path)
    assert_one_line(result, f"{UNREACHABLE} (DATABASE_URL)", "Connection refused")
    assert files(tmp_path) == set()


def test_a_database_behind_the_code_says_to_upgrade(database_url: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    from db.engine import create_db_engine

    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        (revision,) = connection.execute(text("SELECT version_num FROM alembic_version")).one()
        older = f"{int(revision) - 1:04d}"
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": older})
    try:
        result = run("staff", "list", env={"DATABASE_URL": database_url}, cwd=tmp_path)
        assert_one_line(
            result, "(DATABASE_URL)", f"at revision {older}", "run `outreach db upgrade`"
        )
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
        engine.dispose()


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database\n")
    result = run("coop", "list", env={"DATABASE_URL": "sqlite:///notes.db"}, cwd=tmp_path)
    assert_one_line(result, "sqlite:///notes.db (DATABASE_URL)", "file is not a database")
    assert (tmp_path / "notes.db").read_text() == "not a database\n"


def test_the_installed_command_prints_one_line_in_another_folder(tmp_path: Path) -> None:
    # As an operator types it, in a folder without the database: real stderr, real logging.
    for command in (["staff", "list"], ["broadcast", "list"]):
        result = run_process(*command, cwd=tmp_path)
        assert_one_line(result, "no database at sqlite:///outreach.db (DATABASE_URL")
    (tmp_path / "empty.db").touch()
    env = {**os.environ, "DATABASE_URL": "sqlite:///empty.db"}
    assert_one_line(run_process("feedback", "list", cwd=tmp_path, env=env), "db upgrade")
    env = {**os.environ, "DATABASE_URL": UNREACHABLE}
    assert_one_line(run_process("coop", "list", cwd=tmp_path, env=env), "Connection refused")
    assert files(tmp_path) == {"empty.db"}


def test_db_upgrade_still_creates_the_file_and_then_commands_work(tmp_path: Path) -> None:
    upgraded = run("db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "outreach.db").is_file()
    listed = run("staff", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "Context impl" not in listed.stderr  # Alembic's chatter stays out of commands


def test_db_upgrade_on_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    result = run("db", "upgrade", env={"DATABASE_URL": UNREACHABLE}, cwd=tmp_path)
    assert_one_line(result, "DATABASE_URL", "Connection refused")
