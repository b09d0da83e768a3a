"""Configuration: defaults, normalisation, and one clear line for each bad setting."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_API_URL")
    settings = load_settings()
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.database_url == "sqlite:///outreach.db"
    assert settings.outreach_timezone == "Asia/Ho_Chi_Minh"
    assert settings.outreach_admins == ()
    assert settings.telegram_bot_token is None


def test_values_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:AAAbbbCCCdddEEE")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.local/outreach")
    monkeypatch.setenv("OUTREACH_ADMINS", "111, 222")
    settings = load_settings()
    assert settings.require_token() == "123456:AAAbbbCCCdddEEE"
    assert settings.database_url == "postgresql+psycopg://u@db.local/outreach"
    assert settings.outreach_admins == (111, 222)
    assert "AAAbbb" not in repr(settings)  # the token never reaches logs through repr


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("OUTREACH_TIMEZONE", "Mars/Olympus", "OUTREACH_TIMEZONE"),
        ("OUTREACH_ADMINS", "12,abc", "OUTREACH_ADMINS"),
        ("TELEGRAM_API_URL", "api.telegram.org", "TELEGRAM_API_URL"),
    ],
)
def test_malformed_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(named) and "\n" not in message


def test_missing_token_says_what_to_do() -> None:
    with pytest.raises(SettingsError, match=r"TELEGRAM_BOT_TOKEN is not set.*@BotFather"):
        load_settings().require_token()


def test_rate_above_30_needs_paid_broadcasts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_RATE_LIMIT", "1000")
    with pytest.raises(SettingsError, match="needs TELEGRAM_PAID_BROADCAST=true"):
        load_settings()
    monkeypatch.setenv("TELEGRAM_PAID_BROADCAST", "true")
    assert load_settings().telegram_rate_limit == 1000
    monkeypatch.setenv("TELEGRAM_RATE_LIMIT", "5000")
    with pytest.raises(SettingsError, match="TELEGRAM_RATE_LIMIT must be between"):
        load_settings()
