"""Logs come out as text or JSON lines and never carry tokens, secrets or phone numbers."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.logs import RedactingFilter, configure_logging, redact

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
URL = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
PHONES = {
    "0912345678": "<phone …678>",
    "+84 912 345 678": "<phone …678>",
    "84912345678": "<phone …678>",
    "0912.345.678": "<phone …678>",
    "0388 123 456": "<phone …456>",
}
ORDINARY = [
    "update 10000006 from chat 9411",
    "planned for 2026-11-23 07:30",
    "amount 7.200 đồng, 84.000.000 đồng a year",
    "delivery 1234567890 took 0.35 s",
]


@pytest.fixture
def root_state() -> Iterator[None]:
    """Give each test the root logger back as it found it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    """Parse every line written to the stream as one JSON object."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def json_logger(stream: io.StringIO) -> logging.Logger:
    """Configure JSON logs onto the stream and return a logger of ours."""
    configure_logging(fmt="json", stream=stream)
    return logging.getLogger("bot.test_logs")


@pytest.mark.usefixtures("root_state")
def test_json_lines_carry_level_logger_time_and_ids() -> None:
    stream = io.StringIO()
    log = json_logger(stream)
    log.info("sent %d messages", 3, extra={"broadcast_id": 12, "campaign": "thai-binh"})
    log.warning("Chưa rõ", extra={"delivery_id": 7, "subscriber_id": 5, "update_id": 10000006})
    log.debug("not shown at INFO")
    first, second = json_lines(stream)
    assert first["level"] == "INFO" and first["logger"] == "bot.test_logs"
    assert first["msg"] == "sent 3 messages"
    assert first["broadcast_id"] == 12 and first["campaign"] == "thai-binh"
    assert "delivery_id" not in first and "exc" not in first
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(first["ts"]))
    assert second["msg"] == "Chưa rõ" and second["level"] == "WARNING"
    assert (second["delivery_id"], second["subscriber_id"], second["update_id"]) == (7, 5, 10000006)


@pytest.mark.usefixtures("root_state")
def test_json_line_has_the_traceback_redacted() -> None:
    stream = io.StringIO()
    log = json_logger(stream)
    try:
        raise RuntimeError(f"Client error 401 for url {URL}, member phone 0912.345.678")
    except RuntimeError:
        log.exception("send failed", extra={"feedback_id": 4})
    (line,) = json_lines(stream)
    assert line["feedback_id"] == 4 and line["msg"] == "send failed"
    exc = str(line["exc"])
    assert exc.startswith("Traceback") and "RuntimeError: Client error 401" in exc
    assert "api.telegram.org/bot<token>/sendMessage" in exc and "<phone …678>" in exc
    assert TOKEN not in exc and "345" not in exc.replace("<phone …678>", "")


@pytest.mark.usefixtures("root_state")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_token_and_secrets_are_redacted_in_message_and_args(fmt: str) -> None:
    stream = io.StringIO()
    configure_logging(fmt=fmt, stream=stream)
    log = logging.getLogger("bot.test_logs")
    log.info(f"GET {URL}")
    log.info("POST %s", URL)
    log.info("refresh https://openapi.zalo.me/v2.0/oa?access_token=%s&x=1", "zX9-abc_DEF.123")
    log.info("config %s", {"secret_key": "s3cr3tK", "app_secret": "pa55"})
    log.info("header x-bot-api-secret-token: abcDEF123 and Authorization: Bearer eyJ0.abc")
    out = stream.getvalue()
    for secret in (TOKEN, "zX9-abc_DEF.123", "s3cr3tK", "pa55", "abcDEF123", "eyJ0.abc"):
        assert secret not in out
    assert out.count("bot<token>/sendMessage") == 2
    assert "access_token=<redacted>&x=1" in out
    assert "secret-token: <redacted>" in out and "Bearer <redacted>" in out


@pytest.mark.parametrize(("spelling", "masked"), PHONES.items())
def test_phone_spellings_keep_only_their_last_three_digits(spelling: str, masked: str) -> None:
    assert redact(f"member {spelling} wrote") == f"member {masked} wrote"


@pytest.mark.usefixtures("root_state")
def test_phones_are_redacted_in_args_and_tracebacks() -> None:
    stream = io.StringIO()
    log = json_logger(stream)
    log.info("phones %s and %s", "+84 912 345 678", "0388 123 456")
    try:
        raise ValueError("bad number 84912345678")
    except ValueError:
        log.error("zns refused", exc_info=True)
    first, second = json_lines(stream)
    assert first["msg"] == "phones <phone …678> and <phone …456>"
    assert "ValueError: bad number <phone …678>" in str(second["exc"])


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_are_untouched(text: str) -> None:
    assert redact(text) == text


@pytest.mark.usefixtures("root_state")
def test_text_format_is_the_usual_line() -> None:
    stream = io.StringIO()
    configure_logging(fmt="text", stream=stream)
    logging.getLogger("bot.app").info("bot started for %s", "0912345678")
    line = stream.getvalue().rstrip("\n")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO bot\.app: bot started for <phone …678>", line
    )


@pytest.mark.usefixtures("root_state")
def test_format_comes_from_log_format_and_a_wrong_one_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    stream = io.StringIO()
    configure_logging(stream=stream)
    logging.getLogger("bot").info("hello")
    assert json_lines(stream)[0]["msg"] == "hello"
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    with pytest.raises(ValueError, match="LOG_FORMAT must be text or json, not 'yaml'"):
        configure_logging(stream=stream)


@pytest.mark.usefixtures("root_state")
def test_set_up_twice_keeps_one_handler_and_sets_levels() -> None:
    first, second = io.StringIO(), io.StringIO()
    before = len(logging.getLogger().handlers)
    configure_logging(fmt="json", stream=first)
    configure_logging(fmt="text", verbose=True, stream=second)
    assert len(logging.getLogger().handlers) == before + 1
    logging.getLogger("bot").debug("once")
    assert first.getvalue() == "" and second.getvalue().count("once") == 1
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING


def test_filter_never_raises_and_keeps_the_record() -> None:
    bad = logging.LogRecord("bot", logging.INFO, __file__, 1, "count %d for %s", ("x",), None)
    assert RedactingFilter().filter(bad) is True
    assert bad.args is None and "count %d for %s" in bad.getMessage()

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

        __repr__ = __str__

    worse = logging.LogRecord("bot", logging.INFO, __file__, 1, Unprintable(), None, None)
    assert RedactingFilter().filter(worse) is True
    assert worse.getMessage() == "<log message could not be redacted>"


def test_the_cli_logs_through_it_and_refuses_an_unknown_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    refused = CliRunner().invoke(main, ["area", "find", "Khánh Hòa"])
    assert (
        refused.exit_code == 2 and "LOG_FORMAT must be text or json, not 'yaml'" in refused.output
    )
