"""Members on a Zalo Official Account: signed webhooks, buttons, Zalo's windows, tokens, ZNS."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.channels.zalo_oa_tokens import Pair, save_pair
from bot.settings import load_settings
from bot.simulator import FakeTelegram
from bot.simulator.zalo_oa_api import FakeZaloOA
from bot.simulator.zalo_oa_state import sign
from bot.web import ZALO_OA_PATH
from db.audience import Audience
from db.broadcasts import create_broadcast
from db.models import (
    Channel,
    Consent,
    Delivery,
    DeliveryStatus,
    OAuthToken,
    Subscriber,
    SubscriberStatus,
)
from db.people import LINK_CODE_TTL
from db.subscribers import get_subscriber
from tests.bot.test_cli import _outreach, run
from tests.factories import FakeClock, add_subscribers, commune_id, wait_done

ADMIN = 4242


def oa_settings(database_url: str, telegram: FakeTelegram, oa: FakeZaloOA, **extra: Any) -> Any:
    """Settings for the app with Telegram and the fake OA, the web server on a free port."""
    return load_settings(
        telegram_bot_token=telegram.token,
        telegram_api_url=telegram.base_url,
        database_url=database_url,
        outreach_chat_interval=0.0,  # the fake OA has no per-chat limit
        outreach_admins=str(ADMIN),
        zalo_oa_app_id=oa.app_id,
        zalo_oa_app_secret=oa.app_secret,
        zalo_oa_secret_key=oa.oa_secret,
        zalo_oa_api_url=oa.url,
        zalo_oauth_url=oa.url,
        zalo_zns_api_url=oa.url,
        outreach_web_port=0,
        **extra,
    )


def connect(sessions: sessionmaker[Session], oa: FakeZaloOA, clock: FakeClock) -> None:
    """Store a fresh token pair, as `outreach zalo connect` does."""
    pair = oa.issue_tokens()
    with sessions.begin() as session:
        save_pair(
            session,
            Pair(pair["access_token"], pair["refresh_token"], timedelta(seconds=90000)),
            clock(),
        )


@pytest.fixture
async def oa(clock: FakeClock) -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA(clock=lambda: clock().timestamp()) as fake:
        yield fake


@pytest.fixture
async def running(
    database_url: str,
    telegram: FakeTelegram,
    oa: FakeZaloOA,
    clock: FakeClock,
    sessions: sessionmaker[Session],
) -> AsyncIterator[Callable[..., Awaitable[OutreachApp]]]:
    """Start the app (settings given per test) with the OA connected and its webhook set."""
    started: list[OutreachApp] = []

    async def start(**extra: Any) -> OutreachApp:
        connect(sessions, oa, clock)
        app = OutreachApp(oa_settings(database_url, telegram, oa, **extra), clock)
        await app.start()
        assert app.web is not None
        oa.set_webhook(f"http://127.0.0.1:{app.web.port}{ZALO_OA_PATH}")
        started.append(app)
        return app

    yield start
    for app in started:
        await app.stop()


async def reply_to(oa: FakeZaloOA, user: str, expect: str) -> dict:
    """Read what the OA sent the user until a message contains `expect`."""
    while True:
        message = await oa.next_message(user)
        if expect in (message.get("text") or ""):
            return message


async def register_on_oa(oa: FakeZaloOA, user: str) -> None:
    """Follow the OA and register by buttons and typed words."""
    assert await oa.follow(user) == 200
    consent = await reply_to(oa, user, "Anh/chị có đồng ý không?")
    assert [b["title"] for b in consent["buttons"]] == ["✅ Tôi đồng ý", "Không đồng ý"]
    await oa.tap_button(user, consent["buttons"][0]["payload"])
    await reply_to(oa, user, "tỉnh, thành phố nào")
    await oa.send_text(user, "khanh hoa")
    await reply_to(oa, user, "xã, phường nào")
    await oa.send_text(user, "my son")
    await reply_to(oa, user, "Anh/chị thuộc nhóm nào dưới đây?")
    await oa.send_text(user, "nong dan")
    await reply_to(oa, user, "hợp tác xã")
    await oa.send_text(user, "bo qua")
    await reply_to(oa, user, "chủ đề nào")
    await oa.send_text(user, "xong")
    await reply_to(oa, user, "Đăng ký xong")


async def broadcast_done(sessions: sessionmaker[Session], clock: FakeClock, text: str) -> int:
    """Send a broadcast to everyone now and wait until every delivery is final."""
    with sessions.begin() as session:
        now = clock()
        broadcast_id = create_broadcast(
            session, text=text, audience=Audience(), send_at=now, created_by="test", now=now
        ).id
    await wait_done(sessions, broadcast_id, clock=clock)
    return broadcast_id


def add_oa_member(
    session: Session, oa: FakeZaloOA, user: str, seen_at: datetime, chat_number: int = 1
) -> Subscriber:
    """Insert a registered member who follows the OA and last wrote at `seen_at`."""
    area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
    [member_id] = add_subscribers(session, [chat_number], area_id=area)
    member = session.get(Subscriber, member_id)
    assert member is not None
    member.channel, member.chat_id, member.last_seen_at = Channel.ZALO_OA, user, seen_at
    oa.add_user(user, interacted_at=seen_at.timestamp())
    return member


def deliveries(sessions: sessionmaker[Session], broadcast_id: int) -> dict[str, Delivery]:
    """Map chat ids to their delivery rows."""
    with sessions() as session:
        rows = session.execute(
            select(Subscriber.chat_id, Delivery)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.broadcast_id == broadcast_id)
        ).all()
    return {chat: delivery for chat, delivery in rows}


async def test_member_registers_on_the_oa_and_gets_broadcasts_beside_telegram(
    running: Callable[..., Awaitable[OutreachApp]],
    oa: FakeZaloOA,
    telegram: FakeTelegram,
    clock: FakeClock,
    sessions: sessionmaker[Session],
) -> None:
    await running()
    await register_on_oa(oa, "881001")
    with sessions.begin() as session:
        add_subscribers(session, [7001], area_id=commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa"))
    telegram.add_chat(7001)
    sent = await broadcast_done(sessions, clock, "Lớp <b>VietGAP</b> cho {{ subscriber.name }}")
    rows = deliveries(sessions, sent)
    assert {chat: row.status for chat, row in rows.items()} == {
        "881001": DeliveryStatus.SENT,
        "7001": DeliveryStatus.SENT,
    }
    last = oa.messages("881001")[-1]
    assert last["mode"] == "cs" and last["text"].startswith("Lớp VietGAP cho ")
    await oa.send_text("881001", "Giá phân bón tăng quá")  # feedback, answered for free
    await reply_to(oa, "881001", "Cảm ơn anh/chị đã phản hồi về tin “Lớp VietGAP")
    await oa.send_text("881001", "/stop")
    await reply_to(oa, "881001", "Đã dừng")
    await oa.unfollow("881001")
    await asyncio.sleep(0.3)
    with sessions() as session:
        member = get_subscriber(session, Channel.ZALO_OA, "881001")
        assert member is not None and member.status == SubscriberStatus.STOPPED


async def test_unfollow_marks_the_member_unreachable(
    running: Callable[..., Awaitable[OutreachApp]], oa: FakeZaloOA, sessions: sessionmaker[Session]
) -> None:
    await running()
    await register_on_oa(oa, "881002")
    assert await oa.unfollow("881002") == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with sessions() as session:
            member = get_subscriber(session, Channel.ZALO_OA, "881002")
            if member is not None and member.status == SubscriberStatus.BLOCKED:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("an unfollow did not mark the member blocked")


async def test_forged_and_replayed_events_are_not_acted_on(
    running: Callable[..., Awaitable[OutreachApp]], oa: FakeZaloOA
) -> None:
    await running()
    assert await oa.follow("881003") == 200
    await reply_to(oa, "881003", "Anh/chị có đồng ý không?")
    answered = len(oa.messages("881003"))  # the welcome and the consent question
    event = oa.events[-1]["event"]
    assert await oa.post_event(event, signature="mac=" + "0" * 64) == 403
    assert await oa.post_event(event, signature="") == 403
    assert await oa.post_event(event) == 200  # a replay: accepted, not answered again
    await asyncio.sleep(0.3)
    assert len(oa.messages("881003")) == answered


def follow_event(oa: FakeZaloOA, user: str, signed_at: datetime) -> dict[str, Any]:
    """A follow event as Zalo posts it, dated `signed_at` (the signature covers the date)."""
    return {
        "app_id": oa.app_id,
        "user_id_by_app": oa.user_id_by_app(user),
        "event_name": "follow",
        "timestamp": str(int(signed_at.timestamp() * 1000)),
        "oa_id": oa.oa_id,
        "source": "oa_profile",
        "follower": {"id": user},
    }


async def test_a_correctly_signed_old_event_is_refused_and_not_acted_on(
    running: Callable[..., Awaitable[OutreachApp]],
    oa: FakeZaloOA,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await running()
    oa.touch("881020").followed = True
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo_oa"):
        old = follow_event(oa, "881020", clock() - timedelta(days=3))  # captured, replayed
        assert await oa.post_event(old) == 403
        ahead = follow_event(oa, "881020", clock() + timedelta(minutes=6))
        assert await oa.post_event(ahead) == 403
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 2 and "3 days, 0:00:00 old (more than 0:05:00)" in refused[0]
    assert "0:06:00 ahead" in refused[1]
    await asyncio.sleep(0.3)
    assert oa.messages("881020") == []  # the member got no reply: nothing was acted on

    late = follow_event(oa, "881020", clock() - timedelta(minutes=4))  # slow, but in time
    assert await oa.post_event(late) == 200
    await reply_to(oa, "881020", "Anh/chị có đồng ý không?")
    assert await oa.follow("881021") == 200  # and one sent now, as ever
    await reply_to(oa, "881021", "Anh/chị có đồng ý không?")


async def test_oversized_and_non_json_events_are_refused_unread(
    running: Callable[..., Awaitable[OutreachApp]], oa: FakeZaloOA
) -> None:
    app = await running()
    assert app.web is not None
    oa.touch("881022").followed = True
    event = follow_event(oa, "881022", datetime.fromtimestamp(oa.clock(), UTC))
    text = json.dumps(event) + " " * (10 * 1024 * 1024)  # valid JSON, correctly signed
    signed = {"X-ZEvent-Signature": sign(oa.app_id, text, event["timestamp"], oa.oa_secret)}
    small = json.dumps(event)
    small_signed = {"X-ZEvent-Signature": sign(oa.app_id, small, event["timestamp"], oa.oa_secret)}
    url = f"http://127.0.0.1:{app.web.port}{ZALO_OA_PATH}"
    async with httpx.AsyncClient(timeout=10) as http:
        big = await http.post(
            url, content=text.encode(), headers={**signed, "Content-Type": "application/json"}
        )
        plain = await http.post(
            url, content=small.encode(), headers={**small_signed, "Content-Type": "text/plain"}
        )
    assert (big.status_code, plain.status_code) == (413, 415)
    await asyncio.sleep(0.3)
    assert oa.messages("881022") == []


async def test_outside_window_and_the_zns_fallback(
    running: Callable[..., Awaitable[OutreachApp]],
    oa: FakeZaloOA,
    clock: FakeClock,
    sessions: sessionmaker[Session],
) -> None:
    await running(zalo_zns_template_id="ZNS-01", zalo_zns_text_param="noi_dung")
    oa.add_zns_template("ZNS-01", ["noi_dung", "customer_name"])
    with sessions.begin() as session:
        for n, (user, days) in enumerate([("u-now", 0.5), ("u-old", 3), ("u-phone", 10)]):
            member = add_oa_member(session, oa, user, clock() - timedelta(days=days), n)
        member.phone, member.phone_consent_at = "84912345678", clock()
        oa.set_phone("u-phone", "84912345678")
    sent = await broadcast_done(sessions, clock, "Hội nghị HTX ngày 15/12")
    rows = deliveries(sessions, sent)
    assert rows["u-now"].status == DeliveryStatus.SENT and rows["u-now"].via is None
    assert rows["u-old"].status == DeliveryStatus.OUTSIDE_WINDOW
    assert "3.0 days ago" in (rows["u-old"].error or "")
    assert rows["u-phone"].status == DeliveryStatus.SENT and rows["u-phone"].via == "zns"
    zns = oa.messages("u-phone")[-1]
    assert zns["mode"] == "zns" and zns["template_data"]["noi_dung"] == "Hội nghị HTX ngày 15/12"
    assert not oa.messages("u-old")


async def test_paid_promotion_waits_for_the_morning(
    running: Callable[..., Awaitable[OutreachApp]],
    oa: FakeZaloOA,
    clock: FakeClock,
    sessions: sessionmaker[Session],
) -> None:
    clock.advance(hours=16)  # 23:30 in Hà Nội
    await running(zalo_oa_promotion=True)
    with sessions.begin() as session:
        add_oa_member(session, oa, "u-3days", clock() - timedelta(days=3))
        now = clock()
        broadcast_id = create_broadcast(
            session,
            text="Tin thị trường",
            audience=Audience(),
            send_at=now,
            created_by="t",
            now=now,
        ).id
    await asyncio.sleep(1.0)
    row = deliveries(sessions, broadcast_id)["u-3days"]
    assert row.status == DeliveryStatus.QUEUED and not oa.messages("u-3days")
    local_morning = row.next_attempt_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert (local_morning.hour, local_morning.minute) == (7, 0)
    clock.advance(hours=8)  # 07:30
    await wait_done(sessions, broadcast_id, clock=clock)
    row = deliveries(sessions, broadcast_id)["u-3days"]
    assert row.status == DeliveryStatus.SENT and row.via == "promotion"
    promoted = oa.messages("u-3days")[-1]
    assert promoted["mode"] == "promotion" and promoted["text"] == "Tin thị trường"


async def test_token_refresh_rotates_and_saves_the_pair_before_use(
    running: Callable[..., Awaitable[OutreachApp]],
    oa: FakeZaloOA,
    clock: FakeClock,
    sessions: sessionmaker[Session],
) -> None:
    app = await running()
    with sessions() as session:
        before = session.get(OAuthToken, "zalo_oa")
    clock.advance(hours=25)  # the access token has run out
    await register_on_oa(oa, "881004")
    assert oa.refresh_calls == 1
    with sessions() as session:
        after = session.get(OAuthToken, "zalo_oa")
    assert after.refresh_token != before.refresh_token and after.last_error is None
    assert after.access_expires_at > clock()
    # Many sends at once after expiry: one refresh, the others wait for it.
    clock.advance(hours=25)
    assert app.zalo_oa is not None
    tokens = app.zalo_oa.client.tokens
    got = await asyncio.gather(*(tokens.access_token() for _ in range(10)))
    assert len(set(got)) == 1 and oa.refresh_calls == 2


async def test_refresh_failure_alerts_the_admins_once_and_sends_wait(
    running: Callable[..., Awaitable[OutreachApp]],
    oa: FakeZaloOA,
    telegram: FakeTelegram,
    clock: FakeClock,
    sessions: sessionmaker[Session],
) -> None:
    telegram.add_chat(ADMIN)
    await running()
    oa.fail_refresh(times=1)
    clock.advance(hours=25)  # the access token has run out; its renewal will fail once
    with sessions.begin() as session:
        add_oa_member(session, oa, "u-w", clock())
        now = clock()
        broadcast_id = create_broadcast(
            session, text="Tin chờ", audience=Audience(), send_at=now, created_by="t", now=now
        ).id
    alert = await telegram.next_message(ADMIN)
    assert "Không gia hạn được quyền gửi tin của Zalo OA" in alert["text"]
    assert "outreach zalo connect" in alert["text"]
    await asyncio.sleep(1.0)
    row = deliveries(sessions, broadcast_id)["u-w"]
    assert row.status == DeliveryStatus.QUEUED and row.attempts == 0  # waiting, not spent
    assert not oa.messages("u-w")
    with sessions() as session:
        assert "Invalid refresh token" in (session.get(OAuthToken, "zalo_oa").last_error or "")
    clock.advance(minutes=6)  # after the cool-down the renewal is tried again, and works
    await wait_done(sessions, broadcast_id, clock=clock)
    assert deliveries(sessions, broadcast_id)["u-w"].status == DeliveryStatus.SENT
    assert len(telegram.messages(ADMIN)) == 1  # told once
    with sessions() as session:
        assert session.get(OAuthToken, "zalo_oa").last_error is None


async def test_one_person_on_telegram_and_zalo_gets_each_broadcast_once(
    running: Callable[..., Awaitable[OutreachApp]],
    oa: FakeZaloOA,
    telegram: FakeTelegram,
    clock: FakeClock,
    sessions: sessionmaker[Session],
) -> None:
    await running()
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, [7002], area_id=area)
    telegram.add_chat(7002)
    telegram.send_text(7002, "/lienket")
    code_message = await telegram.next_message(7002)
    code = code_message["text"].split("/lienket ")[1].split()[0]
    assert len(code) == 6
    assert await oa.follow("881006") == 200
    await reply_to(oa, "881006", "Anh/chị có đồng ý không?")
    await oa.send_text("881006", f"/lienket {code}")  # a new chat: consent first, then linked
    consent = await reply_to(oa, "881006", "Anh/chị có đồng ý không?")
    await oa.tap_button("881006", consent["buttons"][0]["payload"])
    linked = await reply_to(oa, "881006", "Đã liên kết với tài khoản Telegram")
    assert "Tin vẫn gửi qua Telegram" in linked["text"]
    first = await broadcast_done(sessions, clock, "Tin 1")
    assert set(deliveries(sessions, first)) == {"7002"}
    await oa.tap_button("881006", linked["buttons"][0]["payload"])  # receive here instead
    await reply_to(oa, "881006", "Từ giờ anh/chị nhận tin qua Zalo")
    second = await broadcast_done(sessions, clock, "Tin 2")
    assert set(deliveries(sessions, second)) == {"881006"}
    await oa.send_text("881006", "/stop")  # stops the person everywhere
    await reply_to(oa, "881006", "Đã dừng")
    with sessions() as session:
        statuses = {s.chat_id: s.status for s in session.scalars(select(Subscriber))}
    assert statuses == {"7002": SubscriberStatus.STOPPED, "881006": SubscriberStatus.STOPPED}
    clock.advance(seconds=LINK_CODE_TTL.total_seconds() + 1)
    await oa.send_text("881006", f"/lienket {code}")  # used and expired: refused
    await reply_to(oa, "881006", "Mã liên kết không đúng hoặc đã hết hạn")


async def test_phone_number_kept_with_its_own_consent(
    running: Callable[..., Awaitable[OutreachApp]], oa: FakeZaloOA, sessions: sessionmaker[Session]
) -> None:
    await running()  # no ZNS template: nothing would use a number, so none is asked
    await register_on_oa(oa, "881008")
    await oa.send_text("881008", "/sdt")
    await reply_to(oa, "881008", "Hiện chưa cần số điện thoại")
    await running(zalo_zns_template_id="ZNS-01")
    await register_on_oa(oa, "881007")
    await oa.send_text("881007", "/sdt")
    await reply_to(oa, "881007", "số điện thoại di động")
    await oa.send_text("881007", "12345")
    await reply_to(oa, "881007", "không phải số di động Việt Nam")
    await oa.send_text("881007", "+84 912.345.678")
    asked = await reply_to(oa, "881007", "cho phép Liên minh HTX lưu số 0912 345 678")
    await oa.tap_button("881007", asked["buttons"][0]["payload"])
    await reply_to(oa, "881007", "Đã lưu số 0912 345 678")
    with sessions() as session:
        member = get_subscriber(session, Channel.ZALO_OA, "881007")
        assert member is not None and member.phone == "84912345678"
        consent = session.scalars(select(Consent).where(Consent.purpose == "zns")).one()
        assert consent.subscriber_id == member.id and consent.withdrawn_at is None
    await oa.send_text("881007", "/sdt")
    shown = await reply_to(oa, "881007", "Số điện thoại anh/chị đã cho phép dùng")
    await oa.tap_button("881007", shown["buttons"][1]["payload"])
    await reply_to(oa, "881007", "Đã xóa số điện thoại")
    with sessions() as session:
        member = get_subscriber(session, Channel.ZALO_OA, "881007")
        assert member is not None and member.phone is None
        consent = session.scalars(select(Consent).where(Consent.purpose == "zns")).one()
        assert consent.withdrawn_at is not None


async def test_zalo_connect_by_pkce_then_status(
    database_url: str, oa: FakeZaloOA, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "ZALO_OA_APP_ID": oa.app_id,
        "ZALO_OA_APP_SECRET": oa.app_secret,
        "ZALO_OA_SECRET_KEY": oa.oa_secret,
        "ZALO_OA_API_URL": oa.url,
        "ZALO_OAUTH_URL": oa.url,
    }
    callback = "https://htx.example.vn/zalo/callback"
    process = await _outreach("zalo", "connect", "--redirect-uri", callback, env=env, cwd=tmp_path)
    assert process.stdout is not None and process.stdin is not None
    while b"code_challenge=" not in (line := await process.stdout.readline()):
        assert line, "the permission address was not printed"
    query = parse_qs(urlsplit(line.decode().strip()).query)
    assert query["redirect_uri"] == [callback] and query["app_id"] == [oa.app_id]
    code = oa.authorize(query["code_challenge"][0])  # the OA admin allows access
    process.stdin.write(f"{callback}?code={code}&oa_id={oa.oa_id}\n".encode())
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "connected to the Zalo OA" in out.decode()
    with sessions() as session:
        assert session.get(OAuthToken, "zalo_oa") is not None
    shown = run("zalo", "status", env=env, cwd=tmp_path)
    assert shown.returncode == 0 and "refresh token valid until" in shown.stdout
    again = await _outreach(
        "zalo", "connect", "--redirect-uri", callback, "--code", code, env=env, cwd=tmp_path
    )
    _, err = await again.communicate()
    assert again.returncode == 2 and "Zalo refused" in err.decode()  # a code works once


async def test_a_wrong_code_mid_registration_asks_the_step_again(
    running: Callable[..., Awaitable[OutreachApp]], oa: FakeZaloOA
) -> None:
    await running()
    assert await oa.follow("881009") == 200
    consent = await reply_to(oa, "881009", "Anh/chị có đồng ý không?")
    await oa.tap_button("881009", consent["buttons"][0]["payload"])
    await reply_to(oa, "881009", "tỉnh, thành phố nào")
    await oa.send_text("881009", "/lienket 000000")
    await reply_to(oa, "881009", "Mã liên kết không đúng hoặc đã hết hạn")
    await reply_to(oa, "881009", "tỉnh, thành phố nào")  # where they were, asked again
    await oa.send_text("881009", "khanh hoa")
    await reply_to(oa, "881009", "xã, phường nào")


async def test_an_oa_reply_refused_for_now_is_sent_again_and_one_refused_for_good_asked_again(
    running: Callable[..., Awaitable[OutreachApp]], oa: FakeZaloOA
) -> None:
    await running()
    oa.fail_user("u-r", -32, "Request exceeds the rate limit", times=1)  # Zalo's 429
    assert await oa.follow("u-r") == 200
    await oa.wait_for(lambda: len(oa.messages("u-r")) > 0, timeout=10)  # again, after its 5 s
    consent = await reply_to(oa, "u-r", "Anh/chị có đồng ý không?")
    await oa.tap_button("u-r", consent["buttons"][0]["payload"])
    await reply_to(oa, "u-r", "tỉnh, thành phố nào")
    oa.fail_user("u-r", -201, "Message is invalid", times=1)  # refused for good
    await oa.send_text("u-r", "khanh hoa")  # the commune question is the one refused
    await oa.send_text("u-r", "my son")  # not taken as the answer to a question never seen
    again = await reply_to(oa, "u-r", "chưa tới được anh/chị")
    assert "Bot hỏi lại" in again["text"]
    await reply_to(oa, "u-r", "xã, phường nào")
