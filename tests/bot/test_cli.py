"""The `outreach` command as an operator runs it: real processes, real databases."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.simulator import FakeTelegram

OUTREACH = str(Path(sys.executable).parent / "outreach")


def run(
    *args: str, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run the outreach command with the test environment plus `env`."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [OUTREACH, *args], capture_output=True, text=True, env=full_env, timeout=120, **kwargs
    )


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("run", "demo", "db", "coop", "area"):
        assert command in result.stdout


def test_run_without_token_is_one_clear_line(tmp_path: Path) -> None:
    result = run("run", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines() == [result.stderr.strip()]
        and "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_malformed_setting_is_one_clear_line(tmp_path: Path) -> None:
    result = run("db", "upgrade", env={"OUTREACH_ADMINS": "abc"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: OUTREACH_ADMINS must be comma-separated")
    assert "Traceback" not in result.stderr


def test_run_on_empty_database_says_to_upgrade(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123456:TESTTESTTEST",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
    }
    result = run("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "run `outreach db upgrade` first" in result.stderr


def test_db_upgrade_twice_and_coop_commands(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    first = run("db", "upgrade", env=env, cwd=tmp_path)
    second = run("db", "upgrade", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert "34 provinces, 3321 communes" in first.stdout

    added = run(
        "coop",
        "add",
        "--name",
        "HTX Nông nghiệp Mỹ Sơn",
        "--province",
        "khanh hoa",
        "--commune",
        "my son",
        "--sector",
        "nông nghiệp",
        env=env,
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    _coop_id, code, name, commune = added.stdout.strip().split("\t")
    assert (name, commune) == ("HTX Nông nghiệp Mỹ Sơn", "Xã Mỹ Sơn")
    listed = run("coop", "list", env=env, cwd=tmp_path)
    assert code in listed.stdout
    link = run("coop", "link", code, "--bot-username", "htx_bot", env=env, cwd=tmp_path)
    assert link.stdout.strip() == f"https://t.me/htx_bot?start={code}"
    unknown = run("coop", "link", "nope00", "--bot-username", "x", env=env, cwd=tmp_path)
    assert unknown.returncode == 2 and "no cooperative has the code" in unknown.stderr
    ambiguous = run(
        "coop",
        "add",
        "--name",
        "HTX X",
        "--province",
        "khanh hoa",
        "--commune",
        "son",
        env=env,
        cwd=tmp_path,
    )
    assert ambiguous.returncode == 2 and "is not one area" in ambiguous.stderr


def test_area_find_former_district(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    found = run("area", "find", "huyen ninh son", "--province", "Khánh Hòa", env=env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert "Huyện Ninh Sơn (Tỉnh Ninh Thuận) -> " in found.stdout
    assert "Xã Lâm Sơn" in found.stdout


async def _outreach(*args: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        OUTREACH,
        *args,
        env={**os.environ, **env},
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_coop_link_asks_telegram_for_the_username(
    database_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.base_url,
    }
    added = await _outreach(
        "coop",
        "add",
        "--name",
        "HTX A",
        "--province",
        "56",
        "--commune",
        "22822",
        env=env,
        cwd=tmp_path,
    )
    out, err = await added.communicate()
    code = out.decode().split("\t")[1]
    link = await _outreach("coop", "link", code, env=env, cwd=tmp_path)
    out, err = await link.communicate()
    assert out.decode().strip() == f"https://t.me/htx_outreach_bot?start={code}", err.decode()


async def test_run_answers_then_stops_cleanly_on_sigterm(
    database_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.base_url,
        "OUTREACH_ADMINS": "42",
    }
    process = await _outreach("run", env=env, cwd=tmp_path)
    try:
        telegram.send_text(777, "/start")
        reply = await telegram.next_message(777, timeout=30)
        assert "Chào anh/chị" in reply["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "bot stopped" in err.decode()
    assert telegram.token not in err.decode()  # the token never reaches the logs


def test_demo_lets_a_person_register(tmp_path: Path) -> None:
    script = "1\nkhanh hoa\nninh son\n3\n3\nnong nghiep\n1\n6\n/profile\n/quit\n"
    result = run("demo", input=script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Anh/chị có đồng ý không?" in out
    assert "Đã chọn: Tỉnh Khánh Hòa." in out
    assert "Huyện Ninh Sơn (Tỉnh Ninh Thuận cũ) đã giải thể" in out
    assert "Đăng ký xong!" in out
    assert "HTX Nông nghiệp Mỹ Sơn" in out
    assert "Demo finished." in out
