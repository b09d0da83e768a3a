"""OCOP in the running product: spotlights per province, their buttons, /ocop browsing, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.simulator import FakeTelegram
from bot.simulator.zalo_bot_api import FakeZaloBot
from bot.spotlights import schedule_spotlights
from db.audience import Audience
from db.base import utcnow
from db.models import Channel, OcopProduct, OcopTap, Subscriber
from db.ocop import AreaPlaces, upsert_products
from messages.ocop import parse_catalog, read_rows
from tests.chat import Chat
from tests.conftest import make_app
from tests.factories import add_subscribers, commune_id, wait_done

OUTREACH = str(Path(sys.executable).parent / "outreach")
PHOTO = "https://example.vn/ocop/{}.jpg"
HEADER = "Tên sản phẩm,Chủ thể,Số sao,Nhóm sản phẩm,Tỉnh,Xã,Giá,Đơn vị,Ảnh,Liên hệ,Nơi bán\n"
# Khánh Hòa has seven foods (two pages of five); Hà Nội's pottery has no contact.
CATALOG = HEADER + (
    f"Nước mắm Cà Ná,HTX Thủy sản Cà Ná,4,Thực phẩm,Khánh Hòa,Xã Cà Ná,95.000,chai,"
    f"{PHOTO.format('mam')},0259 3861 201,Chợ Cà Ná\n"
    + "".join(
        f"Món {n},HTX Món {n},{3 + n % 3},Thực phẩm,Khánh Hòa,,{n}0.000,kg,,,\n"
        for n in range(1, 7)
    )
    + f"Gốm Bát Tràng,HTX Gốm Bát Tràng,4,Lưu niệm,Hà Nội,Xã Bát Tràng,650.000,bộ,"
    f"{PHOTO.format('gom')},,\n"
    "Bánh chưng Tranh Khúc,HTX Bánh chưng,3,Thực phẩm,Hà Nội,,70.000,chiếc,,0904 100 908,\n"
)


def import_catalog(sessions: sessionmaker[Session], tmp_path: Path) -> dict[str, int]:
    """Import the test catalog through the parser and the upsert; return ids by name."""
    path = tmp_path / "ocop.csv"
    path.write_text(CATALOG, encoding="utf-8")
    with sessions.begin() as session:
        catalog = parse_catalog(read_rows(path), AreaPlaces(session), 2026)
        assert catalog.errors == []
        upsert_products(session, catalog.products, utcnow())
        return {p.name: p.id for p in session.scalars(select(OcopProduct))}


def members(sessions: sessionmaker[Session], telegram: FakeTelegram) -> None:
    """Register two members in Xã Mỹ Sơn (Khánh Hòa) and one in Xã Bát Tràng (Hà Nội)."""
    with sessions.begin() as session:
        add_subscribers(session, [9101, 9102], area_id=commune_id(session, "Xã Mỹ Sơn", KH))
        add_subscribers(session, [9201], area_id=commune_id(session, "Xã Bát Tràng", HN))
    for chat in (9101, 9102, 9201):
        telegram.add_chat(chat)


KH, HN = "Tỉnh Khánh Hòa", "Thành phố Hà Nội"


def photo_message(telegram: FakeTelegram, chat_id: int) -> dict[str, Any]:
    """Return the one photo the bot sent to a chat."""
    photos = [m for m in telegram.messages(chat_id) if "photo" in m]
    assert len(photos) == 1, telegram.messages(chat_id)
    return photos[0]


async def tap_edit(chat: Chat, label: str, expect: str) -> dict[str, Any]:
    """Tap a button whose answer edits the same message; wait until it shows `expect`."""
    message_id = chat.press(label)["message_id"]

    def current() -> dict[str, Any]:
        return next(
            m for m in chat.telegram.messages(chat.chat_id) if m["message_id"] == message_id
        )

    await chat.telegram.wait_for(lambda: expect in (current().get("text") or ""))
    return current()


async def send_spotlights(
    sessions: sessionmaker[Session], telegram: FakeTelegram, tmp_path: Path
) -> dict[str, int]:
    """Import the catalog, register members, send the spotlights; return product ids by name."""
    ids = import_catalog(sessions, tmp_path)
    members(sessions, telegram)
    with sessions.begin() as session:
        now = utcnow()
        scheduled = schedule_spotlights(session, Audience(), now=now, send_at=now)
        sent = {
            s.spotlight.province.name: (s.spotlight.product.id, s.recipients) for s in scheduled
        }
        broadcasts = [s.broadcast.id for s in scheduled]
    assert sent == {HN: (ids["Gốm Bát Tràng"], 1), KH: (ids["Nước mắm Cà Ná"], 2)}
    for broadcast_id in broadcasts:
        await wait_done(sessions, broadcast_id)
    return ids


async def test_each_province_gets_its_own_product_with_photo_and_buttons(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    ids = await send_spotlights(sessions, telegram, tmp_path)
    for chat_id in (9101, 9102):
        message = photo_message(telegram, chat_id)
        assert "Sản phẩm OCOP: Nước mắm Cà Ná" in message["caption"]
        assert "Xã Cà Ná, Tỉnh Khánh Hòa" in message["caption"]
        assert "95.000 đ/chai" in message["caption"]
    mam = ids["Nước mắm Cà Ná"]
    assert Chat(telegram, 9101).buttons()[:2] == [
        ("📞 Liên hệ HTX", f"ocop|c{mam}"),
        ("🔎 Sản phẩm tương tự", f"ocop|m{mam}"),
    ]  # then the reactions every announcement carries
    assert "Gốm Bát Tràng" in photo_message(telegram, 9201)["caption"]
    calls = [c for c in telegram.calls if c.method == "sendPhoto" and c.status == 200]
    assert {c.params["photo"] for c in calls} == {PHOTO.format("mam"), PHOTO.format("gom")}
    with sessions() as session:
        featured = session.scalars(select(OcopProduct.name).where(OcopProduct.times_featured == 1))
        assert sorted(featured) == ["Gốm Bát Tràng", "Nước mắm Cà Ná"]


async def test_spotlight_buttons_give_the_contact_and_similar_products(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    ids = await send_spotlights(sessions, telegram, tmp_path)
    contact = await Chat(telegram, 9101).tap("Liên hệ HTX", "HTX Thủy sản Cà Ná")
    assert "☎️ Liên hệ: 0259 3861 201" in contact["text"]
    assert "🛒 Nơi bán: Chợ Cà Ná" in contact["text"]
    no_contact = await Chat(telegram, 9201).tap("Liên hệ HTX", "HTX Gốm Bát Tràng")
    assert "chưa để lại số liên hệ" in no_contact["text"]

    chat = Chat(telegram, 9102)
    similar = await chat.tap("Sản phẩm tương tự", "cùng nhóm “Thực phẩm”")
    labels = [label for label, _ in chat.buttons(similar)]
    assert len(labels) == 7 and labels[-1] == "Bánh chưng Tranh Khúc ★★★ – Thành phố Hà Nội"
    assert all(label.startswith("Món ") for label in labels[:6])  # the same province first
    card = await chat.tap("Bánh chưng Tranh Khúc", "Sản phẩm OCOP: Bánh chưng Tranh Khúc")
    assert "☎️ Liên hệ: 0904 100 908" in card["text"]

    with sessions() as session:
        taps = session.execute(select(OcopTap.product_id, OcopTap.action, OcopTap.area_id)).all()
        my_son = commune_id(session, "Xã Mỹ Sơn", KH)
        bat_trang = commune_id(session, "Xã Bát Tràng", HN)
    mam = ids["Nước mắm Cà Ná"]
    expected = [(mam, "contact", my_son), (ids["Gốm Bát Tràng"], "contact", bat_trang)]
    assert sorted(taps) == sorted([*expected, (mam, "more", my_son)])


async def test_browse_province_group_pages_and_a_product(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    chat = Chat(telegram, 9201)  # a member of Hà Nội: their province comes first
    members(sessions, telegram)
    await chat.say("/ocop", "Hiện chưa có sản phẩm OCOP nào")
    ids = import_catalog(sessions, tmp_path)
    await chat.say("/ocop", "muốn xem sản phẩm của tỉnh, thành phố nào?")
    assert [label for label, _ in chat.buttons()] == [f"{HN} (2)", f"{KH} (7)"]

    groups = await tap_edit(chat, KH, "chọn nhóm sản phẩm")
    assert [label for label, _ in chat.buttons(groups)] == ["Thực phẩm (7)", "↩ Chọn tỉnh khác"]
    first = await tap_edit(chat, "Thực phẩm", "trang 1/2")
    labels = [label for label, _ in chat.buttons(first)]
    assert labels[0] == "Món 2 ★★★★★" and len(labels) == 7  # five, "Trang sau", back
    assert labels[5:] == ["Trang sau ▶", "↩ Chọn nhóm khác"]
    second = await tap_edit(chat, "Trang sau", "trang 2/2")
    assert second["message_id"] == first["message_id"]  # the same message, edited
    labels = [label for label, _ in chat.buttons(second)]
    assert labels == ["Món 3 ★★★", "Món 6 ★★★", "◀ Trang trước", "↩ Chọn nhóm khác"]
    for label, data in chat.buttons(second):
        assert len(data.encode()) <= 64, label

    card = await chat.tap("Món 6", "Sản phẩm OCOP: Món 6")
    assert "HTX Món 6, Tỉnh Khánh Hòa" in card["text"]
    assert [label for label, _ in chat.buttons(card)] == ["📞 Liên hệ HTX", "🔎 Sản phẩm tương tự"]
    mam = await chat.say(f"/ocop {ids['Nước mắm Cà Ná']}", "Nước mắm Cà Ná")
    assert f"📷 Ảnh sản phẩm: {PHOTO.format('mam')}" in mam["text"]

    with sessions.begin() as session:
        add_subscribers(session, [9401], area_id=commune_id(session, "Xã Di Linh", "Tỉnh Lâm Đồng"))
    await Chat(telegram, 9401).say("/ocop", "Tỉnh Lâm Đồng chưa có sản phẩm OCOP trong danh mục")

    with sessions.begin() as session:  # taken out of the catalog since it was shown
        product = session.get(OcopProduct, ids["Nước mắm Cà Ná"])
        assert product is not None
        product.active = False
    await chat.tap("Liên hệ HTX", "không còn trong danh mục OCOP")


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as fake:
        yield fake


async def test_zalo_members_browse_by_numbers_and_type_the_spotlight_commands(
    database_url: str,
    telegram: FakeTelegram,
    zalo: FakeZaloBot,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    ids = import_catalog(sessions, tmp_path)
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", KH)
        (member,) = add_subscribers(session, [9301], area_id=area)
        row = session.get(Subscriber, member)
        assert row is not None
        row.channel, row.chat_id = Channel.ZALO_BOT, "zl-9301"
    app = make_app(
        database_url, telegram, zalo_bot_token=zalo.token, zalo_bot_api_url=zalo.base_url
    )
    await app.start()
    try:
        assert "1. Tỉnh Khánh Hòa (7)\n2. Thành phố Hà Nội (2)" in await zalo_say(
            zalo, "/ocop", "tỉnh, thành phố nào"
        )
        assert "1. Thực phẩm (7)" in await zalo_say(zalo, "1", "chọn nhóm sản phẩm")
        page = await zalo_say(zalo, "thuc pham", "trang 1/2")
        assert "6. Trang sau ▶" in page
        assert "Món 3 ★★★" in await zalo_say(zalo, "trang sau", "trang 2/2")
        mam = ids["Nước mắm Cà Ná"]
        contact = await zalo_say(zalo, f"/ocop lienhe {mam}", "HTX Thủy sản Cà Ná")
        assert "0259 3861 201" in contact
        await zalo_say(zalo, f"/ocop tuongtu {mam}", "cùng nhóm “Thực phẩm”")
    finally:
        await app.stop()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OcopTap)) == 2


async def zalo_say(zalo: FakeZaloBot, text: str, expect: str) -> str:
    """Type on Zalo and read replies until one contains `expect`."""
    zalo.send_text("zl-9301", text)
    while True:
        reply = str((await zalo.next_message("zl-9301"))["text"])
        if expect in reply:
            return reply


def outreach(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed outreach command as an operator would."""
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [OUTREACH, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd
    )


def test_cli_import_of_a_malformed_file_and_spotlight(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    bad = tmp_path / "ocop.csv"
    bad.write_text(
        HEADER
        + "Nước mắm,HTX Cà Ná,7,Thực phẩm,Khánh Hòa,,,,,,\n"
        + "Gốm,HTX Gốm,4,Gốm sứ,Hà Nội,,,,,,\n"
        + "Chè,HTX Chè,5,Đồ uống,Thái Nguyên,,,,,,\n",
        encoding="utf-8",
    )
    result = outreach(database_url, "ocop", "import", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "line 2: stars must be 3, 4 or 5, not '7'"
    assert lines[1].startswith("line 3: group 'Gốm sứ' is not an OCOP product group")
    assert lines[2].startswith("error: 2 rows have errors; nothing was imported")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OcopProduct)) == 0

    ids = import_catalog(sessions, tmp_path)
    with sessions.begin() as session:
        add_subscribers(session, [1, 2], area_id=commune_id(session, "Xã Mỹ Sơn", KH))
    result = outreach(database_url, "ocop", "spotlight", "--province", "khanh hoa", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.strip().splitlines()
    assert line.startswith("broadcast 1: Tỉnh Khánh Hòa: Nước mắm Cà Ná (HTX Thủy sản Cà Ná), 2")
    with sessions() as session:
        product = session.get(OcopProduct, ids["Nước mắm Cà Ná"])
        assert product is not None and product.times_featured == 1
