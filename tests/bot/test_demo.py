"""`outreach demo`: a kept database works again, sample data to find, logs out of the chat."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from db.engine import create_db_engine, session_factory
from db.models import Broadcast, Delivery, DeliveryStatus, OcopProduct, TrainingCourse
from tests.bot.test_cli import run_process

REGISTER = "1\nkhanh hoa\nninh son\n3\n3\nnong nghiep\n1\n6\n"
HELP = "Các lệnh anh/chị dùng được:"
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR)")


def test_a_kept_demo_answers_on_its_second_run(tmp_path: Path) -> None:
    kept = tmp_path / "demo.db"
    first = run_process("demo", "--keep", str(kept), input=f"{REGISTER}/help\n/quit\n")
    assert first.returncode == 0, first.stderr
    assert "Đăng ký xong!" in first.stdout and HELP in first.stdout

    second = run_process("demo", "--keep", str(kept), input="/help\n/profile\n/quit\n")
    assert second.returncode == 0, second.stderr
    # The simulator started again: its ids must not be taken for replays of the first run's.
    assert "Anh/chị đang nhận tin." in second.stdout  # the automatic /start, answered
    assert HELP in second.stdout
    assert "HTX Nông nghiệp Mỹ Sơn" in second.stdout.split("> /profile")[1]


def test_the_demo_has_products_a_course_and_a_broadcast(tmp_path: Path) -> None:
    kept = tmp_path / "demo.db"
    script = f"{REGISTER}/ocop\n1\n1\n/taphuan\n/quit\n"
    result = run_process("demo", "--keep", str(kept), input=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Tỉnh Khánh Hòa (5)" in out  # /ocop: the sample products by province
    assert "Nước mắm cá cơm Cà Ná" in out.split("> /ocop")[1]
    assert "Tập huấn sản xuất rau an toàn theo VietGAP" in out.split("> /taphuan")[1]
    assert "📢 Tin mẫu: chào Người dùng thử!" in out  # the broadcast, once registered

    engine = create_db_engine(f"sqlite:///{kept}")
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count(OcopProduct.id))) == 6
        assert session.scalar(select(func.count(TrainingCourse.id))) == 1
        sample = session.scalars(select(Broadcast).where(Broadcast.created_by == "demo")).all()
        assert [b.text.startswith("📢 Tin mẫu") for b in sample] == [True]
        sent = select(Delivery.status).where(Delivery.broadcast_id == sample[0].id)
        assert session.scalars(sent).all() == [DeliveryStatus.SENT]
    engine.dispose()

    again = run_process("demo", "--keep", str(kept), input="/quit\n")
    assert again.returncode == 0, again.stderr
    with session_factory(engine)() as session:  # a second run adds none of them again
        assert session.scalar(select(func.count(OcopProduct.id))) == 6
        assert session.scalar(select(func.count(TrainingCourse.id))) == 1
        demo_broadcasts = select(func.count(Broadcast.id)).where(Broadcast.created_by == "demo")
        assert session.scalar(demo_broadcasts) == 1
    engine.dispose()


def test_log_lines_go_to_a_file_beside_the_database_not_the_chat(tmp_path: Path) -> None:
    kept = tmp_path / "demo.db"
    result = run_process("demo", "--keep", str(kept), input="/help\n/quit\n")
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "demo.log").resolve()
    assert f"The bot's log goes to {log}" in result.stdout  # the banner says where
    assert not LOG_LINE.search(result.stdout) and not LOG_LINE.search(result.stderr)
    assert result.stderr == ""
    logged = log.read_text(encoding="utf-8")
    assert "alembic.runtime.migration" in logged and "bot stopped" in logged
