"""Places as operators type them in the CLI: the resolution of db/places, one near match taken.

Every command that takes a place (broadcast and poll filters, `coop add`, `staff add`,
`training create`, `area find`) takes what people call it, a province merged in 2025 or a
commune of before 1/7/2025, and says on stderr what it took it as, with its code.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from db.engine import create_db_engine
from tests.bot.test_cli import run
from tests.factories import add_subscribers, commune_id

VINH_KIM = 'taken "Xã Vĩnh Kim" (former, before 1/7/2025) as Xã Vĩnh Sơn, Tỉnh Gia Lai (code 21787)'


def _members(database_url: str) -> None:
    """Two members in Xã Vĩnh Sơn (Gia Lai), three in Thành phố Hồ Chí Minh."""
    engine = create_db_engine(database_url)
    with Session(engine) as session, session.begin():
        vinh_son = commune_id(session, "Xã Vĩnh Sơn", "Tỉnh Gia Lai")
        add_subscribers(session, [801, 802], area_id=vinh_son)
        saigon = commune_id(session, "Phường Sài Gòn", "Thành phố Hồ Chí Minh")
        add_subscribers(session, [803, 804, 805], area_id=saigon)
    engine.dispose()


def test_a_typo_is_taken_with_a_note_and_its_code(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    added = run(
        "coop", "add", "--name", "HTX Mỹ Sơn", "--province", "khanh hao", "--commune", "my son",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().endswith("\tHTX Mỹ Sơn\tXã Mỹ Sơn")
    assert added.stderr.splitlines() == ['taken "khanh hao" as Tỉnh Khánh Hòa (code 56)']
    staff = run(
        "staff", "add", "222", "--role", "editor", "--province", "Gia Lai", "--commune",
        "Xã Vĩnh Kim", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert staff.returncode == 0 and "\teditor\ttelegram:222\tXã Vĩnh Sơn\t" in staff.stdout
    assert staff.stderr.splitlines() == [VINH_KIM]


def test_broadcast_filters_take_aliases_and_former_communes(
    database_url: str, tmp_path: Path
) -> None:
    _members(database_url)
    env = {"DATABASE_URL": database_url}
    city = run("broadcast", "create", "--text", "x", "--province", "TP HCM", env=env, cwd=tmp_path)
    assert city.returncode == 0, city.stderr
    assert "3 recipients" in city.stdout
    assert city.stderr.splitlines() == ['taken "TP HCM" as Thành phố Hồ Chí Minh (code 79)']
    for filters in (
        ["--commune", "Xã Vĩnh Kim, Gia Lai"],
        ["--province", "gia lai", "--commune", "Xã Vĩnh Kim"],
    ):
        made = run("broadcast", "create", "--text", "x", *filters, env=env, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        assert "2 recipients" in made.stdout and made.stderr.splitlines() == [VINH_KIM]
    poll = run(
        "poll", "create", "--question", "Giá lúa?", "--option", "Cao", "--option", "Thấp",
        "--commune", "Xã Vĩnh Kim, Gia Lai", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert poll.returncode == 0 and "asks 2 members" in poll.stdout, poll.stderr
    assert VINH_KIM in poll.stderr


def test_a_split_former_commune_is_refused_with_its_parts(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url}
    split = run(
        "broadcast", "create", "--text", "x", "--commune", "Phường Vĩnh Niệm, Hải Phòng",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert split.returncode == 2
    assert split.stderr.splitlines() == [
        "error: commune 'Phường Vĩnh Niệm' in Thành phố Hải Phòng is not one area: Phường Vĩnh "
        "Niệm (former, before 1/7/2025) was split between Phường An Biên 11407, Phường Lê Chân "
        "11383; use a code"
    ]
    chosen = run("broadcast", "create", "--text", "x", "--commune", "11407", env=env, cwd=tmp_path)
    assert "no active subscriber matches" in chosen.stderr  # the code is taken as it is


def test_training_create_takes_former_names(database_url: str, tmp_path: Path) -> None:
    _members(database_url)
    env = {"DATABASE_URL": database_url}
    created = run(
        "training", "create", "--title", "Kế toán HTX", "--topic", "accounting",
        "--organiser", "Liên minh HTX tỉnh Gia Lai", "--place", "Hội trường xã",
        "--capacity", "30", "--commune", "vinh kim, Bình Định",
        "--start", "2099-03-10 07:30", "--end", "11:30", "--deadline", "2099-03-08 17:00",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "announced to 2 subscribers" in created.stdout
    assert created.stderr.splitlines() == [
        'taken "Bình Định" (former province, merged in 2025) as all of Tỉnh Gia Lai (code 52)',
        'taken "vinh kim" (former, before 1/7/2025) as Xã Vĩnh Sơn, Tỉnh Gia Lai (code 21787)',
    ]


def test_area_find_shows_former_communes_and_what_they_became(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url}
    within = run("area", "find", "vinh kim", "--province", "Gia Lai", env=env, cwd=tmp_path)
    assert within.returncode == 0, within.stderr
    assert within.stdout.splitlines() == [
        "former commune\told 21790\tXã Vĩnh Kim (Huyện Vĩnh Thạnh, Tỉnh Bình Định) -> "
        "Xã Vĩnh Sơn 21787"
    ]
    anywhere = run("area", "find", "xã vĩnh kim", env=env, cwd=tmp_path).stdout.splitlines()
    assert "commune\t28576\tXã Vĩnh Kim\tTỉnh Đồng Tháp" in anywhere
    assert (
        "former commune\told 21790\tXã Vĩnh Kim (Huyện Vĩnh Thạnh, Tỉnh Bình Định) -> "
        "Xã Vĩnh Sơn 21787 (Tỉnh Gia Lai)"
    ) in anywhere
    assert (
        "former commune\told 28576\tXã Vĩnh Kim (Huyện Châu Thành, Tỉnh Tiền Giang) -> "
        "Xã Vĩnh Kim 28576 (Tỉnh Đồng Tháp)"
    ) in anywhere
    province = run("area", "find", "ninh thuan", env=env, cwd=tmp_path).stdout.splitlines()
    assert province[0] == "former province\told 58\tTỉnh Ninh Thuận -> Tỉnh Khánh Hòa 56"


def test_report_and_feedback_take_a_near_area(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    report = run(
        "report", "--from", "2026-01-01", "--to", "2026-01-31", "--area", "Xã Vĩnh Kim, Gia Lai",
        "--format", "csv", "--out", str(tmp_path / "r.csv"), env=env, cwd=tmp_path,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert report.stderr.splitlines() == [VINH_KIM]
    listed = run("feedback", "list", "--province", "khanh hao", env=env, cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.strip() == "0 open in total"
    assert listed.stderr.splitlines() == ['taken "khanh hao" as Tỉnh Khánh Hòa (code 56)']
