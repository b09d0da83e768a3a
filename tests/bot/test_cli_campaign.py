"""`outreach campaign load|list|show|pause|resume` and `outreach calendar`, as staff run them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.bot.test_cli import run


def write(tmp_path: Path, text: str, name: str = "dot.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def plan_text(first: date, last: date) -> str:
    return f"""\
id: dot-thu
name: Đợt thử
window: {{from: {first.isoformat()}, to: {last.isoformat()}}}
audience: {{provinces: [Khánh Hòa]}}
pool: {{tags: [khau-hieu]}}
cadence: {{days: [T3, T6], times: ["07:30"]}}
"""


def test_load_list_show_pause_resume(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    assert run("content", "load", env=env, cwd=tmp_path).returncode == 0
    first = date.today() + timedelta(days=1)
    path = write(tmp_path, plan_text(first, first + timedelta(days=27)))

    loaded = run("campaign", "load", path, env=env, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("campaign 'dot-thu' added: next send ")
    assert "8 sends to" in loaded.stdout and "0 members in its audience now" in loaded.stdout
    again = run("campaign", "load", path, env=env, cwd=tmp_path)
    assert again.stdout.startswith("campaign 'dot-thu' unchanged")

    listed = run("campaign", "list", env=env, cwd=tmp_path).stdout.splitlines()
    assert any("\tdot-thu\tplan\tactive\t" in line for line in listed)
    assert any("\tlich-hop-tac-xa\tcalendar\tactive\t" in line for line in listed)
    shown = run("campaign", "show", "dot-thu", env=env, cwd=tmp_path)
    assert "0 sends fired, 0 missed; 0 of 0 messages sent" in shown.stdout

    paused = run("campaign", "pause", "dot-thu", env=env, cwd=tmp_path)
    assert paused.stdout.startswith("campaign 'dot-thu' paused")
    twice = run("campaign", "pause", "dot-thu", env=env, cwd=tmp_path)
    assert twice.returncode == 2 and "already paused" in twice.stderr
    resumed = run("campaign", "resume", "dot-thu", env=env, cwd=tmp_path)
    assert resumed.stdout.startswith("campaign 'dot-thu' resumed: 0 sends planned during")
    missing = run("campaign", "pause", "khong-co", env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "no campaign 'khong-co'" in missing.stderr
    logged = run("audit", "--action", "campaign.", env=env, cwd=tmp_path).stdout.splitlines()
    # Newest first; the refused second pause left no entry.
    assert [line.split("\t")[2] for line in logged] == [
        "campaign.resume",
        "campaign.pause",
        "campaign.add",
    ]


def test_bad_files_load_nothing_and_say_why(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    assert run("content", "load", env=env, cwd=tmp_path).returncode == 0
    past = write(tmp_path, plan_text(date(2023, 4, 1), date(2023, 11, 30)), "past.yaml")
    result = run("campaign", "load", past, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "ended on 30/11/2023: nothing is left to send" in result.stderr

    first = date.today() + timedelta(days=1)
    broken = plan_text(first, first + timedelta(days=7)).replace("T3, T6", "thứ tám")
    broken = broken.replace("Khánh Hòa", "Thái Bình")
    result = run("campaign", "load", write(tmp_path, broken, "bad.yaml"), env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert (
        "1 problem in" in result.stderr
        and "bad.yaml:6: cadence.days.0: unknown weekday" in result.stderr
    )
    assert "unknown weekday 'thứ tám'" in result.stderr

    # Tiền Giang went to two provinces in 2025: which one is not for the loader to guess.
    gone = plan_text(first, first + timedelta(days=7)).replace("Khánh Hòa", "Tiền Giang")
    result = run("campaign", "load", write(tmp_path, gone, "gone.yaml"), env=env, cwd=tmp_path)
    assert result.returncode == 2 and "province 'Tiền Giang' is not one area" in result.stderr
    assert "went to Tỉnh Tây Ninh 80, Tỉnh Đồng Tháp 82; use a code" in result.stderr
    listed = run("campaign", "list", env=env, cwd=tmp_path).stdout
    assert "dot-thu" not in listed


def test_a_former_province_in_a_file_is_logged_as_what_it_became(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url}
    assert run("content", "load", env=env, cwd=tmp_path).returncode == 0
    first = date.today() + timedelta(days=1)
    # Seed 001 is Thái Bình's plan: Thái Bình is part of Hưng Yên since 2025.
    old = plan_text(first, first + timedelta(days=7)).replace("Khánh Hòa", "Thái Bình")
    loaded = run("campaign", "load", write(tmp_path, old, "old.yaml"), env=env, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    told = 'taken "Thái Bình" (former province, merged in 2025) as all of Tỉnh Hưng Yên (code 33)'
    (line,) = [line for line in loaded.stderr.splitlines() if told in line]
    assert " INFO " in line and "campaign 'dot-thu': " in line


def test_the_calendar_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    before = run("calendar", "list", env=env, cwd=tmp_path)
    assert before.returncode == 2 and "run `outreach content load` first" in before.stderr
    assert run("content", "load", env=env, cwd=tmp_path).returncode == 0
    listed = run("calendar", "list", env=env, cwd=tmp_path).stdout.splitlines()
    days = [line.split("\t")[1] for line in listed[:-1]]
    assert sorted(days) == [
        "ngay-doanh-nhan-viet-nam",
        "ngay-hop-tac-xa-quoc-te",
        "ngay-hop-tac-xa-viet-nam",
        "ngay-thanh-lap-lien-minh-htx-viet-nam",
    ]
    assert listed[-1].startswith("next send ")

    off = run("calendar", "off", "ngay-hop-tac-xa-quoc-te", env=env, cwd=tmp_path)
    assert off.returncode == 0 and "\tngay-hop-tac-xa-quoc-te\toff\t" in off.stdout
    bad = run(
        "calendar", "text", "ngay-doanh-nhan-viet-nam", "--text", "{{ oops", env=env, cwd=tmp_path
    )
    assert bad.returncode == 2 and "template error" in bad.stderr
    own = run(
        "calendar",
        "text",
        "ngay-doanh-nhan-viet-nam",
        "--text",
        "Chúc mừng {{ subscriber.name }}!",
        env=env,
        cwd=tmp_path,
    )
    assert own.returncode == 0 and "\town text\t" in own.stdout
    reset = run("calendar", "text", "ngay-doanh-nhan-viet-nam", "--reset", env=env, cwd=tmp_path)
    assert "\tngay-doanh-nhan-viet-nam\ton\t" in reset.stdout
    logged = run("audit", "--target", "calendar:ngay-hop-tac-xa-quoc-te", env=env, cwd=tmp_path)
    assert '"off": true' in logged.stdout
    unknown = run("calendar", "off", "tet", env=env, cwd=tmp_path)
    assert unknown.returncode == 2 and "no commemoration day 'tet'" in unknown.stderr
