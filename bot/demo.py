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
        try:
            await self.telegram.wait_for(lambda: len(self.telegram.calls) > calls_before, 10)
        except TimeoutError:
            return
        seen = -1
        while seen != len(self.telegram.calls):
            seen = len(self.telegram.calls)
            await asyncio.sleep(0.3)

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


async def run_demo(chat_id: int = 1001, keep: str | None = None) -> None:
    """Run the bot against a simulated Telegram and chat with it from stdin."""
    logging.getLogger().setLevel(logging.WARNING)  # the conversation, not the logs, is the show
    folder = tempfile.TemporaryDirectory(prefix="outreach-demo-")
    path = Path(keep) if keep else Path(folder.name) / "demo.db"
    print("Preparing the demo database (all provinces and communes of Vietnam)...", flush=True)
    url = await asyncio.to_thread(prepare_database, path)
    async with FakeTelegram() as telegram:
        settings = load_settings(
            telegram_bot_token=telegram.token,
            telegram_api_url=telegram.base_url,
            database_url=url,
            outreach_admins="",
        )
        app = OutreachApp(settings)
        await app.start()
        terminal = Terminal(telegram, chat_id)
        print(INTRO, flush=True)
        try:
            await _chat(terminal, telegram)
        finally:
            await app.stop()
            folder.cleanup()
    print("Demo finished.")


async def _chat(terminal: Terminal, telegram: FakeTelegram) -> None:
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
        calls = len(telegram.calls)
        terminal.act(line)
        await terminal.settle(calls)
        terminal.show_new()
