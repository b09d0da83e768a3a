"""Check that the fake Telegram pushes updates to a webhook over real HTTP, as Telegram does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.simulator import FakeTelegram
from bot.simulator.embedded_server import start_server
from bot.simulator.telegram_webhook import SECRET_HEADER, WebhookPush
from tests.simulator.helpers import call

pytestmark = pytest.mark.asyncio

HOOK = "https://bot.example.org/telegram/hook?v=1"
SECRET = "s3cret_-token"


class Receiver:
    """A bot's webhook endpoint: it keeps what arrives and answers ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[str, str | None, dict]] = []  # (path?query, secret, body)
        self.app = Starlette(routes=[Route("/{path:path}", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        assert request.headers["content-type"] == "application/json"
        target = f"{request.url.path}?{request.url.query}"
        self.received.append((target, request.headers.get(SECRET_HEADER), await request.json()))
        return Response(status_code=self.status)

    def update_ids(self) -> list[int]:
        return [body["update_id"] for _, _, body in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver()
    server = await start_server(hook.app, "127.0.0.1", 0)
    host, port = server.address
    yield hook, f"http://{host}:{port}"
    await server.stop()


async def test_updates_arrive_in_order_with_the_secret(
    fake: FakeTelegram, http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    hook, origin = receiver
    early = fake.send_text(42, "trước khi có webhook")["update_id"]
    status, body = await call(http, "setWebhook", url=HOOK, secret_token=SECRET)
    assert (status, body["description"]) == (200, "Webhook was set")
    fake.webhook_origin = origin  # known only once the bot listens, as in the bot's tests
    sent = [fake.send_text(42, f"tin {n}")["update_id"] for n in range(3)]
    sent.append(fake.send_text(43, "chat khác")["update_id"])
    await fake.wait_for(lambda: fake.pending_updates() == 0, 2)
    chat_42 = [b["update_id"] for _, _, b in hook.received if b["message"]["chat"]["id"] == 42]
    assert chat_42 == [early, *sent[:3]]  # one chat's updates keep their order
    assert sorted(hook.update_ids()) == [early, *sent]
    assert {(target, secret) for target, secret, _ in hook.received} == {
        ("/telegram/hook?v=1", SECRET)
    }
    assert all(push.status == 200 and push.error is None for push in fake.webhook_pushes)
    info = (await call(http, "getWebhookInfo"))[1]["result"]
    # The early update waited for the origin; Telegram keeps the last error after a success.
    assert info["pending_update_count"] == 0
    assert info["last_error_message"] == "Failed to resolve host: Name or service not known"


async def test_a_refused_update_stays_queued_until_the_bot_takes_it(
    fake: FakeTelegram, http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    hook, fake.webhook_origin = receiver
    hook.status = 403
    await call(http, "setWebhook", url=HOOK)
    update_id = fake.send_text(42, "xin chào")["update_id"]
    await fake.wait_for(lambda: len(fake.webhook_pushes) >= 2, 2)  # retried
    assert fake.webhook_pushes[0] == WebhookPush(
        update_id, 403, "Wrong response from the webhook: 403 Forbidden"
    )
    info = (await call(http, "getWebhookInfo"))[1]["result"]
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Wrong response from the webhook: 403 Forbidden"
    assert isinstance(info["last_error_date"], int) and info["last_error_date"] > 1_700_000_000
    assert hook.received[0][1] is None  # no secret_token was set: no header
    hook.status = 200
    await fake.wait_for(lambda: fake.pending_updates() == 0, 2)
    assert fake.webhook_pushes[-1] == WebhookPush(update_id, 200, None)
    assert set(hook.update_ids()) == {update_id}


async def test_connection_refused_is_noted_like_telegram(
    fake: FakeTelegram, http: httpx.AsyncClient
) -> None:
    fake.webhook_origin = "http://127.0.0.1:9"  # the discard port: nobody listens
    await call(http, "setWebhook", url=HOOK)
    fake.send_text(42, "có ai không")
    await fake.wait_for(lambda: bool(fake.webhook_pushes), 2)
    assert fake.webhook_pushes[0].error == "Connection refused"
    assert fake.webhook_pushes[0].status is None and fake.pending_updates() == 1


async def test_delete_webhook_stops_pushing_and_polling_works_again(
    fake: FakeTelegram, http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    hook, fake.webhook_origin = receiver
    await call(http, "setWebhook", url=HOOK)
    assert (await call(http, "getUpdates"))[0] == 409
    first = fake.send_text(42, "một")["update_id"]
    await fake.wait_for(lambda: fake.pending_updates() == 0, 2)
    _, body = await call(http, "deleteWebhook")
    assert body["description"] == "Webhook was deleted"
    second = fake.send_text(42, "hai")["update_id"]
    status, body = await call(http, "getUpdates")
    assert status == 200 and [u["update_id"] for u in body["result"]] == [second]
    assert hook.update_ids() == [first]


async def test_push_again_resends_the_same_update(
    fake: FakeTelegram, http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    hook, fake.webhook_origin = receiver
    await call(http, "setWebhook", url=HOOK, secret_token=SECRET)
    update = fake.send_text(42, "gửi lại")
    await fake.wait_for(lambda: fake.pending_updates() == 0, 2)
    assert await fake.push_again(update["update_id"]) == 200
    assert [(secret, body) for _, secret, body in hook.received] == [(SECRET, update)] * 2
    with pytest.raises(KeyError):
        await fake.push_again(1)


async def test_push_raw_sends_the_given_secret(
    fake: FakeTelegram, http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    hook, fake.webhook_origin = receiver
    with pytest.raises(RuntimeError, match="setWebhook"):
        await fake.push_raw({"update_id": 1}, SECRET)
    await call(http, "setWebhook", url=HOOK, secret_token=SECRET)
    hook.status = 403
    assert await fake.push_raw({"update_id": 5, "message": {}}, "sai") == 403
    assert await fake.push_raw({"update_id": 6}, None) == 403
    assert [(secret, body["update_id"]) for _, secret, body in hook.received] == [
        ("sai", 5),
        (None, 6),
    ]


async def test_without_an_origin_nothing_is_pushed_and_the_error_is_noted(
    fake: FakeTelegram, http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    hook, origin = receiver
    await call(http, "setWebhook", url=HOOK)
    fake.send_text(42, "chờ")
    info = (await call(http, "getWebhookInfo"))[1]["result"]
    assert info["last_error_message"] == "Failed to resolve host: Name or service not known"
    assert info["pending_update_count"] == 1
    assert fake.webhook_pushes == [] and hook.received == []
    fake.webhook_origin = origin
    await fake.wait_for(lambda: fake.pending_updates() == 0, 2)
    assert len(hook.received) == 1


async def test_http_webhook_is_refused_and_drop_pending_drops(
    fake: FakeTelegram, http: httpx.AsyncClient
) -> None:
    status, body = await call(http, "setWebhook", url="http://bot.example.org/hook")
    assert status == 400 and "HTTPS URL must be provided" in body["description"]
    fake.send_text(42, "bỏ đi")
    await call(http, "setWebhook", url=HOOK, drop_pending_updates=True)
    assert fake.pending_updates() == 0 and fake.webhook_pushes == []


async def test_one_slow_chat_does_not_hold_the_others(
    fake: FakeTelegram, http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    hook, fake.webhook_origin = receiver
    fake.webhook_retry_seconds = 5.0  # a failed chat waits long; the others must not
    await call(http, "setWebhook", url=HOOK, max_connections=5)
    await fake.push_raw({"update_id": 0}, None)  # warm up: the receiver is listening
    hook.status = 500
    stuck = fake.send_text(42, "lỗi")["update_id"]
    await fake.wait_for(lambda: bool(fake.webhook_pushes[1:]), 2)
    hook.status = 200
    others = [fake.send_text(chat, "ổn")["update_id"] for chat in (43, 44, 45)]
    later = fake.send_text(42, "sau")["update_id"]
    await fake.wait_for(lambda: fake.pending_updates() == 2, 2)
    assert set(others) <= set(hook.update_ids()) and later not in hook.update_ids()
    assert fake.webhook_pushes[1] == WebhookPush(
        stuck, 500, "Wrong response from the webhook: 500 Internal Server Error"
    )


async def test_stop_does_not_hang_while_updates_wait() -> None:
    fake = FakeTelegram(webhook_origin="http://127.0.0.1:9", webhook_retry_seconds=5.0)
    await fake.start()
    async with httpx.AsyncClient(base_url=fake.base_url + fake.token + "/") as http:
        await call(http, "setWebhook", url=HOOK)
    fake.send_text(42, "dừng")
    await fake.wait_for(lambda: bool(fake.webhook_pushes), 2)
    await fake.stop()  # the pusher sleeps 5 s before its retry; stop cancels it
    assert fake.pending_updates() == 1
