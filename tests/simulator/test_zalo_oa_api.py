"""Check the fake Zalo Official Account server answers raw HTTP clients the way Zalo does."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import unicodedata
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.simulator import FakeZaloOA

pytestmark = pytest.mark.asyncio

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MORNING = datetime(2025, 3, 10, 10, 0, tzinfo=HCM).timestamp()  # a Monday, 10:00 in Vietnam
HOUR, DAY = 3600.0, 86400.0
USER = "8812345678901234567"
CS, PROMOTION, ZNS = "/v3.0/oa/message/cs", "/v3.0/oa/message/promotion", "/message/template"
HEX32 = re.compile(r"[0-9a-f]{32}")


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Client:
    """Talk to the fake as our app would: aiohttp, JSON bodies, the access_token header."""

    def __init__(self, session: aiohttp.ClientSession, oa: FakeZaloOA) -> None:
        self.session, self.oa, self.token = session, oa, ""

    async def get(self, path: str) -> dict:
        async with self.session.get(self.oa.url + path, headers=self._auth()) as response:
            assert response.status == 200
            return await response.json()

    async def post(self, path: str, body: Any) -> dict:
        headers = self._auth()
        async with self.session.post(self.oa.url + path, json=body, headers=headers) as response:
            assert response.status == 200
            return await response.json()

    async def send(self, path: str, user_id: str, message: dict) -> dict:
        return await self.post(path, {"recipient": {"user_id": user_id}, "message": message})

    async def oauth(self, secret: str = "APP-SECRET-TEST", **form: str) -> dict:
        form.setdefault("app_id", self.oa.app_id)
        url = self.oa.url + "/v4/oa/access_token"
        async with self.session.post(url, data=form, headers={"secret_key": secret}) as response:
            assert response.status == 200
            return await response.json()

    def _auth(self) -> dict:
        return {"access_token": self.token} if self.token else {}


def error(code: int, message: str) -> dict:
    return {"error": code, "message": message}


def oauth_error(code: int, name: str) -> dict:
    return {"error": code, "error_name": name}


def _template(payload: dict) -> dict:
    return {"type": "template", "payload": payload}


def _image(url: str) -> dict:
    return {"media_type": "image", "url": url}


@pytest.fixture
def clock() -> Clock:
    return Clock(MORNING)


@pytest.fixture
async def oa(clock: Clock) -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA(clock=clock) as server:
        yield server


@pytest.fixture
async def client(oa: FakeZaloOA) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield Client(session, oa)


@pytest.fixture
def connected(oa: FakeZaloOA, client: Client) -> Client:
    client.token = oa.issue_tokens()["access_token"]
    oa.add_user(USER)
    return client


async def test_access_token_is_checked_and_expires(
    oa: FakeZaloOA, client: Client, clock: Clock
) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", oa.url)
    assert await client.get("/v2.0/oa/getoa") == error(-216, "Access token is invalid")
    client.token = "not-a-token"
    assert await client.get("/v2.0/oa/getoa") == error(-216, "Access token is invalid")
    tokens = oa.issue_tokens()
    assert tokens["expires_in"] == "90000" and set(tokens) == {
        "access_token",
        "refresh_token",
        "expires_in",
    }
    client.token = tokens["access_token"]
    oa.add_user(USER)
    oa.add_user("2", followed=False)
    answer = await client.get("/v2.0/oa/getoa")
    assert answer == {
        "error": 0,
        "message": "Success",
        "data": {"oa_id": oa.oa_id, "name": "Liên minh HTX tỉnh (thử nghiệm)", "num_follower": 1},
    }
    clock.now += 25 * HOUR - 1
    assert (await client.get("/v2.0/oa/getoa"))["error"] == 0
    clock.now += 1
    assert await client.get("/v2.0/oa/getoa") == error(-124, "Access token has expired")
    client.token = oa.issue_tokens()["access_token"]
    oa.expire_access_tokens()
    assert (await client.send(CS, USER, {"text": "x"}))["error"] == -124
    assert [(c.method, c.status) for c in oa.calls][-3:] == [
        ("/v2.0/oa/getoa", 0),
        ("/v2.0/oa/getoa", -124),
        (CS, -124),
    ]


async def test_unknown_paths_answer_404(oa: FakeZaloOA, client: Client) -> None:
    for method, path in (("GET", "/v3.0/oa/message/cs"), ("POST", "/v2.0/oa/elsewhere")):
        async with client.session.request(method, oa.url + path) as response:
            assert response.status == 404
            assert await response.json() == error(404, "Not Found")
    assert [c.status for c in oa.calls] == [404, 404]


async def test_refresh_rotates_the_single_use_refresh_token(
    oa: FakeZaloOA, client: Client, clock: Clock
) -> None:
    first = oa.issue_tokens()
    second = await client.oauth(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert set(second) == {"access_token", "refresh_token", "expires_in"}
    assert second["expires_in"] == "90000"
    assert second["refresh_token"] != first["refresh_token"]
    for token in (first["access_token"], second["access_token"]):  # old ones stay valid
        client.token = token
        assert (await client.get("/v2.0/oa/getoa"))["error"] == 0
    reused = await client.oauth(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.items() >= oauth_error(-14014, "Invalid refresh token").items()
    assert reused["error_description"] == "Refresh token is invalid or has expired"
    assert isinstance(reused["error_reason"], str)
    refresh = {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    wrong_secret = await client.oauth("WRONG", **refresh)
    assert wrong_secret.items() >= oauth_error(-14001, "Invalid app secret").items()
    assert (await client.oauth(**refresh, app_id="42"))["error"] == -14003
    oa.fail_refresh(times=1)
    assert (await client.oauth(**refresh))["error"] == -14014
    third = await client.oauth(**refresh)  # the failures used no token up
    assert "error" not in third
    assert oa.refresh_calls == 6
    clock.now += 91 * DAY
    late = await client.oauth(grant_type="refresh_token", refresh_token=third["refresh_token"])
    assert late["error"] == -14014


async def test_authorization_code_with_pkce(oa: FakeZaloOA, client: Client, clock: Clock) -> None:
    verifier = "v" * 20 + "-Nông_sản.HTX~" + "9" * 30
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    code = oa.authorize(challenge)
    bad = await client.oauth(grant_type="authorization_code", code=code, code_verifier="x" * 43)
    assert bad.items() >= oauth_error(-14019, "Invalid authorization code").items()
    tokens = await client.oauth(grant_type="authorization_code", code=code, code_verifier=verifier)
    assert tokens["expires_in"] == "90000"
    client.token = tokens["access_token"]
    assert (await client.get("/v2.0/oa/getoa"))["error"] == 0
    again = await client.oauth(grant_type="authorization_code", code=code, code_verifier=verifier)
    assert again["error"] == -14019  # single use
    late_code = oa.authorize(challenge)
    clock.now += 601
    late = await client.oauth(
        grant_type="authorization_code", code=late_code, code_verifier=verifier
    )
    assert late["error"] == -14019
    refreshed = await client.oauth(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert "access_token" in refreshed


async def test_consultation_only_within_48_hours_of_the_last_interaction(
    oa: FakeZaloOA, connected: Client, clock: Clock
) -> None:
    answer = await connected.send(CS, USER, {"text": "Chào bà con"})
    assert answer["error"] == 0 and answer["message"] == "Success"
    assert answer["data"]["user_id"] == USER and HEX32.fullmatch(answer["data"]["message_id"])
    oa.interact_at(USER, clock.now - 3 * DAY)
    assert await connected.send(CS, USER, {"text": "x"}) == error(
        -232,
        "Consultation messages are only allowed within 48 hours of the user's last interaction",
    )
    oa.interact_at(USER, clock.now - 8 * DAY)
    assert await connected.send(CS, USER, {"text": "x"}) == error(
        -230, "User has not interacted with the OA in the last 7 days"
    )
    oa.add_user("5", followed=False)
    not_following = error(-213, "User has not followed the OA")
    assert await connected.send(CS, "5", {"text": "x"}) == not_following
    assert await connected.send(CS, "404", {"text": "x"}) == not_following
    assert oa.messages() == [
        {
            "message_id": answer["data"]["message_id"],
            "user_id": USER,
            "mode": "cs",
            "text": "Chào bà con",
            "buttons": [],
            "image": None,
            "at": MORNING,
        }
    ]


async def test_consultation_buttons_images_and_limits(oa: FakeZaloOA, connected: Client) -> None:
    buttons: list[dict[str, Any]] = [
        {"title": "Đăng ký", "type": "oa.query.hide", "payload": "#dangky"},
        {"title": "Xem", "type": "oa.open.url", "payload": {"url": "https://htx.example"}},
    ]
    with_buttons = {"text": "Tập huấn", "attachment": _template({"buttons": buttons})}
    assert (await connected.send(CS, USER, with_buttons))["error"] == 0
    image = _template({"template_type": "media", "elements": [_image("https://htx.example/a")]})
    assert (await connected.send(CS, USER, {"attachment": image}))["error"] == 0
    decomposed = unicodedata.normalize("NFD", "ệ" * 2000)
    assert len(decomposed) == 6000
    assert (await connected.send(CS, USER, {"text": decomposed}))["error"] == 0
    too_much = error(-210, "Parameter exceeds the limit")
    assert await connected.send(CS, USER, {"text": "ệ" * 2001}) == too_much
    six = {"text": "x", "attachment": _template({"buttons": buttons[:1] * 6})}
    assert await connected.send(CS, USER, six) == too_much
    long_title = [{**buttons[0], "title": "a" * 101}]
    long_button = {"text": "x", "attachment": _template({"buttons": long_title})}
    assert await connected.send(CS, USER, long_button) == too_much
    first, second, third = oa.messages(USER)
    assert (first["text"], first["buttons"], first["image"]) == ("Tập huấn", buttons, None)
    assert (second["text"], second["buttons"]) == (None, [])
    assert second["image"] == "https://htx.example/a" and third["text"] == decomposed


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"message": {"text": "x"}},
        {"recipient": {"user_id": 42}, "message": {"text": "x"}},
        {"recipient": {"user_id": USER}, "message": {"text": ""}},
        {"recipient": {"user_id": USER}, "message": {"text": 5}},
        {"recipient": {"user_id": USER}, "message": {"attachment": {"type": "file"}}},
        {"recipient": {"user_id": USER}, "message": {"text": "x", "attachment": "x"}},
        {"recipient": {"user_id": USER}, "message": {"attachment": {"type": "template"}}},
        {
            "recipient": {"user_id": USER},
            "message": {"text": "x", "attachment": _template({"buttons": [{"title": "a"}]})},
        },
        {
            "recipient": {"user_id": USER},
            "message": {"attachment": _template({"buttons": [{"title": "a", "payload": "b"}]})},
        },
        {
            "recipient": {"user_id": USER},
            "message": {"attachment": _template({"template_type": "media", "elements": []})},
        },
    ],
)
async def test_malformed_sends_answer_201(connected: Client, body: Any) -> None:
    assert await connected.post(CS, body) == error(-201, "Parameters are invalid")


async def test_malformed_json_answers_201(oa: FakeZaloOA, connected: Client) -> None:
    headers = {"access_token": connected.token, "Content-Type": "application/json"}
    async with connected.session.post(oa.url + CS, data=b"{oops", headers=headers) as response:
        assert await response.json() == error(-201, "Parameters are invalid")


PROMO = {
    "attachment": {
        "type": "template",
        "payload": {
            "template_type": "promotion",
            "language": "VI",
            "elements": [{"type": "header", "content": "OCOP"}],
        },
    }
}


async def test_promotion_by_day_only_and_within_the_quota(clock: Clock, client: Client) -> None:
    async with FakeZaloOA(clock=clock, promotion_quota=2) as oa:
        client.oa, client.token = oa, oa.issue_tokens()["access_token"]
        oa.add_user(USER, interacted_at=clock.now - 3 * DAY)  # no 48 h rule for promotions
        night = error(-235, "Promotion messages are not allowed between 22:00 and 07:00")
        for hour in (22, 23.5, 3, 6.99):
            clock.now = MORNING + (hour - 10) * HOUR
            assert await client.send(PROMOTION, USER, PROMO) == night
        clock.now = MORNING + (7 - 10) * HOUR
        assert (await client.send(PROMOTION, USER, PROMO))["error"] == 0
        clock.now = MORNING + 11 * HOUR  # 21:00
        assert (await client.send(PROMOTION, USER, PROMO))["error"] == 0
        assert await client.send(PROMOTION, USER, PROMO) == error(-211, "Out of quota")
        clock.now = MORNING + DAY  # a new local day, a new quota
        assert (await client.send(PROMOTION, USER, PROMO))["error"] == 0
        clock.now = MORNING + 5 * DAY
        client.token = oa.issue_tokens()["access_token"]  # the first expired after 25 h
        assert (await client.send(PROMOTION, USER, PROMO))["error"] == -230
        oa.add_user("6", followed=False)
        assert (await client.send(PROMOTION, "6", PROMO))["error"] == -213
        assert [m["mode"] for m in oa.messages()] == ["promotion"] * 3
        assert oa.messages()[0]["text"] == "OCOP"
        clock.now = MORNING + 5 * DAY - 4 * DAY
        plain = await client.send(PROMOTION, USER, {"text": "OCOP"})  # not the promotion shape
        assert plain["error"] == -201


async def test_zns_template_messages(clock: Clock, client: Client) -> None:
    async with FakeZaloOA(clock=clock, zns_quota=2) as oa:
        client.oa, client.token = oa, oa.issue_tokens()["access_token"]
        oa.add_user(USER, followed=False)
        oa.set_phone(USER, "84912345678")
        oa.add_zns_template("301", ["name", "date"], max_param=30)
        data = {"name": "Nguyễn Văn An", "date": "12/03/2025"}
        body = {"phone": "84912345678", "template_id": "301", "template_data": data}
        answer = await client.post(ZNS, {**body, "tracking_id": "t-1"})
        assert answer["error"] == 0 and HEX32.fullmatch(answer["data"]["msg_id"])
        assert answer["data"]["sent_time"] == str(int(MORNING * 1000))
        assert answer["data"]["quota"] == {"dailyQuota": "2", "remainingQuota": "1"}
        bad_data = error(-1139, "Template data is invalid")
        for wrong in ({"name": "An"}, {**data, "extra": "x"}, {**data, "name": "a" * 31}):
            assert await client.post(ZNS, {**body, "template_data": wrong}) == bad_data
        assert (await client.post(ZNS, {**body, "template_id": "999"}))["error"] == -1123
        assert await client.post(ZNS, {**body, "phone": "0912345678"}) == error(
            -108, "Phone number is invalid"
        )
        assert await client.post(ZNS, {**body, "phone": "84900000000"}) == error(
            -118, "Zalo account does not exist or is disabled"
        )
        assert (await client.post(ZNS, body))["data"]["quota"]["remainingQuota"] == "0"
        assert await client.post(ZNS, body) == error(-144, "OA has exceeded its daily quota")
        first = oa.messages(USER)[0]
        assert first["mode"] == "zns" and first["phone"] == "84912345678"
        assert (first["template_id"], first["template_data"]) == ("301", data)
        assert first["message_id"] == answer["data"]["msg_id"] and first["user_id"] == USER


async def test_webhook_events_are_signed_as_zalo_does(oa: FakeZaloOA, clock: Clock) -> None:
    received: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        text = await request.text()
        event = await request.json()
        mac = hashlib.sha256(
            (oa.app_id + text + event["timestamp"] + "OA-SECRET-KEY-TEST").encode()
        ).hexdigest()
        received.append(event)
        return web.Response(
            status=200 if request.headers["X-ZEvent-Signature"] == f"mac={mac}" else 401
        )

    app = web.Application()
    app.router.add_post("/zalo/oa", hook)
    async with TestServer(app, host="127.0.0.1") as receiver:
        oa.set_webhook(f"https://127.0.0.1:{receiver.port}/zalo/oa")
        with pytest.raises(KeyError):
            oa.interact_at(USER, clock.now)
        assert await oa.follow(USER, display_name="Lê Thị Hoa") == 200
        follow = received[-1]
        assert follow == {
            "app_id": oa.app_id,
            "oa_id": oa.oa_id,
            "user_id_by_app": follow["user_id_by_app"],
            "event_name": "follow",
            "timestamp": str(int(MORNING * 1000)),
            "source": "oa_profile",
            "follower": {"id": USER},
        }
        assert follow["user_id_by_app"].isdigit() and follow["user_id_by_app"] != USER
        assert oa.users[USER].followed and oa.users[USER].display_name == "Lê Thị Hoa"
        clock.now += HOUR
        assert await oa.send_text(USER, "Xin chào HTX") == 200
        text = received[-1]
        assert text["event_name"] == "user_send_text" and text["sender"] == {"id": USER}
        assert text["recipient"] == {"id": oa.oa_id} and text["message"]["text"] == "Xin chào HTX"
        assert HEX32.fullmatch(text["message"]["msg_id"])
        assert oa.users[USER].last_interaction == clock.now
        assert await oa.post_event(text) == 200  # a replay: same body, same signature
        assert await oa.post_event(text, signature="mac=" + "0" * 64) == 401
        assert [e["status"] for e in oa.events] == [200, 200, 200, 401]
        assert oa.events[1]["event"] == text and received[-1] == received[-2] == text


async def test_user_events(oa: FakeZaloOA, clock: Clock) -> None:
    received: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/", hook)
    async with TestServer(app, host="127.0.0.1") as receiver:
        with pytest.raises(RuntimeError, match="webhook"):
            await oa.send_text(USER, "x")
        oa.set_webhook(f"http://127.0.0.1:{receiver.port}/")
        assert await oa.send_text("77", "Tôi chưa quan tâm OA") == 200
        assert not oa.users["77"].followed  # Zalo lets anyone write
        assert await oa.tap_button("77", "#dangky") == 200
        assert await oa.send_image("77", caption="Lúa ST25") == 200
        assert await oa.send_image("77") == 200
        assert await oa.send_sticker("77") == 200
        await oa.follow("77")
        clock.now += DAY
        assert await oa.unfollow("77") == 200
    assert not oa.users["77"].followed and oa.users["77"].last_interaction == clock.now
    text, tap, captioned, bare, sticker, _, unfollow = received
    assert tap["event_name"] == "user_send_text" and tap["message"]["text"] == "#dangky"
    assert captioned["event_name"] == "user_send_image"
    assert captioned["message"]["text"] == "Lúa ST25" and "text" not in bare["message"]
    [attachment] = captioned["message"]["attachments"]
    assert attachment["type"] == "image"
    assert attachment["payload"]["url"] == attachment["payload"]["thumbnail"]
    assert sticker["event_name"] == "user_send_sticker"
    assert sticker["message"]["attachments"][0]["type"] == "sticker"
    assert unfollow["event_name"] == "unfollow" and unfollow["follower"] == {"id": "77"}
    assert text["user_id_by_app"] == unfollow["user_id_by_app"]


async def test_next_message_waits_per_user(oa: FakeZaloOA, connected: Client) -> None:
    oa.add_user("an")
    for user, text in ((USER, "một"), ("an", "hai"), (USER, "ba")):
        assert (await connected.send(CS, user, {"text": text}))["error"] == 0
    assert (await oa.next_message(USER))["text"] == "một"
    assert (await oa.next_message("an"))["text"] == "hai"
    assert (await oa.next_message(USER))["text"] == "ba"
    waiting = asyncio.create_task(oa.next_message(USER, timeout=2))
    await asyncio.sleep(0)
    await connected.send(CS, USER, {"text": "bốn"})
    assert (await waiting)["text"] == "bốn"
    with pytest.raises(TimeoutError, match="message/cs"):
        await oa.next_message("an", timeout=0.01)


async def test_fail_user_and_the_rate_limit(clock: Clock, client: Client) -> None:
    async with FakeZaloOA(clock=clock, rate_limit=2) as oa:
        client.oa, client.token = oa, oa.issue_tokens()["access_token"]
        oa.add_user(USER)
        oa.fail_user(USER, -240, "Injected", times=1)
        assert await client.send(CS, USER, {"text": 5}) == error(-240, "Injected")
        statuses = [(await client.send(CS, USER, {"text": str(n)}))["error"] for n in range(3)]
        assert statuses == [0, 0, -32]
        assert (await client.send(CS, USER, {"text": "x"}))["message"] == (
            "Request exceeds the rate limit"
        )
        clock.now += 0.5  # a token bucket would have one back; two were sent this second
        assert (await client.send(CS, USER, {"text": "y"}))["error"] == -32
        clock.now += 0.5  # both have left the window; the refusals never entered it
        statuses = [(await client.send(CS, USER, {"text": t}))["error"] for t in "yzw"]
        assert statuses == [0, 0, -32]
        assert [m["text"] for m in oa.messages()] == ["0", "1", "y", "z"]


async def test_the_rate_limit_lets_sends_at_exactly_the_rate_through(
    clock: Clock, client: Client
) -> None:
    async with FakeZaloOA(clock=clock, rate_limit=10) as oa:
        client.oa, client.token = oa, oa.issue_tokens()["access_token"]
        oa.add_user(USER)
        errors = []
        for n in range(30):  # evenly, 10 a second for 3 s, on an epoch-seconds clock
            clock.now = MORNING + n * 0.1
            errors.append((await client.send(CS, USER, {"text": str(n)}))["error"])
        assert errors == [0] * 30
        clock.now = MORNING + 29 * 0.1 + 0.05  # ten sent in the last second: no eleventh
        assert (await client.send(CS, USER, {"text": "x"}))["error"] == -32


async def test_a_simulator_bug_answers_500(
    oa: FakeZaloOA, connected: Client, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(*args: object) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr(oa, "check_zns", broken)
    headers = {"access_token": connected.token}
    with caplog.at_level(logging.ERROR):
        async with connected.session.post(oa.url + ZNS, json={}, headers=headers) as response:
            assert response.status == 500
            assert await response.json() == error(500, "Internal Server Error")
    assert "fake Zalo OA failed" in caplog.text and oa.calls[-1].status == 500
