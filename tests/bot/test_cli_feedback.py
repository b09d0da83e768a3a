"""`outreach feedback ...` as an operator runs it, on a real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.audience import Audience
from db.broadcasts import create_broadcast
from db.feedback import Triaged, add_feedback
from db.models import AuditEntry, Broadcast, Feedback, FeedbackKind, FeedbackStatus, Subscriber
from messages.triage import DEFAULT_RULES, load_rules
from tests.bot.test_cli import run
from tests.factories import add_subscribers, commune_id

KH, HN = "Tỉnh Khánh Hòa", "Thành phố Hà Nội"
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội

Outreach = Callable[..., tuple[int, str, str]]


@pytest.fixture
def outreach(database_url: str, tmp_path: Path) -> Outreach:
    """Run an outreach command on the test database; return its status, stdout and stderr."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        result = run(*args, env={"DATABASE_URL": database_url, **(env or {})}, cwd=tmp_path)
        return result.returncode, result.stdout, result.stderr

    return invoke


@pytest.fixture
def inbox(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Three pieces of feedback: one in Hà Nội (flagged) and two in Mỹ Sơn, Khánh Hòa."""
    with sessions.begin() as session:
        an = add_subscribers(session, [501], area_id=commune_id(session, "Xã Mỹ Sơn", KH))[0]
        binh = add_subscribers(
            session, [502], area_id=commune_id(session, "Phường Ba Đình", HN), name="Bình"
        )[0]
        announced = create_broadcast(
            session,
            text="Lịch tập huấn kế toán HTX tháng 12",
            audience=Audience(),
            send_at=T0,
            created_by="cli",
            now=T0,
        )
        first = add_feedback(
            session,
            session.get_one(Subscriber, an),
            "Xin hỏi thủ tục vay vốn ngân hàng chính sách",
            T0,
            Triaged("von"),
            kind=FeedbackKind.DIFFICULTY,
            category="von",
            photo="AgACAgFILE",
        )
        rude = add_feedback(
            session,
            session.get_one(Subscriber, binh),
            "Thật là khốn nạn",
            T0,
            Triaged("khac", ("abusive",)),
        )
        later = add_feedback(
            session,
            session.get_one(Subscriber, an),
            "Khi nào mở lớp tập huấn?",
            T0 + timedelta(hours=2),
            Triaged("tap_huan"),
            broadcast_id=announced.id,
        )
        return {"an": an, "first": first.id, "rude": rude.id, "later": later.id, "b": announced.id}


def _ids(out: str) -> list[int]:
    return [int(line.split("\t")[0]) for line in out.strip().splitlines()[:-1]]


def _audit(sessions: sessionmaker[Session], action: str) -> list[AuditEntry]:
    with sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(session.scalars(query))


def test_list_is_flagged_first_then_newest_and_filters_by_area(
    outreach: Outreach, inbox: dict[str, int]
) -> None:
    code, out, err = outreach("feedback", "list")
    assert code == 0, err
    assert _ids(out) == [inbox["rude"], inbox["later"], inbox["first"]]
    lines = out.strip().splitlines()
    assert lines[-1] == "3 open in total"
    rude = lines[0].split("\t")
    assert rude[1:8] == [
        "2026-11-24 08:00",
        "open",
        "!abusive",
        "Khác",
        "message",
        f"Phường Ba Đình, {HN}",
        "Bình 502",
    ]
    later = lines[1].split("\t")
    assert later[3] == "" and later[4] == "Tập huấn" and later[8] == f"re #{inbox['b']}"
    assert later[9] == "Khi nào mở lớp tập huấn?"

    code, out, _ = outreach("feedback", "list", "--province", "khanh hoa")
    assert _ids(out) == [inbox["later"], inbox["first"]]
    assert out.strip().splitlines()[-1] == "2 open in total"
    code, out, _ = outreach("feedback", "list", "--province", "ha noi", "--commune", "ba dinh")
    assert _ids(out) == [inbox["rude"]]
    code, out, _ = outreach("feedback", "list", "--flagged")
    assert _ids(out) == [inbox["rude"]]
    code, out, _ = outreach("feedback", "list", "--limit", "2")
    assert _ids(out) == [inbox["rude"], inbox["later"]]
    code, out, _ = outreach("feedback", "list", "--closed")
    assert _ids(out) == []
    code, _, err = outreach("feedback", "list", "--commune", "my son")  # Khánh Hòa, or Nghệ An's
    assert code == 2 and "commune 'my son' is not one area" in err
    assert "Xã Bạch Hà 17707 (Tỉnh Nghệ An; from Xã Mỹ Sơn, Huyện Đô Lương)" in err


def test_show_prints_everything_and_replies(
    outreach: Outreach, inbox: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    code, out, err = outreach("feedback", "show", str(inbox["first"]))
    assert code == 0, err
    assert f"feedback {inbox['first']} (difficulty, telegram) open" in out
    assert "category: von" in out and "topic: von (Vốn, tín dụng)" in out
    assert "matched words: vay vốn, ngân hàng" in out
    assert "photo: AgACAgFILE" in out and "flags: none" in out
    assert "text:\nXin hỏi thủ tục vay vốn ngân hàng chính sách" in out
    assert "reply by" not in out

    code, out, _ = outreach("feedback", "show", str(inbox["later"]))
    assert f"about broadcast {inbox['b']}: Lịch tập huấn kế toán HTX tháng 12" in out
    code, out, _ = outreach("feedback", "show", str(inbox["rude"]))
    assert "flags: abusive (Ngôn từ thô tục, xúc phạm)" in out
    assert "matched words: khốn nạn" in out

    outreach("feedback", "reply", str(inbox["first"]), "--text", "Mời anh lên xã ngày mai.")
    code, out, _ = outreach("feedback", "show", str(inbox["first"]))
    replies = [line for line in out.splitlines() if line.startswith("reply by cli:")]
    assert len(replies) == 1 and "(queued)" in replies[0]
    assert "Mời anh lên xã ngày mai." in replies[0]
    code, _, err = outreach("feedback", "show", "99")
    assert code == 2 and "feedback 99 does not exist" in err


def test_reply_queues_a_message_of_one(
    outreach: Outreach, inbox: dict[str, int], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    answer = "Anh mang <CCCD> lên UBND xã & hỏi chị Lan."
    code, out, err = outreach("feedback", "reply", str(inbox["first"]), "--text", answer)
    assert code == 0, err
    with sessions() as session:
        sent = session.scalars(select(Broadcast).where(Broadcast.kind == "reply")).one()
        assert out.strip() == f"reply to feedback {inbox['first']} queued as broadcast {sent.id}"
        assert (sent.templated, sent.reactions) == (False, False)
        assert sent.audience == {"subscriber_ids": [inbox["an"]]}
        assert "Liên minh Hợp tác xã trả lời" in sent.text
        assert "Anh mang &lt;CCCD&gt; lên UBND xã &amp; hỏi chị Lan." in sent.text
        assert "08:00 24/11" in sent.text  # when the member wrote it, in local time
        item = session.get_one(Feedback, inbox["first"])
        assert item.status is FeedbackStatus.ANSWERED and item.answered_at is not None
    [entry] = _audit(sessions, "feedback.reply")
    assert entry.target == f"feedback:{inbox['first']}" and entry.changes == {"reply": answer}
    assert entry.actor.startswith("cli:")

    letter = tmp_path / "answer.txt"
    letter.write_text("Đã chuyển hồ sơ lên huyện.\n", encoding="utf-8")
    code, out, _ = outreach("feedback", "reply", str(inbox["first"]), "--file", str(letter))
    assert code == 0 and len(_audit(sessions, "feedback.reply")) == 2

    code, _, err = outreach("feedback", "reply", str(inbox["first"]), "--text", "   ")
    assert code == 2 and "the answer is empty" in err
    code, _, err = outreach("feedback", "reply", str(inbox["first"]), "--text", "a" * 2001)
    assert code == 2 and "2001 characters; at most 2000" in err
    code, _, err = outreach("feedback", "reply", str(inbox["first"]))
    assert code == 2 and "exactly one of --text or --file" in err


def test_assign_close_reopen_are_audited(
    outreach: Outreach, inbox: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    rude = str(inbox["rude"])
    assert outreach("staff", "add", "111", "--role", "admin")[0] == 0
    code, out, err = outreach("feedback", "assign", rude, "--to", "1")
    assert code == 0 and out.strip() == f"feedback {rude} assigned to staff 1", err
    code, out, _ = outreach("feedback", "show", rude)
    assert "assigned to: staff 1" in out
    code, out, _ = outreach("feedback", "assign", rude, "--nobody")
    assert out.strip() == f"feedback {rude} assigned to nobody"
    changes = [e.changes for e in _audit(sessions, "feedback.assign")]
    assert changes == [{"assigned_to": [None, 1]}, {"assigned_to": [1, None]}]
    code, _, err = outreach("feedback", "assign", rude, "--to", "9")
    assert code == 2 and "no staff member has the id 9" in err
    code, _, err = outreach("feedback", "assign", rude)
    assert code == 2 and "--nobody" in err

    code, out, _ = outreach("feedback", "close", rude)
    assert code == 0 and out.strip() == f"feedback {rude} is now closed"
    code, _, err = outreach("feedback", "close", rude)
    assert code == 2 and f"feedback {rude} is already closed" in err
    code, _, err = outreach("feedback", "reply", rude, "--text", "Xin giữ lời lẽ.")
    assert code == 2 and f"feedback {rude} is closed: reopen it before answering" in err
    code, out, _ = outreach("feedback", "list", "--closed")
    assert _ids(out) == [inbox["rude"]] and out.strip().endswith("2 open in total")
    code, out, _ = outreach("feedback", "reopen", rude)
    assert code == 0 and out.strip() == f"feedback {rude} is now open"
    code, _, err = outreach("feedback", "reopen", rude)
    assert code == 2 and "is not closed" in err
    [closed] = _audit(sessions, "feedback.close")
    [reopened] = _audit(sessions, "feedback.reopen")
    assert closed.changes == {"status": ["open", "closed"]} and closed.target == f"feedback:{rude}"
    assert reopened.changes == {"status": ["closed", "open"]}
    with sessions() as session:
        assert session.scalars(select(Broadcast).where(Broadcast.kind == "reply")).all() == []


def test_triage_prints_the_topic_for_an_unaccented_text(outreach: Outreach) -> None:
    code, out, err = outreach("feedback", "triage", "xin hoi cach VAY VON de mua may cay")
    assert code == 0, err
    assert out.splitlines() == ["topic: von (Vốn, tín dụng)", "flags: none", "matched: vay vốn"]
    code, out, _ = outreach("feedback", "triage", "thật là khốn nạn")
    assert "flags: abusive (Ngôn từ thô tục, xúc phạm)" in out and "matched: khốn nạn" in out


def _custom_rules(tmp_path: Path) -> Path:
    data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    data["topics"]["bao_hiem"] = {"label": "Bảo hiểm", "words": ["bảo hiểm", "BHXH"]}
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_rules_lists_and_checks(outreach: Outreach, tmp_path: Path) -> None:
    shipped = load_rules()
    code, out, err = outreach("feedback", "rules")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"rules: {DEFAULT_RULES}"
    von = len(shipped.topics["von"].entries)
    assert f"topic\tvon\t{von} words\tVốn, tín dụng" in lines
    assert len(lines) == 1 + len(shipped.topics) + len(shipped.flags)

    custom = _custom_rules(tmp_path)
    code, out, _ = outreach("feedback", "rules", env={"OUTREACH_TRIAGE_RULES": str(custom)})
    assert out.splitlines()[0] == f"rules: {custom}" and "topic\tbao_hiem\t2 words\tBảo hiểm" in out
    code, out, _ = outreach("feedback", "triage", "đóng BHXH thế nào", "--rules", str(custom))
    assert out.splitlines()[0] == "topic: bao_hiem (Bảo hiểm)"

    code, out, _ = outreach("feedback", "rules", "--check", str(DEFAULT_RULES))
    assert code == 0 and out.strip() == (
        f"ok: {len(shipped.topics)} topics, {len(shipped.flags)} flags"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("topics:\n  von:\n    label: Vốn\n    words: ['', vay vốn]\nflags: {}\n")
    code, out, err = outreach("feedback", "rules", "--check", str(broken))
    assert code == 2 and out == ""
    assert f"2 problems in {broken}:" in err
    assert f"{broken}:4: topics.von.words.0: empty entry" in err
    assert "missing dat_dai, thi_truong, thu_tuc, ky_thuat, khac" in err
