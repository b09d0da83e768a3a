"""`outreach campaign preview` as staff run it: no database, the shipped packs, clear errors."""

from __future__ import annotations

from pathlib import Path

from schedules.files import shipped_campaigns
from tests.bot.test_cli import run

EXAMPLE = str(shipped_campaigns()[0])
HEAD = """\
id: thu
name: Thử
window: {from: 2023-04-01, to: 2023-04-30}
"""


def test_preview_the_example() -> None:
    result = run("campaign", "preview", EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    for line in (
        "Cadence:     every Tuesday at 07:30",
        "Peak:        Đợt cao điểm: 15/10/2023 .. 15/11/2023, every day at 07:30 and 19:30",
        "Pool:        8 items",
        "Week           Mo Tu We Th Fr Sa Su   Sends",
        "16/10-22/10     2  2  2  2  2  2  2   14 sends  (14 peak)",
        "Total:       96 sends in 35 weeks: 64 in a peak, 4 occasions; 12 distinct items",
        "Pool:        92 sends from the pool of 8: 11 full rounds and 4 more",
    ):
        assert line in lines
    assert not any(line.startswith("Tue 04/04/2023") for line in lines)  # no detail asked


def test_preview_a_period_in_detail() -> None:
    result = run(
        "campaign", "preview", EXAMPLE, "--detail", "--from", "2023-10-28", "--to", "29/10/2023"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Showing:     28/10/2023 .. 29/10/2023 only"
    assert "23/10-29/10 *   .  .  .  .  .  2  2    4 sends  (4 peak, 1 occasion)" in lines
    assert "Total:       4 sends in 1 week: 4 in a peak, 1 occasion; 4 distinct items" in lines
    assert [line[:36] for line in lines[-4:]] == [
        "Sat 28/10/2023 07:30  khau-hieu-06  ",
        "Sat 28/10/2023 19:30  khau-hieu-07  ",
        "Sun 29/10/2023 07:30  ngay-thanh-lap",
        "Sun 29/10/2023 19:30  khau-hieu-08  ",
    ]
    assert lines[-2].endswith("[peak] [occasion]")


def test_a_bad_file_gives_every_problem_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "id: thu\nwindow:\n  from: 2023-04-01\n  to: 2023-03-01\npool:\n  items: [khau-hieu-99]\n"
        "cadence:\n  days: [thu tam]\n  times: ['07:30']\n"
        "occasions:\n  - {date: 2023-04-11, time: '07:30', content: ngay-khong-co}\n",
        encoding="utf-8",
    )
    result = run("campaign", "preview", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: 5 problems in {path}:",
        f"{path}:1: name: missing (required)",
        f"{path}:4: window.to: must be after window.from",
        f"{path}:6: pool.items.0: unknown content item 'khau-hieu-99'",
        f"{path}:8: cadence.days.0: unknown weekday 'thu tam' (accepted: thứ hai..thứ bảy, "
        "chủ nhật, thứ 2..thứ 7, T2..T7, CN, mon..sun, monday..sunday)",
        f"{path}:11: occasions.0.content: unknown content item 'ngay-khong-co'",
    ]


def test_a_pool_that_matches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(
        HEAD + "pool: {tags: [khong-co-nhan-nay]}\ncadence: {times: ['07:30']}\n", encoding="utf-8"
    )
    result = run("campaign", "preview", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: {path}: the pool matches no content item, so the cadence sends nothing"
    ]


def test_a_period_backwards(tmp_path: Path) -> None:
    result = run("campaign", "preview", EXAMPLE, "--from", "2023-10-20", "--to", "2023-10-19")
    assert result.returncode == 2
    assert result.stderr == "error: --to must not be before --from\n"
