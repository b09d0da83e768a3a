"""Set up logging: text or one JSON object a line, with tokens, secrets and phones redacted."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
# The ids a log call may pass with `extra=` that the JSON lines carry as fields of their own.
CONTEXT_FIELDS = (
    "broadcast_id",
    "delivery_id",
    "subscriber_id",
    "feedback_id",
    "campaign",
    "update_id",
)
# Loggers that write request URLs, where Telegram and Zalo put the bot token.
# Every request (httpx) and every scheduler tick (APScheduler's "Running job") at INFO would
# bury what an operator needs to read; their warnings still show.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler.executors.default", "apscheduler.scheduler")

# A Telegram (or Zalo Bot) token, also inside ".../bot<token>/getMe", where no \b separates
# "bot" from the digits: digits not preceded by a digit, and no token character after.
TOKEN_RE = re.compile(r"(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])")
# access_token=..., refresh_token: ..., "app_secret": "...", secret_key=..., token=... in URLs,
# headers, "key: value" text and JSON; a value already replaced ("<token>") is left as it is.
SECRET_RE = re.compile(
    r"""(?ix)
    \b([a-z_-]*(?:token|secret(?:_key)?))   # the key's name: access_token, zalo_bot_token...
    (["']?[ \t]*[=:][ \t]*["']?)            # = or :, maybe quoted as in JSON
    ([^\s&"',;<>)}\]]+)                     # the value, up to the next separator
    """
)
# "Authorization: Bearer <access token>" as an HTTP library may print a request's headers.
BEARER_RE = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
# Vietnamese mobile numbers: +84, 84 or 0, then 9 digits whose first is 3, 5, 7, 8 or 9,
# with optional single spaces or dots between digits (0912 345 678, 0912.345.678).
PHONE_RE = re.compile(r"(?<!\d)(?:\+?84|0)[ .]?[35789](?:[ .]?\d){8}(?!\d)")


def redact(text: str) -> str:
    """Return the text with bot tokens, secrets and phone numbers replaced."""
    text = TOKEN_RE.sub("<token>", text)
    text = SECRET_RE.sub(r"\1\2<redacted>", text)
    text = BEARER_RE.sub(r"\1<redacted>", text)
    return PHONE_RE.sub(_masked_phone, text)


def _masked_phone(match: re.Match[str]) -> str:
    """Keep the last three digits, enough for staff to tell two members' numbers apart."""
    digits = re.sub(r"\D", "", match.group(0))
    return f"<phone …{digits[-3:]}>"


class RedactingFilter(logging.Filter):
    """Turn a record's message, traceback and stack into their final, redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never raise, since that would lose the record."""
        try:
            self._redact(record)
        except Exception:  # a filter that raises loses the record: keep it, marked
            record.msg, record.args = "<log message could not be redacted>", None
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        """Fold the args into the message, then redact it and any exception text."""
        record.msg, record.args = redact(_message(record)), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set: they never see the raw traceback.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)


def _message(record: logging.LogRecord) -> str:
    """Format the message with its args, or keep both as text if they do not fit."""
    try:
        return record.getMessage()
    except Exception:  # "%d" given a string and the like: still log what was said
        return f"{record.msg!s} (args: {record.args!r})"


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line, with the ids given via extra."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        entry: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for field in CONTEXT_FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                entry[field] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Vietnamese stays readable; default=str keeps an odd extra from failing the line.
        return json.dumps(entry, ensure_ascii=False, default=str)


def _timestamp(created: float) -> str:
    """Return an ISO-8601 UTC time with milliseconds, e.g. 2026-11-23T01:02:03.456Z."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _OutreachHandler(logging.StreamHandler[TextIO]):
    """The root handler this module installs, told apart so set-up can replace it."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream or sys.stderr)
        self._follow = stream is None  # stderr as it is at each line, even if replaced since

    def emit(self, record: logging.LogRecord) -> None:
        """Write one record, to the current stderr when no stream was given."""
        if self._follow:
            self.stream = sys.stderr
        super().emit(record)


def configure_logging(
    *, verbose: bool = False, fmt: str | None = None, stream: TextIO | None = None
) -> None:
    """Send logs to stderr (or stream) as text or JSON lines, redacted; safe to call again."""
    chosen = (fmt if fmt is not None else os.environ.get("LOG_FORMAT", "text")).strip().lower()
    if chosen not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be text or json, not {chosen!r}")
    handler = _OutreachHandler(stream)
    handler.setFormatter(JsonFormatter() if chosen == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OutreachHandler)]:
        root.removeHandler(old)  # a second call replaces ours instead of doubling every line
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


__all__ = ["JsonFormatter", "RedactingFilter", "configure_logging", "redact"]
