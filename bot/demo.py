"""Let someone try the bot in a terminal: a simulated Telegram, a throwaway database, one chat."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import OutreachApp
from bot.settings import load_settings
from bot.simulator import FakeTelegram
from bot.simulator.zalo_bot_api import FakeZaloBot
from db.base import utcnow
from db.cooperatives import create_cooperative
from db.engine import create_db_engine, session_factory
from db.migrate import upgrade
from db.models import Area, AreaLevel, Cooperative

# Sample cooperatives (GSO commune codes) so that the cooperative question has something to find.
SAMPLES = [
    ("HTX Nông nghiệp Mỹ Sơn", 22822),  # Xã Mỹ Sơn, Khánh Hòa (former huyện Ninh Sơn)
    ("HTX Dịch vụ Nông nghiệp Lâm Sơn", 22813),  # Xã Lâm Sơn, Khánh Hòa
]
INTRO = """\
Outreach bot demo: you are a member chatting with the bot on a simulated Telegram.
Type as a member would (with or without Vietnamese accents); when the bot shows
buttons, type a button's number to press it. Try /start, /profile, /topics, /stop,
/forget, /help. Type /quit or press Ctrl+D to leave.
"""


INTRO_ZALO = """\
Outreach bot demo on a simulated Zalo Bot: Zalo has no buttons, so the bot writes its
choices as a numbered list; answer with the number or the words, with or without accents.
Try /start, /profile, /topics, /stop, /forget, /help. Type /quit or press Ctrl+D to leave.
"""


def prepare_database(path: Path) -> str:
    """Create and migrate a SQLite file, load areas and add sample cooperatives."""
    url = f"sqlite:///{path}"
    engine = create_db_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        if session.scalar(select(Cooperative.id).limit(1)) is None:
            for name, code in SAMPLES:
                commune = session.scalar(
                    select(Area).where(Area.level == AreaLevel.COMMUNE, Area.code == code)
                )
                if commune is not None:
                    create_cooperative(session, name=name, commune=commune, now=utcnow())
    engine.dispose()
    return url


class Terminal:
    """Print what the bot sends to one chat, new messages and edited ones alike."""

    def __init__(self, telegram: FakeTelegram, chat_id: int) -> None:
        self.telegram, self.chat_id = telegram, chat_id
        self.printed: dict[int, Any] = {}

    def show_new(self) -> None:
        """Print messages not yet shown, and messages whose text or buttons changed."""
        for message in self.telegram.messages(self.chat_id):
            key = (message.get("text"), str(message.get("reply_markup")))
            mid = message["message_id"]
            if self.printed.get(mid) == key:
                continue
            edited = mid in self.printed
            self.printed[mid] = key
            self._print(message, edited)

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
        await settle(self.telegram, calls_before)

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


async def settle(fake: FakeTelegram | FakeZaloBot, calls_before: int) -> None:
    """Wait for the bot to answer, then until it has been quiet for a moment."""
    try:
        await fake.wait_for(lambda: len(fake.calls) > calls_before, 10)
    except TimeoutError:
        return
    seen = -1
    while seen != len(fake.calls):
        seen = len(fake.calls)
        await asyncio.sleep(0.3)


class ZaloTerminal:
    """Print what the bot sends on Zalo: plain text, choices as numbered lines."""

    def __init__(self, zalo: FakeZaloBot, user_id: str) -> None:
        self.zalo, self.user_id, self.printed = zalo, user_id, 0

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
        await settle(self.zalo, calls_before)

    def calls(self) -> int:
        """Count the requests the bot has made so far."""
        return len(self.zalo.calls)

    def act(self, line: str) -> None:
        """Type the line: on Zalo a number is just text, which the conversation reads."""
        self.zalo.send_text(self.user_id, line, display_name="Người dùng thử")


async def run_demo(chat_id: int = 1001, keep: str | None = None, zalo: bool = False) -> None:
    """Run the bot against a simulated Telegram and chat with it from stdin."""
    logging.getLogger().setLevel(logging.WARNING)  # the conversation, not the logs, is the show
    folder = tempfile.TemporaryDirectory(prefix="outreach-demo-")
    path = Path(keep) if keep else Path(folder.name) / "demo.db"
    print("Preparing the demo database (all provinces and communes of Vietnam)...", flush=True)
    url = await asyncio.to_thread(prepare_database, path)
    async with FakeTelegram() as telegram, FakeZaloBot() as zalo_bot:
        if zalo:
            channel = {"zalo_bot_token": zalo_bot.token, "zalo_bot_api_url": zalo_bot.base_url}
            terminal: Terminal | ZaloTerminal = ZaloTerminal(zalo_bot, f"zalo-{chat_id}")
        else:
            channel = {"telegram_bot_token": telegram.token, "telegram_api_url": telegram.base_url}
            terminal = Terminal(telegram, chat_id)
        # Any free port for /healthz: the demo must not clash with a bot running here.
        settings = load_settings(
            database_url=url, outreach_admins="", outreach_web_port=0, **channel
        )
        app = OutreachApp(settings)
        await app.start()
        print(INTRO_ZALO if zalo else INTRO, flush=True)
        try:
            await _chat(terminal)
        finally:
            await app.stop()
            folder.cleanup()
    print("Demo finished.")


async def _chat(terminal: Terminal | ZaloTerminal) -> None:
    first = True
    while True:
        if first:
            line, first = "/start", False
            print("> /start")
        else:
            print("> ", end="", flush=True)
            raw = await asyncio.to_thread(sys.stdin.readline)
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
