"""Adapt Telegram to the neutral conversation: updates in as events, replies out as messages."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.base import SeenRefs
from bot.conversation.events import EventKind, Inbound, Option, Reply
from db.models import Channel
from messages import member as say
from messages.channels import caption_and_rest, split_text

log = logging.getLogger(__name__)

Handler = Callable[[Inbound], Awaitable[list[Reply]]]

COMMANDS = [
    BotCommand("start", "Đăng ký hoặc nhận tin lại"),
    BotCommand("profile", "Xem và sửa thông tin của anh/chị"),
    BotCommand("topics", "Chọn chủ đề muốn nhận"),
    BotCommand("ocop", "Xem sản phẩm OCOP theo tỉnh và nhóm hàng"),
    BotCommand("taphuan", "Lớp tập huấn sắp tới: đăng ký, huỷ"),
    BotCommand("stop", "Dừng nhận mọi tin"),
    BotCommand("lienket", "Liên kết với tài khoản Zalo của anh/chị"),
    BotCommand("sdt", "Số điện thoại để nhận tin qua Zalo"),
    BotCommand("forget", "Xoá toàn bộ dữ liệu của anh/chị"),
    BotCommand("help", "Hướng dẫn"),
]


def to_inbound(update: Update) -> Inbound | None:
    """Turn a Telegram update into a neutral event, or None for what members cannot send us."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return None  # groups and channels are not member conversations
    event = Inbound(
        channel=Channel.TELEGRAM,
        chat_id=str(chat.id),
        kind=EventKind.TEXT,
        display_name=user.full_name[:120] or None,
        ref=f"telegram:{update.update_id}",
    )
    if update.callback_query is not None:
        return replace(event, kind=EventKind.CHOICE, data=update.callback_query.data)
    message = update.message
    if message is None:
        return None  # edits, reactions and the like need no answer
    text = message.text
    if message.photo:  # a member's photo is not read; an officer's becomes an announcement
        caption = message.caption or ""
        html = message.caption_html if caption else ""
        return replace(
            event, kind=EventKind.OTHER, text=caption, html=html, photo=message.photo[-1].file_id
        )
    if text is None:
        return replace(event, kind=EventKind.OTHER)
    if text.startswith("/"):
        head, _, rest = text[1:].partition(" ")
        command = head.split("@", 1)[0].lower()
        return replace(event, kind=EventKind.COMMAND, command=command, text=rest.strip())
    replied = message.reply_to_message
    reply_to = str(replied.message_id) if replied is not None else None
    return replace(event, text=text, html=message.text_html, reply_to=reply_to)


def keyboard(options: Sequence[Option], columns: int = 1) -> InlineKeyboardMarkup | None:
    """Lay options out as inline buttons, `columns` a row."""
    if not options:
        return None
    buttons = [InlineKeyboardButton(o.label, callback_data=o.data) for o in options]
    rows = [buttons[i : i + max(columns, 1)] for i in range(0, len(buttons), max(columns, 1))]
    return InlineKeyboardMarkup(rows)


@dataclass
class _Turn:
    """One chat's updates taken in turn: the lock, and how many updates hold or await it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class TelegramChannel:
    """The Telegram adapter: long polling through python-telegram-bot."""

    def __init__(
        self, token: str, api_url: str, handle: Handler, rate_limiter: BaseRateLimiter[Any]
    ) -> None:
        file_url = api_url.replace("/bot", "/file/bot", 1) if "/bot" in api_url else api_url
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(token)
            .base_url(api_url)
            .base_file_url(file_url)
            .rate_limiter(rate_limiter)
            .build()
        )
        self._handle = handle
        self.replied: Callable[[float], None] | None = None  # answer times, for /metrics
        self._seen = SeenRefs()  # webhook: Telegram re-sends an update it thinks was lost
        self._chats: dict[int, _Turn] = {}  # webhook: one chat's updates in order
        self.application.add_handler(CallbackQueryHandler(self._on_update))
        self.application.add_handler(MessageHandler(filters.ALL, self._on_update))
        self.application.add_error_handler(self._on_error)

    async def start(self, webhook: str | None = None, secret: str | None = None) -> None:
        """Check the token, publish the command menu, then register the webhook or poll."""
        await self.application.initialize()
        await self.application.bot.set_my_commands(COMMANDS)
        await self.application.start()
        if webhook is not None:
            # Every instance registers the same URL and secret: the last one changes nothing.
            await self.application.bot.set_webhook(
                webhook, secret_token=secret, allowed_updates=Update.ALL_TYPES
            )
            log.info("telegram updates come to %s", webhook)
            return
        updater = self.application.updater
        assert updater is not None  # built with ApplicationBuilder, which always makes one
        # start_polling deletes a webhook left from an earlier run (getUpdates would get 409).
        await updater.start_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)

    async def process(self, body: dict[str, Any]) -> None:
        """Handle one update that came by webhook; a second delivery of it is ignored.

        Updates are handled side by side, but one chat's in the order they came.
        """
        update = Update.de_json(body, self.application.bot)
        if update is None or not self._seen.first_time(f"telegram:{update.update_id}"):
            return
        chat = update.effective_chat.id if update.effective_chat else 0
        turn = self._chats.get(chat) or self._chats.setdefault(chat, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                await self.application.process_update(update)
        finally:
            turn.users -= 1
            if not turn.users:  # nobody waits on this chat: forget it
                self._chats.pop(chat, None)

    async def stop(self) -> None:
        """Stop polling, let handlers in progress finish, and close the HTTP client."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_inbound(update)
        if event is None:
            return
        started = time.monotonic()
        query = update.callback_query
        if query is not None:
            try:
                await query.answer()  # stops the spinner on the member's button at once
            except BadRequest as exc:  # answered already: a delivery of it to another instance
                log.info("callback of update %s already answered: %s", update.update_id, exc)
        replies = await self._handle(event)
        await self.send_replies(int(event.chat_id), replies, query)
        if self.replied is not None and replies:
            self.replied(time.monotonic() - started)

    async def send_replies(
        self, chat_id: int, replies: list[Reply], query: CallbackQuery | None = None
    ) -> None:
        """Send replies in order; an `edit` reply updates the pressed message in place."""
        pressed = query.message if query is not None else None
        if any(reply.keep for reply in replies):
            pressed = None  # a broadcast's buttons stay: its reactions and poll can change
        for reply in replies:
            markup = keyboard(reply.options, reply.columns)
            if reply.chat is not None:  # to someone else: an approver, an author
                try:
                    await self._send(int(reply.chat), reply, markup)
                except (
                    TelegramError
                ) as exc:  # e.g. they never opened the bot: not our member's fault
                    log.warning("could not reach chat %s for a staff notice: %s", reply.chat, exc)
                continue
            if reply.edit and isinstance(pressed, Message):
                await self._edit(pressed, reply.text, markup)
                pressed = None
                continue
            if isinstance(pressed, Message) and pressed.reply_markup is not None:
                # The pressed keyboard is spent: removing it avoids a second, stale tap.
                await self._edit(pressed, None, None)
                pressed = None
            await self._send(chat_id, reply, markup)

    async def _send(self, chat_id: int, reply: Reply, markup: InlineKeyboardMarkup | None) -> None:
        """Send one reply: plain text, or HTML (and a photo) exactly as a broadcast goes."""
        if reply.document is not None:
            upload = InputFile(reply.document.content, filename=reply.document.name)
            await self.application.bot.send_document(
                chat_id, upload, caption=reply.text[:1024] or None, reply_markup=markup
            )
            return
        if not (reply.html or reply.photo):
            await self.application.bot.send_message(chat_id, reply.text, reply_markup=markup)
            return
        mode = ParseMode.HTML if reply.html else None
        bot = self.application.bot
        if reply.photo is not None:
            caption, rest = caption_and_rest(reply.text) if reply.html else (reply.text, [])
            last = not rest
            await bot.send_photo(
                chat_id,
                reply.photo,
                caption=caption or None,
                parse_mode=mode,
                reply_markup=markup if last else None,
            )
        else:
            rest = split_text(reply.text)
        for number, part in enumerate(rest, 1):
            last = number == len(rest)
            await bot.send_message(
                chat_id, part, parse_mode=mode, reply_markup=markup if last else None
            )

    async def _edit(
        self, message: Message, text: str | None, markup: InlineKeyboardMarkup | None
    ) -> None:
        try:
            if text is None:
                await message.edit_reply_markup(reply_markup=markup)
            else:
                await message.edit_text(text, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message:
                raise

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, Forbidden):
            log.info("telegram update %s: the member blocked the bot: %s", update_id, error)
            return
        log.error(
            "telegram update %s failed", update_id, exc_info=error, extra={"update_id": update_id}
        )
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None:
            try:
                await self.application.bot.send_message(chat.id, say.SYSTEM_ERROR)
            except TelegramError:
                log.warning("could not tell chat about the failure of update %s", update_id)
