"""Adapt Telegram to the neutral conversation: updates in as events, replies out as messages."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
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
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.base import SeenRefs
from bot.channels.replies import ChatTurns
from bot.channels.zalo_bot import command_name
from bot.conversation.events import EventKind, Inbound, Option, Reply
from db.models import Channel
from messages import member as say
from messages.channels import caption_and_rest, split_text

log = logging.getLogger(__name__)

Handler = Callable[[Inbound], Awaitable[list[Reply]]]

# The menu Telegram shows beside the message box: the Vietnamese names, which members read
# and type; the English ones still work (see bot.conversation.member.COMMANDS).
COMMANDS = [
    BotCommand("batdau", "Đăng ký hoặc nhận tin lại"),
    BotCommand("hoso", "Xem và sửa thông tin của anh/chị"),
    BotCommand("chude", "Chọn chủ đề muốn nhận"),
    BotCommand("ocop", "Xem sản phẩm OCOP theo tỉnh và nhóm hàng"),
    BotCommand("taphuan", "Lớp tập huấn sắp tới: đăng ký, hủy"),
    BotCommand("khokhan", "Báo khó khăn của HTX hay gia đình"),
    BotCommand("lienket", "Dùng cả Telegram và Zalo, nhận mỗi tin một lần"),
    BotCommand("sdt", "Số điện thoại để nhận tin qua Zalo"),
    BotCommand("dung", "Dừng nhận mọi tin"),
    BotCommand("xoa", "Xóa toàn bộ dữ liệu của anh/chị"),
    BotCommand("trogiup", "Các lệnh và cách dùng"),
]


def vietnamese_name(first: str, last: str | None) -> str:
    """Write a person's name family first, as Vietnamese do: "Trần Thị" "Bình" is Trần Thị Bình.

    Telegram's `full_name` puts the first name first ("Bình Trần Thị"); a name given whole
    in the first name field is kept as it is.
    """
    return f"{last} {first}".strip() if last else first


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
        display_name=vietnamese_name(user.first_name, user.last_name)[:120] or None,
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
        command = command_name(head.split("@", 1)[0])
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


class ChatOrder(BaseUpdateProcessor):
    """Handle updates side by side, but one chat's in the order they came (PTB's hook).

    python-telegram-bot handles updates one at a time unless told otherwise: one member's slow
    turn (an officer's report, a busy database) would hold up every other chat.
    """

    def __init__(self, max_concurrent_updates: int = 512) -> None:
        super().__init__(max_concurrent_updates)
        self.turns = ChatTurns()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handling after the same chat's earlier updates."""
        chat = update.effective_chat if isinstance(update, Update) else None
        await self.turns.run(chat.id if chat is not None else 0, coroutine)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class TelegramChannel:
    """The Telegram adapter: long polling through python-telegram-bot."""

    def __init__(
        self, token: str, api_url: str, handle: Handler, rate_limiter: BaseRateLimiter[Any]
    ) -> None:
        file_url = api_url.replace("/bot", "/file/bot", 1) if "/bot" in api_url else api_url
        self.order = ChatOrder()  # polling and webhook: chats side by side, each in order
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(token)
            .base_url(api_url)
            .base_file_url(file_url)
            .rate_limiter(rate_limiter)
            .concurrent_updates(self.order)
            .build()
        )
        self._handle = handle
        self.replied: Callable[[float], None] | None = None  # answer times, for /metrics
        self.missed: Callable[[Inbound], Awaitable[None]] | None = None  # a reply was lost
        self._seen = SeenRefs()  # webhook: Telegram re-sends an update it thinks was lost
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
        await self.order.do_process_update(update, self.application.process_update(update))

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
        delivered = await self.send_replies(int(event.chat_id), replies, query, started)
        if not delivered and self.missed is not None:
            await self.missed(event)

    async def send_replies(
        self,
        chat_id: int,
        replies: list[Reply],
        query: CallbackQuery | None = None,
        started: float | None = None,
    ) -> bool:
        """Send replies in order; an `edit` reply updates the pressed message in place.

        Each reply is retried through the rate limiter (429s, the network); one refused for
        good is logged and the rest still go. Return whether the member got every reply.
        The time from `started` to the first answer is the reply latency of /metrics.
        """
        delivered = True
        for reply, markup, pressed in self._plan(replies, query):
            try:
                if pressed is not None and reply.edit:
                    await self._edit(pressed, reply.text, markup)
                    continue
                if pressed is not None:  # the keyboard pressed is spent: taken off first
                    try:
                        await self._edit(pressed, None, None)
                    except TelegramError as exc:  # a stale keyboard is no reason to stay silent
                        log.info("could not take the keyboard off a pressed message: %s", exc)
                # To the member, or to someone else: an approver, an author.
                await self._send(int(reply.chat or chat_id), reply, markup)
                if started is not None and reply.chat is None and self.replied is not None:
                    self.replied(time.monotonic() - started)  # the member has an answer
                    started = None
            except Forbidden as exc:
                log.info("chat %s blocked the bot: %s", reply.chat or chat_id, exc)
            except TelegramError as exc:
                whom = "a staff notice to" if reply.chat is not None else "a reply to"
                log.warning("%s chat %s not delivered: %s", whom, reply.chat or chat_id, exc)
                delivered = delivered and reply.chat is not None
        return delivered

    def _plan(
        self, replies: list[Reply], query: CallbackQuery | None
    ) -> Iterator[tuple[Reply, InlineKeyboardMarkup | None, Message | None]]:
        """Pair each reply with its keyboard and the pressed message it edits, if any."""
        pressed = query.message if query is not None else None
        if any(reply.keep for reply in replies):
            pressed = None  # a broadcast's buttons stay: its reactions and poll can change
        for reply in replies:
            markup = keyboard(reply.options, reply.columns)
            if reply.chat is not None:
                yield reply, markup, None
            elif reply.edit and isinstance(pressed, Message):
                yield reply, markup, pressed
                pressed = None
            elif isinstance(pressed, Message) and pressed.reply_markup is not None:
                # The pressed keyboard is spent: removing it avoids a second, stale tap.
                yield reply, markup, pressed
                pressed = None
            else:
                yield reply, markup, None

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
