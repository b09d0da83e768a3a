"""The `outreach` command as an operator runs it: real processes, real databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from bot.app import OutreachApp
from bot.cli import main
from bot.simulator import FakeTelegram

OUTREACH = str(Path(sys.executable).parent / "outreach")


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run an outreach command in this process, as the console script would."""
    with contextlib.chdir(cwd or Path.cwd()):
        result = CliRunner().invoke(main, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def run_process(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run the installed outreach command as a separate process."""
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [OUTREACH, *args], capture_output=True, text=True, timeout=120, **kwargs
    )


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("run", "demo", "db", "coop", "area"):
        assert command in result.stdout


def test_run_without_any_channel_is_one_clear_line(tmp_path: Path) -> None:
    result = run("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no channel is configured: set TELEGRAM_BOT_TOKEN" in lines[0]
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
    anywhere = run("area", "find", "chau thanh", env=env, cwd=tmp_path)
    assert anywhere.stdout.count("Huyện Châu Thành (") >= 5  # each with its former province
    nothing = run("area", "find", "xyzxyz", env=env, cwd=tmp_path)
    assert nothing.returncode == 2 and "no area matches 'xyzxyz'" in nothing.stderr


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
    # "huyện Ninh Sơn": without "huyện", former communes named Ninh Sơn are offered too.
    script = "1\nkhanh hoa\nhuyen ninh son\n3\n3\nnong nghiep\n1\n6\n/profile\n/quit\n"
    result = run_process("demo", input=script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Anh/chị có đồng ý không?" in out
    assert "Đã chọn: Tỉnh Khánh Hòa." in out
    assert "Huyện Ninh Sơn (tỉnh Ninh Thuận cũ) đã giải thể" in out
    assert "Đăng ký xong!" in out
    assert "HTX Nông nghiệp Mỹ Sơn" in out
    assert "Demo finished." in out


def test_broadcast_commands(database_url: str, tmp_path: Path) -> None:
    from sqlalchemy.orm import Session

    from db.engine import create_db_engine
    from tests.factories import add_subscribers, commune_id

    engine = create_db_engine(database_url)
    with Session(engine) as session, session.begin():
        add_subscribers(
            session, range(1, 6), area_id=commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        )
        add_subscribers(
            session, range(6, 8), area_id=commune_id(session, "Phường Ba Đình", "Thành phố Hà Nội")
        )
    engine.dispose()
    env = {"DATABASE_URL": database_url}

    made = run(
        "broadcast",
        "create",
        "--text",
        "Chào {{ subscriber.name }}",
        "--province",
        "khanh hoa",
        "--at",
        "2099-01-01 07:30",
        env=env,
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("broadcast 1: 5 recipients, sending at 2099-01-01 07:30")
    commune = run(
        "broadcast",
        "create",
        "--text",
        "Tin xã",
        "--commune",
        "ba dinh, ha noi",
        env=env,
        cwd=tmp_path,
    )
    assert "broadcast 2: 2 recipients" in commune.stdout, commune.stderr
    for args, message in [
        (["--text", "x", "--at", "2020-01-01 07:00"], "is in the past"),
        (["--text", "{{ subscriber.nam }}"], "unknown field 'nam'; available: name, commune"),
        (["--text", "{% if %}"], "template error"),
        (["--text", "x", "--role", "manager"], "no active subscriber matches"),
        (["--text", "x", "--commune", "my son"], "write 'commune, province' or use a code"),
        (["--text", "x", "--at", "mai 7h"], "is not a time like"),
        ([], "exactly one of --text or --file"),
        (["--text", "dài " * 6000], "would go as 6 Telegram messages (at most 5)"),
        (["--text", "x " * 12000, "--photo", "https://example.org/a.jpg"], "at most 5"),
    ]:
        bad = run("broadcast", "create", *args, env=env, cwd=tmp_path)
        assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)
        assert "Traceback" not in bad.stderr

    listed = run("broadcast", "list", env=env, cwd=tmp_path)
    assert "1\tscheduled\t2099-01-01 07:30" in listed.stdout
    assert run("broadcast", "pause", "1", env=env, cwd=tmp_path).stdout.strip() == (
        "broadcast 1 is now paused"
    )
    again = run("broadcast", "pause", "1", env=env, cwd=tmp_path)
    assert again.returncode == 2 and "cannot pause" in again.stderr
    assert "now scheduled" in run("broadcast", "resume", "1", env=env, cwd=tmp_path).stdout
    assert "now cancelled" in run("broadcast", "cancel", "1", env=env, cwd=tmp_path).stdout
    shown = run("broadcast", "show", "2", env=env, cwd=tmp_path)
    assert "broadcast 2 (policy) scheduled" in shown.stdout
    missing = run("broadcast", "show", "99", env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "no broadcast has the id 99" in missing.stderr


def test_progress_bar_reads_well() -> None:
    from bot.cli.broadcast import bar

    line = bar(50, 200, 25.0, "sending", width=10)
    assert line.startswith("[##........]  25% 50/200 · 25.0/s · 0:06 left · sending")


def test_demo_on_zalo_shows_numbered_lists(tmp_path: Path) -> None:
    script = "1\nkhanh hoa\nmy son\nnong dan\nbo qua\n6\n/quit\n"
    result = run_process("demo", "--zalo", input=script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1. ✅ Tôi đồng ý\n   2. Không đồng ý" in result.stdout
    assert "Gõ số từ 1 đến 5 hoặc gõ tên để chọn." in result.stdout
    assert "Đăng ký xong!" in result.stdout


async def test_broadcast_text_is_plain_and_sent_as_typed(
    app: OutreachApp, telegram: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from db.engine import create_db_engine, session_factory
    from db.models import Broadcast, Delivery
    from tests.factories import add_subscribers, commune_id, wait_done

    engine = create_db_engine(database_url)
    sessions = session_factory(engine)
    with Session(engine) as session, session.begin():
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, [8801, 8802], area_id=area)
    for chat in (8801, 8802):
        telegram.add_chat(chat)
    env = {"DATABASE_URL": database_url}
    prices = "Giá phân bón: ure < 15.000đ/kg & DAP > 20.000đ/kg"
    made = run("broadcast", "create", "--text", prices, env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    with sessions() as session:
        (broadcast,) = session.scalars(select(Broadcast))
    await wait_done(sessions, broadcast.id)
    for chat in (8801, 8802):
        got = await telegram.next_message(chat, timeout=5)
        assert got["text"] == prices  # what the member sees: no entity lost, none added
    with sessions() as session:
        assert [d.status.value for d in session.scalars(select(Delivery))] == ["sent", "sent"]
    for text, problem in [
        ("Giá <span>ure</span>", "tag <span> is not allowed; use <b>, <i>"),
        ("<b>Giá ure", "tag <b> is not closed"),
        ("{{ 9 ** (9 ** 9) }}", "a number of more than 4,000 digits"),
        ("{{ 'x' * 200000000 }}", "longer than 50,000 characters or items (the output limit)"),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
            "range() of 100,000 items; at most 1,000",
        ),
    ]:
        started = time.monotonic()
        refused = run("broadcast", "create", "--text", text, env=env, cwd=tmp_path)
        assert refused.returncode == 2 and problem in refused.stderr, (text, refused.stderr)
        assert time.monotonic() - started < 3
    engine.dispose()
