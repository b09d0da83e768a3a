"""Let someone try the bot in a terminal: a simulated Telegram, a throwaway database, one chat."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.courses import CourseDraft, create_course
from bot.logs import configure_logging
from bot.settings import load_settings
from bot.simulator import FakeTelegram
from bot.simulator.zalo_bot_api import FakeZaloBot
from db.audience import Audience
from db.base import utcnow
from db.broadcasts import create_broadcast
from db.cooperatives import create_cooperative
from db.engine import create_db_engine, session_factory
from db.migrate import upgrade
from db.models import (
    Area,
    AreaLevel,
    Broadcast,
    Channel,
    Cooperative,
    OcopProduct,
    SubscriberStatus,
    TrainingCourse,
    TrainingTopic,
)
from db.ocop import AreaPlaces, upsert_products
from db.subscribers import get_subscriber
from messages.ocop import parse_catalog

# Sample cooperatives (GSO commune codes) so that the cooperative question has something to find.
SAMPLES = [
    ("HTX Nông nghiệp Mỹ Sơn", 22822),  # Xã Mỹ Sơn, Khánh Hòa (former huyện Ninh Sơn)
    ("HTX Dịch vụ Nông nghiệp Lâm Sơn", 22813),  # Xã Lâm Sơn, Khánh Hòa
]
# SAMPLE OCOP products for /ocop (as in bench/data/ocop_sample.csv): made up, not official.
OCOP_SAMPLE = [
    "Tên sản phẩm|Chủ thể|Số sao|Nhóm sản phẩm|Tỉnh|Xã|Mô tả|Giá|Đơn vị|Liên hệ|Năm công nhận",
    "Nước mắm cá cơm Cà Ná|HTX Thủy sản Cà Ná|4|Thực phẩm|Khánh Hòa|Xã Cà Ná|"
    "Nước mắm cá cơm ủ chượp 12 tháng trong thùng gỗ.|95.000|chai 500 ml|0259 3861 201|2023",
    "Yến sào tinh chế Nha Trang|HTX Yến sào Nha Trang|5|Thực phẩm|Khánh Hòa|Phường Nha Trang|"
    "Yến đảo làm sạch thủ công, đóng hộp quà tặng.|3.500.000|hộp 100 g|0258 3822 302|2022",
    "Nho xanh sấy dẻo|HTX Nông nghiệp Phước Hậu|3|Thực phẩm|Khánh Hòa|Xã Phước Hậu|"
    "Nho xanh trồng theo VietGAP, sấy lạnh, không đường.|85.000|túi 250 g|0259 3864 403|2024",
    "Rượu vang nho Ninh Hải|HTX Nho Ninh Hải|4|Đồ uống|Khánh Hòa|Xã Ninh Hải|"
    "Vang đỏ lên men từ nho đỏ Cardinal.|220.000|chai 750 ml|0259 3873 504|2023",
    "Trà mãng cầu Mỹ Sơn|HTX Nông nghiệp Mỹ Sơn|3|Đồ uống|Khánh Hòa|Xã Mỹ Sơn|"
    "Trà túi lọc từ lá và quả mãng cầu xiêm sấy khô.|60.000|hộp 20 túi|0259 3856 605|2024",
    "Gốm men lam Bát Tràng|HTX Gốm sứ Bát Tràng|4|Lưu niệm|Hà Nội|Xã Bát Tràng|"
    "Bộ ấm chén men lam vẽ tay.|650.000|bộ|024 3874 0706|2022",
]
COURSE_TITLE = "Tập huấn sản xuất rau an toàn theo VietGAP (lớp mẫu)"
DEMO_AUTHOR = "demo"  # created_by of what the demo makes, so a second run does not repeat it
WELCOME_BROADCAST = (
    "📢 Tin mẫu: chào {{ subscriber.name }}! Đây là một tin gửi đến mọi thành viên, "
    "như cán bộ gửi bằng lệnh outreach broadcast create. "
    "Gõ /ocop để xem sản phẩm OCOP mẫu, /taphuan để xem lớp tập huấn mẫu."
)
# Seconds without a request after which the bot has answered: its replies to a chat are
# spaced OUTREACH_CHAT_INTERVAL apart, so a little more than that.
QUIET_BEYOND_INTERVAL = 0.45
INTRO = """\
Outreach bot demo: you are a member chatting with the bot on a simulated Telegram.
Type as a member would (with or without Vietnamese accents); when the bot shows
buttons, type a button's number to press it. Try /batdau (/start), /hoso, /chude, /dung,
/xoa, /trogiup; once registered, /ocop and /taphuan. Type /quit or press Ctrl+D to leave.
"""


INTRO_ZALO = """\
Outreach bot demo on a simulated Zalo Bot: Zalo has no buttons, so the bot writes its
choices as a numbered list; answer with the number or the words, with or without accents.
Try /batdau (/start), /hoso, /chude, /dung, /xoa, /trogiup; once registered, /ocop, /taphuan.
Type /quit or press Ctrl+D to leave.
"""


def prepare_database(path: Path, tz: ZoneInfo) -> str:
    """Create and migrate a SQLite file, load areas and add what a newcomer should find.

    Sample cooperatives (for the registration's cooperative question), OCOP products (for
    /ocop) and an upcoming course (for /taphuan), each only if there is none yet: a kept
    database run again keeps what it has.
    """
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    upgrade(engine)
    now = utcnow()
    with session_factory(engine).begin() as session:
        if session.scalar(select(Cooperative.id).limit(1)) is None:
            for name, code in SAMPLES:
                commune = session.scalar(
                    select(Area).where(Area.level == AreaLevel.COMMUNE, Area.code == code)
                )
                if commune is not None:
                    create_cooperative(session, name=name, commune=commune, now=now)
        if session.scalar(select(OcopProduct.id).limit(1)) is None:
            rows = [(line, text.split("|")) for line, text in enumerate(OCOP_SAMPLE, 1)]
            catalog = parse_catalog(rows, AreaPlaces(session), now.astimezone(tz).year)
            upsert_products(session, catalog.products, now)
        upcoming = select(TrainingCourse.id).where(TrainingCourse.starts_at > now).limit(1)
        if session.scalar(upcoming) is None:
            add_sample_course(session, now, tz)
    engine.dispose()
    return url


def add_sample_course(session: Session, now: datetime, tz: ZoneInfo) -> None:
    """Add a course two weeks ahead, open to everyone, without announcing it."""
    day = (now.astimezone(tz) + timedelta(days=14)).replace(second=0, microsecond=0)
    starts = day.replace(hour=8, minute=0)
    draft = CourseDraft(
        title=COURSE_TITLE,
        topic=TrainingTopic.VIETGAP,
        organiser="Liên minh HTX tỉnh Khánh Hòa",
        starts_at=starts,
        ends_at=starts.replace(hour=11, minute=30),
        capacity=30,
        deadline_at=starts - timedelta(days=2),
        audience=Audience(),
        place="Hội trường UBND xã Mỹ Sơn, Khánh Hòa",
        description="Lớp mẫu của bản demo: chọn giống, bón phân, ghi nhật ký sản xuất.",
    )
    create_course(session, draft, created_by=DEMO_AUTHOR, now=now, announce_at=None)


def send_welcome_broadcast(
    sessions: sessionmaker[Session], channel: Channel, chat_id: str
) -> bool | None:
    """Once the demo's member has registered, send one broadcast to everyone, the first time.

    A broadcast goes to the members there are when it is sent, so it waits for the person
    trying the demo to register. Return True when it was created now, False when there is
    one already (from this run or an earlier one), None while the member is not registered.
    """
    with sessions.begin() as session:
        sent = select(Broadcast.id).where(Broadcast.created_by == DEMO_AUTHOR).limit(1)
        if session.scalar(sent) is not None:
            return False
        member = get_subscriber(session, channel, chat_id)
        if member is None or member.status != SubscriberStatus.ACTIVE:
            return None
        now = utcnow()
        create_broadcast(
            session,
            text=WELCOME_BROADCAST,
            audience=Audience(),
            send_at=now,
            created_by=DEMO_AUTHOR,
            now=now,
        )
        return True


def log_file_for(path: Path | None) -> Path:
    """Where the demo's logs go: beside a kept database, else in the system's temp folder."""
    if path is None:
        return Path(tempfile.gettempdir()) / "outreach-demo.log"
    log_path = path.with_suffix(".log")
    return log_path if log_path != path else path.with_name(path.name + ".log")


class Terminal:
    """Print what the bot sends to one chat, new messages and edited ones alike."""

    def __init__(self, telegram: FakeTelegram, chat_id: int) -> None:
        self.telegram, self.chat_id = telegram, chat_id
        self.printed: dict[int, Any] = {}
        self.quiet = 1.5  # set from the settings once they are read

    def has_new(self) -> bool:
        """Tell whether show_new would print something."""
        return any(self.printed.get(mid) != key for mid, key, _ in self._keyed())

    def show_new(self) -> None:
        """Print messages not yet shown, and messages whose text or buttons changed."""
        for mid, key, message in self._keyed():
            if self.printed.get(mid) == key:
                continue
            edited = mid in self.printed
            self.printed[mid] = key
            self._print(message, edited)

    def _keyed(self) -> list[tuple[int, tuple[Any, str], dict[str, Any]]]:
        return [
            (m["message_id"], (m.get("text"), str(m.get("reply_markup"))), m)
            for m in self.telegram.messages(self.chat_id)
        ]

    def _print(self, message: dict[str, Any], edited: bool) -> None:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [b for row in rows for b in row]
        if edited and not buttons:
            return  # a spent keyboard was removed: nothing new to read
        print(("\n🤖 (updated)" if edited else "\n🤖 Bot:"), flush=True)
        for line in (message.get("text") or "").splitlines():
            print(f"   {line}")
        if buttons:
            for number, button in enumerate(buttons, 1):
                print(f"   [{number}] {button['text']}")
        sys.stdout.flush()

    async def settle(self, calls_before: int) -> None:
        """Wait for the bot to answer, then until it has been quiet for a moment."""
        await settle(self.telegram, calls_before, self.quiet)

    def calls(self) -> int:
        """Count the requests the bot has made so far."""
        return len(self.telegram.calls)

    def act(self, line: str) -> None:
        """Press a numbered button of the latest message that still has buttons, or type."""
        buttons = self._live_buttons()
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            message_id, data = buttons[int(line) - 1]
            self.telegram.press(self.chat_id, data, message_id=message_id)
        else:
            self.telegram.send_text(self.chat_id, line, first_name="Người dùng thử")

    def _live_buttons(self) -> list[tuple[int, str]]:
        for message in reversed(self.telegram.messages(self.chat_id)):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            if rows:
                return [(message["message_id"], b["callback_data"]) for row in rows for b in row]
        return []


async def settle(fake: FakeTelegram | FakeZaloBot, calls_before: int, quiet: float) -> None:
    """Wait for the bot to answer, then until it has been quiet for `quiet` seconds."""
    try:
        await fake.wait_for(lambda: len(fake.calls) > calls_before, 10)
    except TimeoutError:
        return
    seen, quiet_since = len(fake.calls), asyncio.get_running_loop().time()
    while asyncio.get_running_loop().time() - quiet_since < quiet:
        await asyncio.sleep(0.1)
        if len(fake.calls) != seen:
            seen, quiet_since = len(fake.calls), asyncio.get_running_loop().time()


class ZaloTerminal:
    """Print what the bot sends on Zalo: plain text, choices as numbered lines."""

    def __init__(self, zalo: FakeZaloBot, user_id: str) -> None:
        self.zalo, self.user_id, self.printed = zalo, user_id, 0
        self.quiet = 1.5  # set from the settings once they are read

    def has_new(self) -> bool:
        """Tell whether show_new would print something."""
        return len(self.zalo.messages(self.user_id)) > self.printed

    def show_new(self) -> None:
        """Print the messages not yet shown."""
        sent = self.zalo.messages(self.user_id)
        for message in sent[self.printed :]:
            print("\n🤖 Bot (Zalo):", flush=True)
            for line in (message.get("text") or message.get("caption") or "").splitlines():
                print(f"   {line}")
        self.printed = len(sent)
        sys.stdout.flush()

    async def settle(self, calls_before: int) -> None:
        """Wait for the bot to answer, then until it has been quiet for a moment."""
        await settle(self.zalo, calls_before, self.quiet)

    def calls(self) -> int:
        """Count the requests the bot has made so far."""
        return len(self.zalo.calls)

    def act(self, line: str) -> None:
        """Type the line: on Zalo a number is just text, which the conversation reads."""
        self.zalo.send_text(self.user_id, line, display_name="Người dùng thử")


async def run_demo(chat_id: int = 1001, keep: str | None = None, zalo: bool = False) -> None:
    """Run the bot against a simulated Telegram and chat with it from stdin."""
    folder = tempfile.TemporaryDirectory(prefix="outreach-demo-")
    path = Path(keep) if keep else Path(folder.name) / "demo.db"
    log_path = log_file_for(Path(keep) if keep else None).resolve()
    # Beside a kept database the log goes on from run to run; a throwaway one starts afresh.
    with log_path.open("a" if keep else "w", encoding="utf-8") as log_stream:
        _log_to(log_stream)  # the conversation, not the logs, is the show: none in the chat
        try:
            await _run(path, log_path, chat_id, zalo)
        finally:
            folder.cleanup()
            logging.getLogger().info("demo finished")
    print(f"Demo finished. The bot's log is in {log_path}.")


def _log_to(stream: TextIO) -> None:
    configure_logging(stream=stream)
    logging.captureWarnings(True)  # a library's warnings too, not on the terminal


async def _run(path: Path, log_path: Path, chat_id: int, zalo: bool) -> None:
    tz = load_settings(database_url=f"sqlite:///{path}", outreach_admins="").tz
    print("Preparing the demo database (all provinces and communes of Vietnam)...", flush=True)
    url = await asyncio.to_thread(prepare_database, path, tz)
    async with FakeTelegram() as telegram, FakeZaloBot() as zalo_bot:
        telegram.continue_message_ids()  # a kept database has seen this run's numbers before
        if zalo:
            channel = {"zalo_bot_token": zalo_bot.token, "zalo_bot_api_url": zalo_bot.base_url}
            terminal: Terminal | ZaloTerminal = ZaloTerminal(zalo_bot, f"zalo-{chat_id}")
            member = (Channel.ZALO_BOT, f"zalo-{chat_id}")
        else:
            channel = {"telegram_bot_token": telegram.token, "telegram_api_url": telegram.base_url}
            terminal = Terminal(telegram, chat_id)
            member = (Channel.TELEGRAM, str(chat_id))
        # Any free port for /healthz: the demo must not clash with a bot running here.
        settings = load_settings(
            database_url=url, outreach_admins="", outreach_web_port=0, **channel
        )
        terminal.quiet = settings.outreach_chat_interval + QUIET_BEYOND_INTERVAL
        app = OutreachApp(settings)
        await app.start()
        print(INTRO_ZALO if zalo else INTRO, flush=True)
        print(f"(The bot's log goes to {log_path}, not here.)\n", flush=True)
        try:
            await _chat(terminal, lambda: send_welcome_broadcast(app.sessions, *member))
        finally:
            await app.stop()


async def _chat(terminal: Terminal | ZaloTerminal, welcome: Callable[[], bool | None]) -> None:
    first, welcomed = True, False
    while True:
        if first:
            line, first = "/start", False
            print("> /start")
        else:
            print("> ", end="", flush=True)
            raw = await _read_line(terminal)
            if raw == "":
                print()
                return
            line = raw.strip()
            if line in ("/quit", "/exit"):
                return
            if not line:
                continue
            if not sys.stdin.isatty():
                print(line)  # echo piped input so a transcript reads like a conversation
        calls = terminal.calls()
        terminal.act(line)
        await terminal.settle(calls)
        terminal.show_new()
        if not welcomed:  # the sample broadcast, once the member has registered
            calls = terminal.calls()
            created = await asyncio.to_thread(welcome)
            welcomed = created is not None
            if created:
                await terminal.settle(calls)
                terminal.show_new()


async def _read_line(terminal: Terminal | ZaloTerminal) -> str:
    """Read the person's next line; what the bot sends meanwhile is shown as it comes."""
    reading = asyncio.ensure_future(asyncio.to_thread(sys.stdin.readline))
    while not reading.done():
        await asyncio.wait({reading}, timeout=0.5)
        if not reading.done() and terminal.has_new():
            print()  # off the prompt's line, then the prompt again under the new messages
            terminal.show_new()
            print("> ", end="", flush=True)
    return reading.result()
