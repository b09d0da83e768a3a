"""Whole member conversations through the fake Telegram, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.simulator import FakeTelegram
from db.base import utcnow
from db.cooperatives import create_cooperative
from db.models import (
    Area,
    AreaLevel,
    Consent,
    Feedback,
    Role,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
)
from db.subscribers import count_active
from tests.chat import Chat
from tests.conftest import make_app


def member(sessions: sessionmaker[Session], chat_id: int) -> Subscriber | None:
    """Read the subscriber behind a chat, fresh from the database."""
    with sessions() as session:
        query = select(Subscriber).where(Subscriber.chat_id == str(chat_id))
        return session.scalar(query)


def commune(sessions: sessionmaker[Session], name: str, province: str) -> Area:
    """Find a commune by its official name in a province."""
    with sessions() as session:
        parent = session.scalar(select(Area).where(Area.name == province))
        assert parent is not None
        found = session.scalar(select(Area).where(Area.name == name, Area.parent_id == parent.id))
        assert found is not None and found.level == AreaLevel.COMMUNE
        return found


async def agree(chat: Chat) -> None:
    """Start and give consent."""
    await chat.say("/start", "Anh/chị có đồng ý không?")
    await chat.tap("Tôi đồng ý", "tỉnh, thành phố nào")


async def register(chat: Chat) -> None:
    """Register as a farmer of Xã Mỹ Sơn, Khánh Hòa, with all topics."""
    await agree(chat)
    await chat.say("khanh hoa", "xã, phường nào của tỉnh Khánh Hòa")
    await chat.say("my son", "Anh/chị thuộc nhóm nào dưới đây?")
    await chat.tap("Nông dân", "hợp tác xã")
    await chat.tap("Bỏ qua", "chủ đề")
    await chat.tap("Xong", "Đăng ký xong")


async def test_registration_typing_without_diacritics(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 501)
    await agree(chat)
    await chat.say("KHANH hoa", "Đã chọn: Tỉnh Khánh Hòa")
    await chat.expect("Gõ tên, ví dụ:")
    await chat.say("my sonn", "có phải anh/chị muốn chọn Xã Mỹ Sơn?")  # one-letter typo
    assert chat.buttons()[0][0] == "Đúng, chọn Xã Mỹ Sơn"
    await chat.say("đúng", "Đã chọn: Xã Mỹ Sơn, Tỉnh Khánh Hòa")
    await chat.expect("Anh/chị thuộc nhóm nào dưới đây?")
    await chat.tap("Thành viên HTX", "hợp tác xã")
    await chat.tap("Bỏ qua", "chủ đề")
    labels = [label for label, _ in chat.buttons()]
    assert all(label.startswith("✅") for label in labels[:-1]), labels
    toggled = await chat.toggle("Sản phẩm OCOP")
    assert ("⬜ Sản phẩm OCOP") in [label for label, _ in chat.buttons(toggled)]
    done = await chat.tap("Xong", "Đăng ký xong")
    assert "cho xã Mỹ Sơn, tỉnh Khánh Hòa" in done["text"]
    assert "Sản phẩm OCOP" not in done["text"]

    stored = member(sessions, 501)
    assert stored is not None and stored.status == SubscriberStatus.ACTIVE
    assert stored.area_id == commune(sessions, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa").id
    assert stored.role == Role.MEMBER and stored.display_name == "Nguyễn Văn An"
    assert stored.topic_set == set(Topic) - {Topic.OCOP}
    with sessions() as session:
        consent = session.scalars(select(Consent)).one()
    assert consent.purpose == "outreach" and consent.evidence["answer"] == "agree"
    assert consent.evidence["ref"].startswith("telegram:")


async def test_former_province_and_former_district(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 502)
    await agree(chat)
    await chat.say("Ninh Thuận", "Tỉnh Ninh Thuận cũ nay thuộc tỉnh Khánh Hòa")
    intro = await chat.say("huyen ninh son", "đã giải thể từ 1/7/2025")
    assert "(tỉnh Ninh Thuận cũ)" in intro["text"]
    labels = [label for label, _ in chat.buttons()]
    for name in ("Xã Ninh Sơn", "Xã Lâm Sơn", "Xã Mỹ Sơn", "Xã Anh Dũng", "Phường Đô Vinh"):
        assert name in labels
    await chat.say("lam son", "Đã chọn: Xã Lâm Sơn")
    assert member(sessions, 502).area_id == commune(sessions, "Xã Lâm Sơn", "Tỉnh Khánh Hòa").id


async def test_unknown_commune_gets_help_and_can_go_back(
    app: OutreachApp, telegram: FakeTelegram
) -> None:
    chat = Chat(telegram, 503)
    await agree(chat)
    await chat.say("khanh hoa", "xã, phường nào")
    await chat.say("xyzxyz", "Chưa tìm thấy xã “xyzxyz” ở tỉnh Khánh Hòa")
    await chat.tap("Chọn lại tỉnh", "tỉnh, thành phố nào")
    await chat.say("ha noi", "xã, phường nào của thành phố Hà Nội")


async def test_deep_link_enrols_into_cooperative(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    place = commune(sessions, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
    with sessions.begin() as session:
        coop = create_cooperative(
            session, name="HTX Nông nghiệp Mỹ Sơn", commune=place, now=utcnow()
        )
    chat = Chat(telegram, 504)
    await chat.say(f"/start {coop.public_code.upper()}", "được mời nhận tin cùng HTX Nông nghiệp")
    await chat.expect("Anh/chị có đồng ý không?")
    await chat.tap("Tôi đồng ý", "Anh/chị thuộc nhóm nào dưới đây?")
    await chat.tap("Cán bộ quản lý HTX", "chủ đề")
    await chat.tap("Xong", "Đăng ký xong")
    stored = member(sessions, 504)
    assert stored.cooperative_id == coop.id and stored.area_id == place.id
    assert stored.role == Role.MANAGER


async def test_cooperative_search_during_registration(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    place = commune(sessions, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
    with sessions.begin() as session:
        coop = create_cooperative(
            session, name="HTX Dịch vụ Nông nghiệp Mỹ Sơn", commune=place, now=utcnow()
        )
    chat = Chat(telegram, 505)
    await agree(chat)
    await chat.say("khanh hoa", "xã, phường nào")
    await chat.say("my son", "Anh/chị thuộc nhóm nào dưới đây?")
    await chat.tap("Nông dân", "hợp tác xã")
    await chat.say("hop tac xa ca phe", "Chưa tìm thấy HTX")
    await chat.say("nong nghiep my son", "có phải anh/chị muốn chọn HTX")
    await chat.tap("Dịch vụ Nông nghiệp", "chủ đề")
    await chat.tap("Xong", "Đăng ký xong")
    assert member(sessions, 505).cooperative_id == coop.id


async def test_profile_and_topic_change(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 506)
    await register(chat)
    profile = await chat.say("/profile", "Thông tin chúng tôi đang lưu")
    for expected in ("Xã Mỹ Sơn, Tỉnh Khánh Hòa", "Nông dân", "Đang nhận tin", "Telegram"):
        assert expected in profile["text"]
    await chat.say("/topics", "chủ đề nào")
    await chat.toggle("Chủ trương, chính sách")
    await chat.toggle("Thông tin thị trường")
    await chat.tap("Xong", "Đã lưu thay đổi")
    await chat.expect("Thông tin chúng tôi đang lưu")
    assert member(sessions, 506).topic_set == {Topic.OCOP, Topic.TRAINING, Topic.MODEL}
    await chat.say("/profile", "Thông tin chúng tôi đang lưu")
    await chat.tap("Sửa vai trò", "Anh/chị thuộc nhóm nào dưới đây?")
    await chat.tap("Cán bộ xã", "Đã lưu thay đổi")
    assert member(sessions, 506).role == Role.OFFICER


async def test_stop_then_nothing_then_resume(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 507)
    await register(chat)
    with sessions() as session:
        assert count_active(session) == 1
    await chat.say("/stop", "Đã dừng")
    stored = member(sessions, 507)
    assert stored.status == SubscriberStatus.STOPPED and stored.stopped_at is not None
    with sessions() as session:
        assert count_active(session) == 0  # no audience will include this member
    await chat.say("/stop", "đã dừng nhận tin từ trước")
    await chat.say("/start", "Chào mừng anh/chị trở lại")
    assert member(sessions, 507).status == SubscriberStatus.ACTIVE


async def test_forget_deletes_everything(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 508)
    await register(chat)
    await chat.say("Giá lúa năm nay thế nào?", "Cảm ơn anh/chị đã gửi ý kiến")
    await chat.say("/forget", "muốn xóa toàn bộ dữ liệu")
    await chat.tap("Không xóa", "Chưa xóa gì")
    assert member(sessions, 508) is not None
    await chat.say("/forget", "muốn xóa toàn bộ dữ liệu")
    await chat.tap("Xóa hết dữ liệu", "Đã xóa toàn bộ dữ liệu")
    assert member(sessions, 508) is None
    with sessions() as session:
        for table in (Consent, Feedback, SubscriberTopic):
            assert session.scalar(select(func.count()).select_from(table)) == 0


async def test_restart_in_the_middle_of_registration(
    database_url: str, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    first = make_app(database_url, telegram)
    await first.start()
    chat = Chat(telegram, 509)
    await agree(chat)
    await chat.say("khanh hoa", "xã, phường nào")
    await first.stop()  # the process goes away between two answers

    second = make_app(database_url, telegram)
    await second.start()
    try:
        await chat.say("my son", "Anh/chị thuộc nhóm nào dưới đây?")
        await chat.tap("Nông dân", "hợp tác xã")
        await chat.tap("Bỏ qua", "chủ đề")
        await chat.tap("Xong", "Đăng ký xong")
    finally:
        await second.stop()
    assert member(sessions, 509).status == SubscriberStatus.ACTIVE


async def test_feedback_odd_input_and_unknown_command(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 510)
    await register(chat)
    await chat.say("Xã em cần lớp tập huấn VietGAP", "Cảm ơn anh/chị đã gửi ý kiến")
    await chat.say("/abc", "Bot chưa hiểu lệnh /abc")
    telegram.send_sticker(510)
    await chat.expect("chỉ đọc được tin nhắn chữ")
    await chat.say("/help", "/forget")
    with sessions() as session:
        texts = session.scalars(select(Feedback.text)).all()
    assert texts == ["Xã em cần lớp tập huấn VietGAP"]


async def test_declining_consent_keeps_nothing(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 511)
    await chat.say("xin chào", "Anh/chị có đồng ý không?")
    await chat.tap("Không đồng ý", "không lưu thông tin gì")
    assert member(sessions, 511) is None


async def test_stale_button_and_text_instead_of_button(
    app: OutreachApp, telegram: FakeTelegram
) -> None:
    chat = Chat(telegram, 512)
    await chat.say("/start", "Anh/chị có đồng ý không?")
    consent_message = chat.keyboard_message()
    await chat.say("gì vậy", "chọn “Tôi đồng ý”")
    await chat.say("đồng ý", "tỉnh, thành phố nào")
    agree_data = chat.buttons(consent_message)[0][1]
    telegram.press(512, agree_data, message_id=consent_message["message_id"])
    await chat.expect("Lựa chọn này đã cũ")


async def test_district_typed_for_province_and_numbers_off_the_list(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 513)
    await agree(chat)
    await chat.say("nin thuan", "có phải anh/chị muốn chọn tỉnh nào")  # typo in a former name
    assert chat.buttons()[0][0] == "Tỉnh Khánh Hòa (Tỉnh Ninh Thuận cũ)"
    await chat.say("/start", "đăng ký dở")
    await chat.expect("tỉnh, thành phố nào")
    await chat.say("huyen ninh son", "là tên huyện cũ?")
    await chat.tap("Huyện Ninh Sơn, Tỉnh Ninh Thuận cũ → Tỉnh Khánh Hòa", "Đã chọn: Tỉnh Khánh Hòa")
    await chat.expect("nay thuộc 5 xã, phường")
    await chat.say("9", "Không có lựa chọn số 9")
    assert len(chat.buttons()) == 6
    await chat.say("4", "Đã chọn: Xã Mỹ Sơn, Tỉnh Khánh Hòa")  # Đô Vinh, Anh Dũng, Lâm Sơn, Mỹ Sơn
    await chat.expect("Anh/chị thuộc nhóm nào dưới đây?")
    await chat.say("2", "Đã chọn: Cán bộ quản lý HTX")
    assert member(sessions, 513).role == Role.MANAGER


async def test_a_name_that_was_a_district_and_communes_offers_them_all(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 531)
    await agree(chat)
    await chat.say("lang son", "xã, phường nào")
    reply = await chat.say("chi lang", "Trước 1/7/2025 có")
    labels = [label for label, _ in chat.buttons()]
    assert labels[0] == "Xã Chi Lăng"  # the commune of that name today
    assert "Xã Chi Lăng (Huyện Tràng Định cũ) → Xã Thất Khê" in labels
    assert any(label.endswith("(Huyện Chi Lăng cũ)") for label in labels), labels
    assert "nơi tên “chi lang”" in reply["text"]
    await chat.tap("Xã Thất Khê", "Đã chọn: Xã Thất Khê, Tỉnh Lạng Sơn")
    found = member(sessions, 531)
    assert found is not None and found.area is not None and found.area.name == "Xã Thất Khê"


async def test_stop_words_are_an_offer_to_stop_not_feedback(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(telegram, 532)
    await register(chat)
    await chat.say("Dừng nhận tin", "Anh/chị muốn dừng nhận tin?")
    assert [label for label, _ in chat.buttons()] == ["Dừng nhận tin", "Không, vẫn nhận tin"]
    await chat.say("ko", "vẫn nhận tin như cũ")
    found = member(sessions, 532)
    assert found is not None and found.status == SubscriberStatus.ACTIVE
    await chat.say("huỷ đăng ký", "Anh/chị muốn dừng nhận tin?")
    await chat.tap("Dừng nhận tin", "Đã dừng")
    found = member(sessions, 532)
    assert found is not None and found.status == SubscriberStatus.STOPPED
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Feedback)) == 0
