"""`outreach content` and `broadcast create --content` as an operator runs them."""

from __future__ import annotations

import contextlib
import subprocess
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.cli import main
from db.engine import create_db_engine
from db.models import Broadcast, Channel, Subscriber
from messages.filters import weekday_date
from messages.packs import read_packs, render_content
from messages.render import subscriber_context
from tests.factories import add_subscribers, commune_id


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run an outreach command in this process, as the console script would."""
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(main, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def _members(database_url: str) -> tuple[int, int]:
    """Register a Telegram member and a Zalo Bot member in Xã Mỹ Sơn; return their ids."""
    engine = create_db_engine(database_url)
    with Session(engine) as session, session.begin():
        my_son = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        (telegram,) = add_subscribers(session, [501], area_id=my_son, name="Lê Thị Hoa")
        (zalo,) = add_subscribers(session, [502], area_id=my_son, name="Trần Văn Bình")
        session.execute(
            update(Subscriber).where(Subscriber.id == zalo).values(channel=Channel.ZALO_BOT)
        )
    engine.dispose()
    return telegram, zalo


def test_load_list_show(database_url: str, tmp_path: Path) -> None:
    env, total = {"DATABASE_URL": database_url}, len(read_packs())
    first = run("content", "load", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    counts, calendar = first.stdout.strip().splitlines()
    assert counts == f"content: {total} added, 0 updated, 0 unchanged, 0 retired"
    assert calendar.startswith("calendar: next cooperative day goes ")  # built in, on
    again = run("content", "load", env=env, cwd=tmp_path)
    counts = again.stdout.strip().splitlines()[0]
    assert counts == f"content: 0 added, 0 updated, {total} unchanged, 0 retired"

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "slogans.yaml").write_text(
        "kind: slogan\ntopic: policy\nitems:\n  - id: x\n    title: X\n"
        "  - id: y\n    kind: poem\n    title: Y\n    text: T\n",
        encoding="utf-8",
    )
    refused = run("content", "load", "--dir", str(bad), env=env, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: 2 problems in the packs; nothing was loaded:\n")
    assert f"{bad / 'slogans.yaml'}:4: item 'x': missing 'text'" in refused.stderr
    assert f"{bad / 'slogans.yaml'}:7: item 'y': kind: Input should be" in refused.stderr
    assert "Traceback" not in refused.stderr

    slogans = run("content", "list", "--kind", "slogan", env=env, cwd=tmp_path)
    lines = slogans.stdout.splitlines()
    assert lines[0].split() == ["SLUG", "KIND", "TOPIC", "TITLE"] and len(lines) == 9
    assert lines[3].split(None, 3) == [
        "khau-hieu-03",
        "slogan",
        "policy",
        "Khẩu hiệu 3: Hợp tác, đổi mới, phát triển, hiệu quả",
    ]
    guide = run("content", "list", "--tag", "huong-dan-thanh-lap", env=env, cwd=tmp_path)
    assert [line.split()[0] for line in guide.stdout.splitlines()[1:]] == [
        f"huong-dan-thanh-lap-htx-{n}" for n in range(1, 7)
    ]
    days = run("content", "list", "--pack", "commemorations", env=env, cwd=tmp_path)
    assert len(days.stdout.splitlines()) == 5
    none = run("content", "list", "--tag", "khong-co", env=env, cwd=tmp_path)
    assert none.returncode == 2 and "no content item matches" in none.stderr

    shown = run("content", "show", "ngay-hop-tac-xa-quoc-te", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "kind:     commemoration\n" in shown.stdout
    assert "tags:     ngay-ky-niem\n" in shown.stdout and "active:   yes\n" in shown.stdout
    assert (
        "data:\n  when:\n    month: 7\n    weekday: 5\n    nth: 1\n  since: 1923\n" in shown.stdout
    )
    assert "\n  text: |-\n    Thứ Bảy đầu tiên của tháng 7 hằng năm" in shown.stdout
    missing = run("content", "show", "khau-hieu-9", env=env, cwd=tmp_path)
    assert missing.returncode == 2
    assert "no content item has the id or slug 'khau-hieu-9'; did you mean" in missing.stderr


def test_preview_as_telegram_and_zalo_members(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    telegram, zalo = _members(database_url)
    assert run("content", "load", env=env, cwd=tmp_path).returncode == 0

    on_telegram = run(
        "content", "preview", "luat-hop-tac-xa-2023", "--as", str(telegram), env=env, cwd=tmp_path
    )
    assert on_telegram.returncode == 0, on_telegram.stderr
    head, _, body = on_telegram.stdout.partition("\n\n")
    assert (
        head
        == f"luat-hop-tac-xa-2023 as subscriber {telegram} (Lê Thị Hoa 501) reads it on telegram:"
    )
    assert body.startswith("📢 <b>Luật Hợp tác xã năm 2023</b>\n\nLuật Hợp tác xã số 17/2023/QH15")
    assert body.rstrip().endswith("<i>Nguồn: Luật Hợp tác xã số 17/2023/QH15</i>")
    assert "part 1/" not in body

    on_zalo = run(
        "content", "preview", "luat-hop-tac-xa-2023", "--as", "zalo_bot:502", env=env, cwd=tmp_path
    )
    assert on_zalo.returncode == 0, on_zalo.stderr
    head, _, body = on_zalo.stdout.partition("\n\n")
    assert head.endswith(f"subscriber {zalo} (Trần Văn Bình 502) reads it on zalo_bot:")
    assert body.startswith("📢 Luật Hợp tác xã năm 2023\n\n") and "<" not in body
    assert body.rstrip().endswith("Nguồn: Luật Hợp tác xã số 17/2023/QH15")

    sample = run(
        "content", "preview", "khau-hieu-03", "--channel", "zalo_oa", env=env, cwd=tmp_path
    )
    assert sample.stdout == (
        "khau-hieu-03 as a sample subscriber (Nguyễn Văn An) reads it on zalo_oa:\n\n"
        "🇻🇳 HỢP TÁC, ĐỔI MỚI, PHÁT TRIỂN, HIỆU QUẢ.\n"
    )
    for who, message in [
        ("telegram:999", "no subscriber is 'telegram:999'"),
        ("viber:1", "give a subscriber id"),
    ]:
        wrong = run("content", "preview", "khau-hieu-03", "--as", who, env=env, cwd=tmp_path)
        assert wrong.returncode == 2 and message in wrong.stderr, wrong.stderr


def test_long_item_previews_in_numbered_parts(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    paragraph = "Bà con đọc kỹ hướng dẫn. " * 40
    body = "\n\n".join([paragraph.strip()] * 6)  # about 6,000 characters: two Telegram messages
    (tmp_path / "dai.yaml").write_text(
        "kind: policy\ntopic: policy\nitems:\n  - id: tin-dai\n    title: Tin dài\n"
        "    body: |-\n" + "".join(f"      {line}\n" for line in body.splitlines()),
        encoding="utf-8",
    )
    assert run("content", "load", "--dir", str(tmp_path), env=env, cwd=tmp_path).returncode == 0
    shown = run("content", "preview", "tin-dai", env=env, cwd=tmp_path)
    assert "\n--- part 1/2 ---\n📢 <b>Tin dài</b>" in shown.stdout
    assert "\n\n--- part 2/2 ---\n" in shown.stdout


def test_broadcast_create_from_content(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    _members(database_url)
    assert run("content", "load", env=env, cwd=tmp_path).returncode == 0
    made = run(
        "broadcast",
        "create",
        "--content",
        "khau-hieu-03",
        "--province",
        "khanh hoa",
        env=env,
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("broadcast 1: 2 recipients")
    dated = run(
        "broadcast",
        "create",
        "--content",
        "ngay-hop-tac-xa-viet-nam",
        "--at",
        "2099-01-01 07:30",
        env=env,
        cwd=tmp_path,
    )
    assert dated.stdout.startswith("broadcast 2: 2 recipients"), dated.stderr
    for args, message in [
        (
            ["--content", "khau-hieu-03", "--text", "x"],
            "exactly one of --text or --file, or --content",
        ),
        (["--content", "khong-co"], "no content item has the id or slug 'khong-co'"),
        (["--content", "khau-hieu-03", "--kind", "policy"], "that item is a slogan"),
    ]:
        bad = run("broadcast", "create", *args, env=env, cwd=tmp_path)
        assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)

    engine = create_db_engine(database_url)
    with Session(engine) as session:
        slogan, day = session.scalars(select(Broadcast).order_by(Broadcast.id)).all()
        items = {i.slug: i for i in read_packs()}
        everyone = subscriber_context(None, None, None, None)
        three = items["khau-hieu-03"]
        assert (slogan.kind, slogan.templated) == ("slogan", False)
        assert slogan.content_id is not None and slogan.text == render_content(
            three.kind, three.data, today=date(2026, 1, 1), subscriber=everyone
        )
        assert (day.kind, day.templated) == ("commemoration", False)
        assert day.text.startswith(  # on the day it is sent, not the day it was made
            f"🎉 <b>Ngày Hợp tác xã Việt Nam (153 năm)</b>\n📅 {weekday_date(date(2099, 4, 11))}\n"
        )
    engine.dispose()
