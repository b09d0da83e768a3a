"""Campaign files: the shipped example, every problem with its line, spellings staff write."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from schedules.files import (
    AudienceRule,
    CampaignFile,
    CampaignProblem,
    Candidate,
    PoolRule,
    parse_campaign,
    read_campaign,
    shipped_campaigns,
)
from schedules.planner import Cadence, Occasion, Peak, QuietHours

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EXAMPLE = Path(__file__).resolve().parents[2] / "schedules/campaigns/thai-binh-30-nam-lmhtx.yaml"
BASE = """\
id: thu-nghiem
name: Thử nghiệm
window: {from: 2023-04-01, to: 2023-04-30}
pool: {items: [khau-hieu-03]}
"""


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def parse(extra: str) -> CampaignFile:
    return parse_campaign(BASE + extra, "t.yaml")


def problems(text: str, known: set[str] | None = None) -> list[str]:
    with pytest.raises(CampaignProblem) as caught:
        parse_campaign(text, "t.yaml", known=known)
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


def test_the_example_is_shipped_and_parses() -> None:
    assert shipped_campaigns() == [EXAMPLE]
    file = read_campaign(EXAMPLE)
    assert file.slug == "thai-binh-30-nam-lmhtx"
    assert file.name.startswith("Tuyên truyền Kỷ niệm 30 năm ngày thành lập Liên minh")
    assert file.tz == TZ
    assert (file.starts_at, file.ends_at) == (local(2023, 4, 1), local(2023, 12, 1))
    assert file.cadence == Cadence((time(7, 30),), frozenset({1}))  # Tuesdays 07:30
    both = Cadence((time(7, 30), time(19, 30)))
    assert file.peaks == (Peak(date(2023, 10, 15), date(2023, 11, 15), both),)
    assert file.peak_names == ("Đợt cao điểm",)
    assert file.occasions == (
        Occasion(local(2023, 4, 11, 7, 30), "ngay-hop-tac-xa-viet-nam"),
        Occasion(local(2023, 7, 1, 7, 30), "ngay-hop-tac-xa-quoc-te"),
        Occasion(local(2023, 10, 13, 7, 30), "ngay-doanh-nhan-viet-nam"),
        Occasion(local(2023, 10, 29, 7, 30), "ngay-thanh-lap-lien-minh-htx-viet-nam"),
    )
    assert file.quiet == QuietHours(time(21), time(6))
    assert (file.daily_cap, file.grace) == (2, timedelta(hours=2))
    assert file.pool == PoolRule(tags=("khau-hieu",))
    assert file.audience == AudienceRule(provinces=("Hưng Yên",), topics=("policy",))
    assert file.source == str(EXAMPLE)
    assert len(file.checksum) == 64


def test_a_malformed_file_gives_every_problem_with_its_line() -> None:
    text = """\
id: Thai Binh
timezone: Asia/Ha_Noi
window:
  from: 2023-04-01
  to: 2023-11-30
  form: 2023-05-01
audience:
  roles: [member, boss]
  channels: viber
pool:
  kinds: [poem]
  topics: [policy]
cadence:
  days: [thu ba, thứ tám]
  times: ["25:00", "07:30"]
peaks:
  - from: 2023-03-01
    to: 2023-02-01
    cadence: {times: []}
occasions:
  - {date: 2024-10-29, time: "07:30", content: ngay-x}
daily_cap: 11
daily_cap: 0
late_grace: 3 days
colour: red
"""
    assert problems(text, known={"khau-hieu-03"}) == [
        "t.yaml:1: id: 'Thai Binh' is not a slug (lower-case letters, digits, single hyphens)",
        "t.yaml:1: name: missing (required)",
        "t.yaml:2: timezone: unknown timezone 'Asia/Ha_Noi' (a zoneinfo key such as "
        "Asia/Ho_Chi_Minh)",
        "t.yaml:6: window.form: unknown key (allowed: from, to)",
        "t.yaml:8: audience.roles.1: unknown role 'boss' "
        "(accepted: 'member', 'manager', 'farmer', 'officer' or 'other')",
        "t.yaml:9: audience.channels.0: unknown channel 'viber' "
        "(accepted: 'telegram', 'zalo_bot' or 'zalo_oa')",
        "t.yaml:11: pool.kinds.0: unknown kind 'poem' (accepted: 'policy', 'slogan', "
        "'model_story', 'ocop_spotlight', 'training_announcement', 'training_reminder', "
        "'commemoration' or 'market')",
        "t.yaml:14: cadence.days.1: unknown weekday 'thứ tám' (accepted: thứ hai..thứ bảy, "
        "chủ nhật, thứ 2..thứ 7, T2..T7, CN, mon..sun, monday..sunday)",
        "t.yaml:15: cadence.times.0: bad time '25:00' (write a local time as \"HH:MM\", "
        'e.g. "07:30")',
        "t.yaml:17: peaks.0.from: 01/03/2023 is outside the window (01/04/2023 .. 30/11/2023)",
        "t.yaml:18: peaks.0.to: 01/02/2023 is before from (01/03/2023)",
        "t.yaml:18: peaks.0.to: 01/02/2023 is outside the window (01/04/2023 .. 30/11/2023)",
        "t.yaml:19: peaks.0.cadence.times: empty: give at least one",
        "t.yaml:21: occasions.0.date: 29/10/2024 07:30 is outside the window "
        "(01/04/2023 .. 30/11/2023)",
        "t.yaml:21: occasions.0.content: unknown content item 'ngay-x'",
        "t.yaml:23: key 'daily_cap' given twice",
        "t.yaml:23: daily_cap: Input should be greater than or equal to 1, not 0",
        "t.yaml:24: late_grace: bad duration '3 days' (write 90m, 2h or 1h30m)",
        "t.yaml:25: colour: unknown key (allowed: id, name, description, timezone, window, "
        "audience, pool, cadence, peaks, occasions, quiet_hours, daily_cap, late_grace)",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a: [1\n", "t.yaml:2: not valid YAML: expected ',' or ']', but got '<stream end>'"),
        (
            "- a\n- b\n",
            "t.yaml:1: a campaign file is a mapping of keys (id, name, description, "
            "timezone, window, audience, pool, cadence, peaks, occasions, quiet_hours, daily_cap, "
            "late_grace)",
        ),
        (
            "",
            "t.yaml:1: a campaign file is a mapping of keys (id, name, description, "
            "timezone, window, audience, pool, cadence, peaks, occasions, quiet_hours, daily_cap, "
            "late_grace)",
        ),
    ],
)
def test_not_a_campaign_at_all(text: str, error: str) -> None:
    assert problems(text) == [error]


def test_missing_keys_and_a_window_backwards() -> None:
    assert problems("# a comment\ndescription: x\n") == [
        "t.yaml:1: id: missing (required)",
        "t.yaml:1: name: missing (required)",
        "t.yaml:1: window: missing (required)",
        "t.yaml:1: cadence: missing (required unless occasions are given)",
    ]
    backwards = BASE.replace("to: 2023-04-30", "to: 2023-03-31") + "cadence: {times: [7:30]}\n"
    assert problems(backwards) == ["t.yaml:3: window.to: must be after window.from"]
    no_pool = BASE.replace("pool: {items: [khau-hieu-03]}\n", "pool:\n")
    assert problems(no_pool + "cadence: {times: [7:30]}\n") == [
        "t.yaml:4: pool: empty pool rule: give at least one of items, kinds, topics, tags"
    ]
    without = BASE.replace("pool: {items: [khau-hieu-03]}\n", "")
    assert problems(without + "cadence: {times: [7:30]}\n") == [
        "t.yaml:1: pool: missing (what the cadence sends: items, kinds, ...)"
    ]


def test_a_nested_problem_points_at_its_own_line() -> None:
    text = BASE + (
        "cadence:\n  days: T3\n  times:\n    - '07:30'\n    - '7h'\n"
        "audience:\n  topics:\n    - ocop\n    - news\n"
    )
    assert problems(text) == [
        't.yaml:9: cadence.times.1: bad time \'7h\' (write a local time as "HH:MM", e.g. "07:30")',
        "t.yaml:13: audience.topics.1: unknown topic 'news' "
        "(accepted: 'policy', 'ocop', 'training', 'market' or 'model')",
    ]


@pytest.mark.parametrize(
    ("days", "weekdays"),
    [
        ("[thu ba]", {1}),
        ("[T3]", {1}),
        ("[tue]", {1}),
        ("[Thứ Ba]", {1}),
        ("[thứ 3, Thứ Năm, saturday]", {1, 3, 5}),
        ("[CN, chủ nhật, chu nhat, sun]", {6}),
        ('"thứ hai, thứ tư"', {0, 2}),
        ("hằng ngày", set()),
        ("hang ngay", set()),
        ("every day", set()),
        ("[]", set()),
    ],
)
def test_weekday_spellings(days: str, weekdays: set[int]) -> None:
    file = parse(f"cadence: {{days: {days}, times: ['07:30']}}\n")
    assert file.cadence.weekdays == frozenset(weekdays)


def test_times_written_without_quotes() -> None:
    # YAML 1.1 reads 7:30 and 19:30 as base-60 numbers (450, 1170); 07:30 stays text.
    file = parse(
        "cadence: {times: [07:30, 7:30, 19:30, 21:00]}\nquiet_hours: {from: 22:00, to: 5:30}\n"
    )
    assert file.cadence.times == (time(7, 30), time(19, 30), time(21, 0))
    assert file.quiet == QuietHours(time(22), time(5, 30))


def test_dates_in_vietnamese_order_and_with_times() -> None:
    text = BASE.replace(
        "{from: 2023-04-01, to: 2023-04-30}", '{from: "01/04/2023 07:00", to: 30/4/2023}'
    )
    file = parse_campaign(
        text + "cadence: {times: ['07:30']}\n"
        "peaks: [{from: '15/04/2023', to: 2023-04-20, cadence: {times: ['19:30']}}]\n"
        "occasions: [{date: 30/04/2023, time: '08:00', content: x}]\n",
        "t.yaml",
    )
    assert (file.starts_at, file.ends_at) == (local(2023, 4, 1, 7), local(2023, 5, 1))
    assert file.peaks[0].first_day == date(2023, 4, 15)
    assert file.occasions == (Occasion(local(2023, 4, 30, 8), "x"),)
    assert problems(BASE.replace("2023-04-30", "2023-02-30") + "cadence: {times: ['07:30']}\n") == [
        "t.yaml:3: window.to: bad date '2023-02-30' (write 2023-10-15 or 15/10/2023, "
        "or add a time HH:MM)"
    ]


def test_a_campaign_of_occasions_only() -> None:
    text = BASE.replace("pool: {items: [khau-hieu-03]}\n", "")
    file = parse_campaign(
        text + "occasions:\n  - {date: 2023-04-11, time: 7:30, content: a}\n", "t.yaml"
    )
    assert file.cadence == Cadence(())
    assert file.pool == PoolRule()
    assert file.occasions == (Occasion(local(2023, 4, 11, 7, 30), "a"),)


@pytest.mark.parametrize(
    ("written", "grace"),
    [
        ("90m", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("0", timedelta(0)),
        ("24h", timedelta(hours=24)),
    ],
)
def test_late_grace(written: str, grace: timedelta) -> None:
    assert parse(f"cadence: {{times: ['07:30']}}\nlate_grace: {written}\n").grace == grace


def test_late_grace_beyond_a_day() -> None:
    assert problems(BASE + "cadence: {times: ['07:30']}\nlate_grace: 25h\n") == [
        "t.yaml:6: late_grace: '25h' is more than 24h"
    ]


def test_known_items_are_checked_with_their_lines() -> None:
    text = BASE.replace("[khau-hieu-03]", "[khau-hieu-03, khau-hieu-99]") + (
        "cadence: {times: ['07:30']}\n"
        "occasions:\n  - {date: 2023-04-11, time: '07:30', content: ngay-x}\n"
    )
    assert problems(text, known={"khau-hieu-03"}) == [
        "t.yaml:4: pool.items.1: unknown content item 'khau-hieu-99'",
        "t.yaml:7: occasions.0.content: unknown content item 'ngay-x'",
    ]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("name: Thử\n".encode("utf-16"))
    with pytest.raises(CampaignProblem) as caught:
        read_campaign(path)
    assert caught.value.errors == [f"{path}:1: not UTF-8 text"]


def test_json_round_trip() -> None:
    file = read_campaign(EXAMPLE)
    data = json.loads(json.dumps(file.to_json()))
    assert data["cadence"] == {"days": [1], "times": ["07:30"]}
    assert data["starts_at"] == "2023-04-01T00:00:00+07:00"
    again = CampaignFile.from_json(data)
    assert again == file
    assert again.starts_at.tzinfo is TZ and again.occasions[0].at.tzinfo is TZ
    other = parse(
        "cadence: {times: ['07:30']}\nlate_grace: 1h30m\naudience:\n  communes: "
        "[{province: Hưng Yên, commune: Vũ Thư}]\n  cooperatives: [ABC123, 42]\n"
    )
    assert other.audience.communes == (("Hưng Yên", "Vũ Thư"),)
    assert other.audience.cooperatives == ("ABC123", "42")
    assert CampaignFile.from_json(json.loads(json.dumps(other.to_json()))) == other


CANDIDATES = [
    Candidate("khau-hieu-01", "slogan", "policy", ("khau-hieu", "ky-niem-30-nam-lmhtx")),
    Candidate("khau-hieu-02", "slogan", "policy", ("khau-hieu", "ky-niem-30-nam-lmhtx")),
    Candidate("khau-hieu-03", "slogan", "policy", ("khau-hieu",)),
    Candidate("luat-htx-2023", "policy", "policy", ("luat",)),
    Candidate("ocop-1", "ocop_spotlight", "ocop", ()),
]


def test_pool_rule_picks_named_items_first_then_matches_in_order() -> None:
    rule = PoolRule(items=("luat-htx-2023", "khau-hieu-03"), tags=("khau-hieu",))
    assert rule.pick(CANDIDATES) == (
        "luat-htx-2023",
        "khau-hieu-03",
        "khau-hieu-01",
        "khau-hieu-02",
    )
    assert PoolRule(kinds=("slogan",), except_tags=("ky-niem-30-nam-lmhtx",)).pick(CANDIDATES) == (
        "khau-hieu-03",
    )
    assert PoolRule(kinds=("slogan", "policy"), topics=("policy",), tags=("luat",)).pick(
        CANDIDATES
    ) == ("luat-htx-2023",)
    assert PoolRule(topics=("ocop",)).pick(CANDIDATES) == ("ocop-1",)
    # Named items stay even with an excluded tag: staff chose them by name.
    named = PoolRule(items=("khau-hieu-01",), except_tags=("ky-niem-30-nam-lmhtx",))
    assert named.pick(CANDIDATES) == ("khau-hieu-01",)


def test_pool_rule_names_unknown_items() -> None:
    with pytest.raises(CampaignProblem) as caught:
        PoolRule(items=("khau-hieu-03", "khau-hieu-99", "x")).pick(CANDIDATES)
    assert caught.value.errors == [
        "pool.items: unknown content item 'khau-hieu-99'",
        "pool.items: unknown content item 'x'",
    ]
