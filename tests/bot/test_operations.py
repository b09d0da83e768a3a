"""Operating the running bot: /healthz, /metrics, and what they say when something breaks."""

from __future__ import annotations

import logging
import re
import time

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp, SchemaError, check_schema
from bot.simulator import FakeTelegram
from db import broadcasts
from db.audience import Audience
from db.broadcasts import create_broadcast
from db.engine import create_db_engine
from tests.chat import Chat
from tests.factories import FakeClock, add_subscribers, commune_id, wait_done


def base(app: OutreachApp) -> str:
    assert app.web is not None, "the web server always runs, for /healthz"
    return f"http://127.0.0.1:{app.web.port}"


def figure(metrics: str, name: str, **labels: str) -> float:
    """Read one sample from Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name:
            given = ",".join(sorted((match[2] or "").split(","))) if match[2] else ""
            if given == wanted:
                return float(match[3])
    return 0.0


async def test_healthz_is_green_while_all_is_well(running: OutreachApp) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(base(running) + "/healthz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "checks": {"database": "ok", "telegram": "ok", "scheduler": "ok", "dispatcher": "ok"},
    }


async def test_healthz_names_what_is_wrong(
    running: OutreachApp, telegram: FakeTelegram, clock: FakeClock
) -> None:
    running.dispatcher.last_turn = time.monotonic() - 600  # a dispatcher that stopped turning
    clock.advance(minutes=10)  # and a scheduler that has not looked for ten minutes
    running.monitor._authorised.clear()
    await telegram.stop()  # Telegram out of reach
    async with httpx.AsyncClient() as client:
        answer = await client.get(base(running) + "/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"] == "ok"
    assert "not authorised or unreachable" in body["checks"]["telegram"]
    assert body["checks"]["scheduler"].startswith("last tick 6")
    assert body["checks"]["dispatcher"].startswith("stuck")


async def test_metrics_count_deliveries_updates_and_answers(
    running: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    chats = range(7000, 7012)
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, chats, area_id=area)
        for chat in chats:
            telegram.add_chat(chat)
        telegram.fail_chat(7003, 403, "Forbidden: bot was blocked by the user")
        now = clock()
        broadcast = create_broadcast(
            session, text="Tin thử", audience=Audience(), send_at=now, created_by="t", now=now
        ).id
    await wait_done(sessions, broadcast, 20, clock=clock)
    await Chat(telegram, 7100).say("/start", "")
    async with httpx.AsyncClient() as client:
        answer = await client.get(base(running) + "/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert figure(text, "outreach_deliveries_total", channel="telegram", status="sent") == 11
    assert figure(text, "outreach_deliveries_total", channel="telegram", status="failed") == 1
    assert figure(text, "outreach_updates_received_total", channel="telegram") == 1
    assert figure(text, "outreach_reply_latency_seconds_count", channel="telegram") == 1
    assert figure(text, "outreach_rate_limit_per_second", channel="telegram") == 30
    assert figure(text, "outreach_outbox_queued", channel="telegram") == 0
    assert figure(text, "outreach_scheduler_leader") == 1
    assert (
        "outreach_retry_after_total" not in text
        or "channel=" not in text.split("outreach_retry_after_total")[1].split("\n")[0]
    )


async def test_metrics_show_the_queue_and_its_age(
    running: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    running._stopping.set()  # hold the dispatcher: the queue builds up
    if running._dispatch_task is not None:
        await running._dispatch_task
        running._dispatch_task = None
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, range(8000, 8005), area_id=area)
        now = clock()
        create_broadcast(
            session, text="Tin chờ", audience=Audience(), send_at=now, created_by="t", now=now
        )
    with sessions.begin() as session:
        broadcasts.start_due(session, clock(), skip_locked=False)
    clock.advance(minutes=3)
    async with httpx.AsyncClient() as client:
        text = (await client.get(base(running) + "/metrics")).text
    assert figure(text, "outreach_outbox_queued", channel="telegram") == 5
    assert figure(text, "outreach_outbox_oldest_seconds", channel="telegram") == 180


def test_a_database_behind_is_refused_and_one_ahead_is_accepted(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    try:
        check_schema(engine)  # up to date
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0007'"))
        with pytest.raises(SchemaError, match="run `outreach db upgrade`"):
            check_schema(engine)
        # A newer version migrated it first (a rolling upgrade): this one may still run.
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        with caplog.at_level(logging.WARNING, logger="bot.app"):
            check_schema(engine)
        assert "newer than this version" in caplog.text
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        engine.dispose()
