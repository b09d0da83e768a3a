"""`outreach poll ...` as an operator runs it, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import AuditEntry, Broadcast, Poll, PollStatus, Subscriber
from db.polls import PollClosed, answer
from tests.bot.test_cli import run
from tests.factories import add_subscribers, commune_id

KH, HN = "Tỉnh Khánh Hòa", "Thành phố Hà Nội"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def members(sessions: sessionmaker[Session]) -> dict[str, list[int]]:
    """Three members in Mỹ Sơn, Khánh Hòa, and two in Ba Đình, Hà Nội."""
    with sessions.begin() as session:
        return {
            "kh": add_subscribers(
                session, range(1, 4), area_id=commune_id(session, "Xã Mỹ Sơn", KH)
            ),
            "hn": add_subscribers(
                session, range(4, 6), area_id=commune_id(session, "Phường Ba Đình", HN)
            ),
        }


def outreach(database_url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """Run an outreach command on the test database."""
    result = run(*args, env={"DATABASE_URL": database_url}, cwd=tmp_path)
    return result.returncode, result.stdout, result.stderr


def _polls(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Poll)) or 0


def test_create_schedules_a_poll_with_buttons(
    database_url: str,
    tmp_path: Path,
    sessions: sessionmaker[Session],
    members: dict[str, list[int]],
) -> None:
    later = datetime.now(HANOI).replace(second=0, microsecond=0) + timedelta(days=1)
    code, out, err = outreach(
        database_url,
        tmp_path,
        *("poll", "create", "--question", "Nên mở lớp tập huấn vào tháng nào?"),
        *("--option", "Tháng 12", "--option", "Tháng 1", "--option", "Sau Tết"),
        *("--province", "khanh hoa", "--at", f"{later:%Y-%m-%d %H:%M}"),
        *("--closes", f"{later + timedelta(days=3):%Y-%m-%d %H:%M}"),
    )
    assert code == 0, err
    with sessions() as session:
        poll = session.scalars(select(Poll)).one()
        sent = session.get_one(Broadcast, poll.broadcast_id)
        assert out.strip() == (
            f"poll {poll.id} created: asks 3 members at {later:%Y-%m-%d %H:%M} "
            f"as broadcast {sent.id}"
        )
        assert sent.kind == "poll" and sent.templated is False
        assert [b["data"] for b in sent.buttons] == [f"poll|{poll.id}.{n}" for n in (1, 2, 3)]
        assert sent.send_at == later.astimezone(UTC)
        assert sent.expires_at == poll.closes_at == (later + timedelta(days=3)).astimezone(UTC)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "poll.create")).one()
        assert entry.target == f"poll:{poll.id}" and entry.actor.startswith("cli:")
        assert entry.changes["options"] == ["Tháng 12", "Tháng 1", "Sau Tết"]
        assert entry.changes["broadcast"] == sent.id
        assert entry.changes["closes_at"] == (later + timedelta(days=3)).isoformat()


@pytest.mark.parametrize(
    ("options", "closes", "reason"),
    [
        (["Có"], None, "a poll needs 2 to 5 options, not 1"),
        (["Có", " có "], None, "two options are the same"),
        (["Có", "Không"], "2020-01-01 08:00", "the closing time is in the past"),
    ],
)
def test_a_bad_poll_says_why(
    database_url: str,
    tmp_path: Path,
    sessions: sessionmaker[Session],
    members: dict[str, list[int]],
    options: list[str],
    closes: str | None,
    reason: str,
) -> None:
    args = ["poll", "create", "--question", "Anh chị có dự họp không?"]
    args += [part for option in options for part in ("--option", option)]
    args += ["--closes", closes] if closes else []
    code, out, err = outreach(database_url, tmp_path, *args)
    assert code == 2 and out == ""
    assert err.strip() == f"error: {reason}"
    assert _polls(sessions) == 0


def test_nobody_to_ask_is_refused(
    database_url: str, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    code, _, err = outreach(
        database_url,
        tmp_path,
        "poll",
        "create",
        "--question",
        "Q?",
        "--option",
        "A",
        "--option",
        "B",
    )
    assert code == 2 and "no active subscriber matches" in err
    assert _polls(sessions) == 0


def _vote(sessions: sessionmaker[Session], poll_id: int, choices: dict[int, int]) -> None:
    with sessions.begin() as session:
        poll = session.get_one(Poll, poll_id)
        for member, choice in choices.items():
            answer(session, poll, session.get_one(Subscriber, member), choice, datetime.now(UTC))


def test_show_list_and_close(
    database_url: str,
    tmp_path: Path,
    sessions: sessionmaker[Session],
    members: dict[str, list[int]],
) -> None:
    code, _, err = outreach(
        database_url,
        tmp_path,
        *("poll", "create", "--question", "Hợp tác xã có cần vay vốn không?"),
        *("--option", "Có", "--option", "Không", "--option", "Chưa biết"),
    )
    assert code == 0, err
    kh, hn = members["kh"], members["hn"]
    _vote(sessions, 1, {kh[0]: 0, kh[1]: 0, kh[2]: 1, hn[0]: 0})

    code, out, err = outreach(database_url, tmp_path, "poll", "show", "1")
    assert code == 0, err
    assert out.splitlines() == [
        "poll 1 (open): Hợp tác xã có cần vay vốn không?",
        "answers: 4",
        "  1. Có: 3 (75%)",
        "  2. Không: 1 (25%)",
        "  3. Chưa biết: 0 (0%)",
        "province\t1. Có\t2. Không\t3. Chưa biết",
        f"{HN}\t1\t0\t0",
        f"{KH}\t2\t1\t0",
    ]
    code, out, _ = outreach(database_url, tmp_path, "poll", "show", "1", "--province", "khanh hoa")
    assert "answers: 3" in out and "  1. Có: 2 (67%)" in out and "  2. Không: 1 (33%)" in out
    assert f"{KH}\t2\t1\t0" in out and HN not in out

    code, out, _ = outreach(database_url, tmp_path, "poll", "list")
    fields = out.strip().split("\t")
    assert fields[:2] == ["1", "open"] and fields[3:] == [
        "-",
        "4",
        "Hợp tác xã có cần vay vốn không?",
    ]

    code, out, _ = outreach(database_url, tmp_path, "poll", "close", "1")
    assert code == 0 and out.strip() == "poll 1 is now closed"
    code, _, err = outreach(database_url, tmp_path, "poll", "close", "1")
    assert code == 2 and "poll 1 is already closed" in err
    code, out, _ = outreach(database_url, tmp_path, "poll", "list")
    assert out.split("\t")[1] == "closed"
    with sessions() as session:
        assert session.get_one(Poll, 1).status is PollStatus.CLOSED
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "poll.close")).one()
        assert entry.target == "poll:1" and entry.changes == {"status": ["open", "closed"]}
    with pytest.raises(PollClosed):
        _vote(sessions, 1, {hn[1]: 2})
    code, _, err = outreach(database_url, tmp_path, "poll", "show", "7")
    assert code == 2 and "poll 7 does not exist" in err


def test_times_must_be_ahead(
    database_url: str,
    tmp_path: Path,
    sessions: sessionmaker[Session],
    members: dict[str, list[int]],
) -> None:
    ask = ("poll", "create", "--question", "Q?", "--option", "A", "--option", "B")
    code, _, err = outreach(database_url, tmp_path, *ask, "--at", "2020-01-01 08:00")
    assert code == 2 and "--at 2020-01-01 08:00 is in the past" in err
    later = datetime.now(HANOI) + timedelta(days=2)
    closes = later - timedelta(days=1)
    code, _, err = outreach(
        database_url,
        tmp_path,
        *ask,
        *("--at", f"{later:%Y-%m-%d %H:%M}", "--closes", f"{closes:%Y-%m-%d %H:%M}"),
    )
    assert code == 2 and "--closes must be after the time the poll is asked" in err
    code, _, err = outreach(database_url, tmp_path, *ask, "--at", "tomorrow")
    assert code == 2 and "is not a time like" in err
    assert _polls(sessions) == 0
