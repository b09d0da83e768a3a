"""Check the fake Zalo Bot Platform answers raw HTTP clients the way Zalo does."""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.simulator.zalo_bot_api import FakeZaloBot
from tests.simulator.helpers import call

pytestmark = pytest.mark.asyncio

USER = "e4ea2cd5189df1c3a88c"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as server:
        yield server


@pytest.fixture
async def http(zalo: FakeZaloBot) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{zalo.base_url}{zalo.token}/", timeout=10) as client:
        yield client


async def test_get_me_token_and_unknown_methods(zalo: FakeZaloBot, http: httpx.AsyncClient) -> None:
    assert zalo.base_url.startswith("http://127.0.0.1:") and zalo.base_url.endswith("/bot")
    assert await call(http, "getMe") == (
        200,
        {
            "ok": True,
            "result": {
                "id": "987654",
                "account_name": "bot.htx",
                "account_type": "BASIC",
                "can_join_groups": False,
            },
        },
    )
    assert (await http.get("getMe")).json()["result"]["id"] == "987654"
    wrong = await http.post(f"{zalo.base_url}987654:WRONG/getMe", json={})
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert await call(http, "sendSticker", chat_id=USER) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert (await http.post(f"{zalo.base_url.removesuffix('/bot')}/elsewhere")).status_code == 404
    assert [(c.method, c.status) for c in zalo.calls] == [
        ("getMe", 200),
        ("getMe", 200),
        ("getMe", 401),
        ("sendSticker", 404),
    ]


async def test_long_poll_returns_as_soon_as_a_user_writes(
    zalo: FakeZaloBot, http: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(call(http, "getUpdates", timeout="30"))
    await asyncio.sleep(0.05)  # let the poll reach the server and wait there
    update = zalo.send_text(USER, "Xin chào HTX", display_name="Lê Văn Cường")
    status, body = await poll
    assert time.monotonic() - started < 1
    assert status == 200 and body == {"ok": True, "result": update}
    message = update["message"]
    assert update["event_name"] == "message.text.received"
    assert message["from"] == {"id": USER, "display_name": "Lê Văn Cường", "is_bot": False}
    assert message["chat"] == {"id": USER, "chat_type": "PRIVATE"}
    assert message["text"] == "Xin chào HTX" and isinstance(message["message_id"], str)
    assert abs(message["date"] - time.time() * 1000) < 5_000  # milliseconds since the epoch


async def test_long_poll_without_updates_answers_408(http: httpx.AsyncClient) -> None:
    started = time.monotonic()
    assert await call(http, "getUpdates", timeout="1") == (
        408,
        {"ok": False, "error_code": 408, "description": "Request timeout"},
    )
    assert 0.9 <= time.monotonic() - started < 2
    assert (await call(http, "getUpdates", timeout="soon"))[0] == 400


async def test_a_newer_poll_supersedes_a_waiting_one(
    zalo: FakeZaloBot, http: httpx.AsyncClient
) -> None:
    abandoned = asyncio.create_task(call(http, "getUpdates", timeout=30))
    await asyncio.sleep(0.05)
    current = asyncio.create_task(call(http, "getUpdates", timeout=30))
    assert (await abandoned)[0] == 408  # it takes no update that nobody would read
    update = zalo.send_text(USER, "còn đó không?")
    assert await current == (200, {"ok": True, "result": update})


async def test_each_update_is_handed_out_once_in_order(
    zalo: FakeZaloBot, http: httpx.AsyncClient
) -> None:
    sent = [
        zalo.send_text(USER, "một"),
        zalo.send_sticker(USER),
        zalo.send_image(USER, caption="Lúa ST25"),
        zalo.send_image("u2"),
        zalo.send_unsupported(USER),
    ]
    got = [(await call(http, "getUpdates", timeout=0))[1]["result"] for _ in sent]
    assert got == sent
    assert [u["event_name"] for u in got] == [
        "message.text.received",
        "message.sticker.received",
        "message.image.received",
        "message.image.received",
        "message.unsupported.received",
    ]
    assert isinstance(got[1]["message"]["sticker"], str)
    assert got[2]["message"]["caption"] == "Lúa ST25" and got[2]["message"]["photo_url"]
    assert "caption" not in got[3]["message"] and got[3]["message"]["from"]["id"] == "u2"
    assert not {"text", "sticker", "photo_url"} & got[4]["message"].keys()
    assert len({u["message"]["message_id"] for u in got}) == len(got)
    assert (await call(http, "getUpdates", timeout=0))[0] == 408


async def test_send_message_counts_composed_characters(
    zalo: FakeZaloBot, http: httpx.AsyncClient
) -> None:
    zalo.send_text(USER, "chào")
    decomposed = unicodedata.normalize("NFD", "ệ" * 2000)
    assert len(decomposed) == 6000
    status, body = await call(http, "sendMessage", chat_id=USER, text=decomposed)
    assert status == 200 and set(body["result"]) == {"message_id", "date"}
    too_long = {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: text must be 1 to 2000 characters",
    }
    assert await call(http, "sendMessage", chat_id=USER, text="ệ" * 2001) == (400, too_long)
    assert await call(http, "sendMessage", chat_id=USER, text="") == (400, too_long)
    assert (await call(http, "sendMessage", chat_id=USER))[0] == 400
    [message] = zalo.messages(USER)
    assert message == {
        "message_id": body["result"]["message_id"],
        "chat_id": USER,
        "text": decomposed,
        "date": body["result"]["date"],
    }


async def test_unknown_user_is_not_found_until_added(
    zalo: FakeZaloBot, http: httpx.AsyncClient
) -> None:
    not_found = {"ok": False, "error_code": 400, "description": "Bad Request: user not found"}
    assert await call(http, "sendMessage", chat_id="stranger", text="Chào") == (400, not_found)
    assert await call(http, "sendChatAction", chat_id="stranger", action="typing") == (
        400,
        not_found,
    )
    zalo.add_chat("stranger")
    assert (await call(http, "sendMessage", chat_id="stranger", text="Chào"))[0] == 200
    assert await call(http, "sendChatAction", chat_id="stranger", action="typing") == (
        200,
        {"ok": True},
    )
    assert (await call(http, "sendChatAction", chat_id="stranger", action="dance"))[0] == 400
    assert zalo.messages() == zalo.messages("stranger") and len(zalo.messages()) == 1


async def test_send_photo_caption_rule(zalo: FakeZaloBot, http: httpx.AsyncClient) -> None:
    zalo.add_chat(USER)
    photo = "https://htx.example/ocop.jpg"
    assert (await call(http, "sendPhoto", chat_id=USER, photo=photo, caption="x" * 2001))[0] == 400
    assert (await call(http, "sendPhoto", chat_id=USER, caption="thiếu ảnh"))[0] == 400
    assert (await call(http, "sendPhoto", chat_id=USER, photo=photo, caption="Gạo"))[0] == 200
    assert (await call(http, "sendPhoto", chat_id=USER, photo=photo))[0] == 200
    first, second = zalo.messages(USER)
    assert first["photo"] == photo and first["caption"] == "Gạo"
    assert "caption" not in second and "text" not in second


async def test_fail_chat_answers_the_injected_errors(
    zalo: FakeZaloBot, http: httpx.AsyncClient
) -> None:
    for user in ("blocked", "busy"):
        zalo.add_chat(user)
    zalo.fail_chat("blocked", 403, "Forbidden: user has blocked the bot")
    zalo.fail_chat("busy", 429, "Too Many Requests", times=1)
    for _ in range(2):
        assert await call(http, "sendMessage", chat_id="blocked", text="Chào") == (
            403,
            {"ok": False, "error_code": 403, "description": "Forbidden: user has blocked the bot"},
        )
    assert await call(http, "sendMessage", chat_id="busy", text="Chào") == (
        429,
        {"ok": False, "error_code": 429, "description": "Too Many Requests"},
    )
    assert (await call(http, "sendMessage", chat_id="busy", text="Chào"))[0] == 200
    assert zalo.http_429 == 1 and [m["chat_id"] for m in zalo.messages()] == ["busy"]
    zalo.clear_failures()
    assert (await call(http, "sendMessage", chat_id="blocked", text="Chào"))[0] == 200


async def test_hang_chat_answers_late_but_sends() -> None:
    async with (
        FakeZaloBot() as zalo,
        httpx.AsyncClient(base_url=f"{zalo.base_url}{zalo.token}/") as http,
    ):
        zalo.add_chat(USER)
        zalo.hang_chat(USER, 0.15, times=1)
        poll = asyncio.create_task(call(http, "sendMessage", chat_id=USER, text="chậm"))
        await zalo.wait_for(lambda: bool(zalo.messages(USER)), timeout=1)
        assert not poll.done()  # stored already, the answer is still held back
        started = time.monotonic()
        assert (await poll)[0] == 200
        assert 0.05 < time.monotonic() - started < 1


async def test_rate_limit_answers_429_above_the_rate() -> None:
    now = [1000.0]
    async with FakeZaloBot(rate_limit=2, clock=lambda: now[0]) as zalo:
        zalo.add_chat(USER)
        async with httpx.AsyncClient(base_url=f"{zalo.base_url}{zalo.token}/") as http:
            statuses = [
                (await call(http, "sendMessage", chat_id=USER, text=str(n)))[0] for n in range(3)
            ]
            assert statuses == [200, 200, 429]
            assert await call(http, "sendMessage", chat_id=USER, text="x") == (
                429,
                {"ok": False, "error_code": 429, "description": "Too Many Requests"},
            )
            now[0] += 0.5  # a token bucket would have one back; two were sent this second
            assert (await call(http, "sendMessage", chat_id=USER, text="y"))[0] == 429
            now[0] += 0.5  # both have left the window; the refusals never entered it
            assert (await call(http, "sendMessage", chat_id=USER, text="y"))[0] == 200
            assert (await call(http, "sendMessage", chat_id=USER, text="z"))[0] == 200
            assert (await call(http, "sendMessage", chat_id=USER, text="w"))[0] == 429
        assert zalo.http_429 == 4 and [m["text"] for m in zalo.messages()] == ["0", "1", "y", "z"]


async def test_rate_limit_lets_sends_at_exactly_the_rate_through() -> None:
    now = [1000.0]
    async with FakeZaloBot(rate_limit=10, clock=lambda: now[0]) as zalo:
        zalo.add_chat(USER)
        async with httpx.AsyncClient(base_url=f"{zalo.base_url}{zalo.token}/") as http:
            statuses = []
            for n in range(30):  # evenly, 10 a second for 3 s
                now[0] = 1000.0 + n * 0.1
                statuses.append((await call(http, "sendMessage", chat_id=USER, text="x"))[0])
            assert statuses == [200] * 30
            now[0] = 1000.0 + 29 * 0.1 + 0.05  # ten sent in the last second: no eleventh
            assert (await call(http, "sendMessage", chat_id=USER, text="x"))[0] == 429


async def test_webhook_set_deliver_and_conflict(zalo: FakeZaloBot, http: httpx.AsyncClient) -> None:
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Bot-Api-Secret-Token")
        received.append((secret, await request.json()))
        return web.Response(status=200 if secret == "s3cret-htx" else 403)

    app = web.Application()
    app.router.add_post("/zalo/hook", hook)
    async with TestServer(app, host="127.0.0.1") as receiver:
        url = f"https://127.0.0.1:{receiver.port}/zalo/hook"
        insecure = await call(
            http, "setWebhook", url=url.replace("https", "http"), secret_token="s3cret-htx"
        )
        assert insecure[0] == 400
        assert (await call(http, "setWebhook", url=url, secret_token="short"))[0] == 400
        status, body = await call(http, "setWebhook", url=url, secret_token="s3cret-htx")
        assert status == 200 and body["result"]["url"] == url
        assert isinstance(body["result"]["updated_at"], int)
        assert (await call(http, "getWebhookInfo"))[1]["result"]["url"] == url
        assert zalo.webhook() == {"url": url, "secret_token": "s3cret-htx"}
        assert await call(http, "getUpdates", timeout=0) == (
            409,
            {"ok": False, "error_code": 409, "description": "Conflict: webhook is active"},
        )
        update = zalo.send_text(USER, "Đăng ký tập huấn")
        assert await zalo.deliver_webhook(update) == 200
        assert await zalo.deliver_webhook(update, secret="wrong-secret") == 403
        assert received == [
            ("s3cret-htx", {"ok": True, "result": update}),
            ("wrong-secret", {"ok": True, "result": update}),
        ]
    status, body = await call(http, "deleteWebhook")
    assert status == 200 and body["result"]["url"] == ""
    assert zalo.webhook()["url"] == ""
    # The webhook handed the update out already; polling does not hand it out again.
    assert (await call(http, "getUpdates", timeout=0))[0] == 408
    with pytest.raises(RuntimeError):
        await zalo.deliver_webhook(update)


async def test_next_message_keeps_a_cursor_per_user(
    zalo: FakeZaloBot, http: httpx.AsyncClient
) -> None:
    for user in ("an", "binh"):
        zalo.add_chat(user)
    for user, text in (("an", "một"), ("binh", "hai"), ("an", "ba")):
        assert (await call(http, "sendMessage", chat_id=user, text=text))[0] == 200
    assert (await zalo.next_message("an"))["text"] == "một"
    assert (await zalo.next_message("binh"))["text"] == "hai"
    assert (await zalo.next_message("an"))["text"] == "ba"
    waiting = asyncio.create_task(zalo.next_message("an", timeout=2))
    await asyncio.sleep(0.01)
    await call(http, "sendMessage", chat_id="an", text="bốn")
    assert (await waiting)["text"] == "bốn"
    with pytest.raises(TimeoutError, match="sendMessage"):
        await zalo.next_message("binh", timeout=0.05)


async def test_stop_answers_a_pending_long_poll_at_once() -> None:
    zalo = FakeZaloBot()
    await zalo.start()
    async with httpx.AsyncClient(base_url=f"{zalo.base_url}{zalo.token}/", timeout=10) as http:
        poll = asyncio.create_task(call(http, "getUpdates", timeout=30))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await zalo.stop()
        assert (await poll)[0] == 408
        assert time.monotonic() - started < 1
