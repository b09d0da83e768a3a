"""Read the bot's configuration from the environment and an optional `.env` file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_API_URL = "https://api.telegram.org/bot"
TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{10,}$")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and says what to do."""


class Settings(BaseSettings):
    """Everything the bot needs to start, read once at start-up and never changed."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: str | None = Field(default=None, repr=False)
    telegram_api_url: str = DEFAULT_API_URL
    database_url: str = "sqlite:///outreach.db"
    outreach_timezone: str = "Asia/Ho_Chi_Minh"
    outreach_admins: Annotated[tuple[int, ...], NoDecode] = ()
    telegram_rate_limit: float = 30.0
    telegram_paid_broadcast: bool = False
    zalo_bot_token: str | None = Field(default=None, repr=False)
    zalo_bot_api_url: str = "https://bot-api.zaloplatforms.com/bot"
    zalo_bot_rate_limit: float = 20.0
    # Zalo Official Account: the app's id and secret (developers.zalo.me), the OA secret key
    # that signs webhook events, and Zalo's sending rules (see README, "Zalo's rules").
    zalo_oa_app_id: str | None = None
    zalo_oa_app_secret: str | None = Field(default=None, repr=False)
    zalo_oa_secret_key: str | None = Field(default=None, repr=False)
    zalo_oa_api_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_zns_api_url: str = "https://business.openapi.zalo.me"
    zalo_oa_rate_limit: float = 10.0
    zalo_oa_reply_window_hours: float = Field(default=48, gt=0)
    zalo_oa_max_silence_days: float = Field(default=7, gt=0)
    zalo_oa_promotion: bool = False
    zalo_oa_night_start: dt.time = dt.time(22, 0)
    zalo_oa_night_end: dt.time = dt.time(7, 0)
    zalo_zns_template_id: str | None = None
    zalo_zns_text_param: str = "content"
    zalo_zns_name_param: str = "customer_name"
    zalo_zns_text_max: int = Field(default=400, ge=20)
    outreach_public_url: str | None = None
    # Where photos given as files are kept (by content hash) and served at <public URL>/m/.
    outreach_media_dir: Path = Path("media")
    # Telegram by webhook (`outreach run --webhook URL`) instead of long polling; the secret
    # Telegram sends back is derived from the bot token unless set, so every instance agrees.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = Field(default=None, repr=False)
    # How long a silent instance keeps its claims and the scheduler before another takes over.
    outreach_takeover_seconds: float = Field(default=45.0, ge=1, le=600)
    # Seconds between two messages to one chat (replies and broadcasts): Telegram asks for
    # about one a second in a chat and answers 429 above it; a little over, for jitter.
    outreach_chat_interval: float = Field(default=1.05, ge=0, le=10)
    outreach_web_host: str = "127.0.0.1"
    outreach_web_port: int = 8080
    # How often the scheduler looks for due campaign sends (seconds); at most a minute.
    outreach_scheduler_tick: float = Field(default=15.0, gt=0, le=60)
    # Kinds of announcement an officer writes that need another officer's approval.
    outreach_approval_kinds: Annotated[tuple[str, ...], NoDecode] = ("policy",)
    # The feedback triage rules staff edit (topics, flags); default: messages/triage.yaml.
    outreach_triage_rules: Path | None = None

    @field_validator("telegram_bot_token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not TOKEN_RE.match(value.strip()):
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return value.strip()

    @field_validator("zalo_bot_token")
    @classmethod
    def _zalo_token(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not TOKEN_RE.match(value.strip()):
            raise ValueError("does not look like a Zalo Bot token (digits:letters)")
        return value.strip()

    @field_validator(
        "zalo_oa_app_id", "zalo_oa_app_secret", "zalo_oa_secret_key", "zalo_zns_template_id"
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() if value and value.strip() else None

    @field_validator(
        "telegram_api_url",
        "zalo_bot_api_url",
        "zalo_oa_api_url",
        "zalo_oauth_url",
        "zalo_zns_api_url",
    )
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org/bot")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        # Operators paste URLs from hosting panels: postgres:// and postgresql:// mean psycopg 3.
        value = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", value.strip())
        if not re.match(r"^(sqlite|postgresql\+psycopg)://", value):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("outreach_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not a known time zone such as Asia/Ho_Chi_Minh") from exc
        return value

    @field_validator("outreach_admins", mode="before")
    @classmethod
    def _admins(cls, value: object) -> tuple[int, ...]:
        if isinstance(value, (tuple, list)):
            return tuple(int(v) for v in value)
        parts = [p.strip() for p in str(value or "").split(",") if p.strip()]
        if not all(re.fullmatch(r"\d+", p) for p in parts):
            raise ValueError("must be comma-separated numeric Telegram user ids, e.g. 12345,67890")
        return tuple(int(p) for p in parts)

    @field_validator("outreach_approval_kinds", mode="before")
    @classmethod
    def _approval_kinds(cls, value: object) -> tuple[str, ...]:
        known = ("policy", "market", "model_story", "notice")
        if isinstance(value, (tuple, list)):
            parts = [str(v) for v in value]
        else:
            parts = [p.strip() for p in str(value or "").split(",") if p.strip()]
        unknown = [p for p in parts if p not in known]
        if unknown:
            raise ValueError(f"unknown kinds {', '.join(unknown)}; use some of {', '.join(known)}")
        return tuple(parts)

    @field_validator("outreach_public_url", "telegram_webhook_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not re.match(r"^https://[^\s/]+", value.strip()):
            raise ValueError("must be the https:// address where this server is reachable")
        return value.strip().rstrip("/")

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.strip()):
            raise ValueError("may hold only letters, digits, _ and - (up to 256), as Telegram asks")
        return value.strip()

    @field_validator("telegram_rate_limit")
    @classmethod
    def _rate(cls, value: float) -> float:
        if not 0 < value <= 1000:
            raise ValueError("must be between 1 and 1000 messages a second")
        return value

    @model_validator(mode="after")
    def _paid_needed(self) -> Settings:
        if self.telegram_rate_limit > 30 and not self.telegram_paid_broadcast:
            raise ValueError(
                "TELEGRAM_RATE_LIMIT above 30 needs TELEGRAM_PAID_BROADCAST=true "
                "(Telegram's paid broadcasts, billed in Stars)"
            )
        return self

    @model_validator(mode="after")
    def _zalo_oa_whole(self) -> Settings:
        given = {
            "ZALO_OA_APP_ID": self.zalo_oa_app_id,
            "ZALO_OA_APP_SECRET": self.zalo_oa_app_secret,
            "ZALO_OA_SECRET_KEY": self.zalo_oa_secret_key,
        }
        missing = [name for name, value in given.items() if not value]
        if 0 < len(missing) < len(given):
            raise ValueError(
                f"the Zalo OA needs {', '.join(missing)} too "
                "(from developers.zalo.me: the app's id and secret, and the OA secret key "
                "under Webhook settings)"
            )
        return self

    @property
    def zalo_oa(self) -> bool:
        """Tell whether a Zalo Official Account is configured."""
        return bool(self.zalo_oa_app_id and self.zalo_oa_app_secret and self.zalo_oa_secret_key)

    @property
    def tz(self) -> ZoneInfo:
        """Return the local time zone used to show and plan times."""
        return ZoneInfo(self.outreach_timezone)

    def require_channel(self) -> None:
        """Fail with a clear line unless at least one member channel is configured."""
        if not (self.telegram_bot_token or self.zalo_bot_token or self.zalo_oa):
            raise SettingsError(
                "no channel is configured: set TELEGRAM_BOT_TOKEN (from @BotFather), "
                "ZALO_BOT_TOKEN (from bot.zaloplatforms.com) or the ZALO_OA_* settings, "
                "in the environment or in .env "
                "(or try `outreach demo`, which needs none)"
            )

    def require_token(self) -> str:
        """Return the bot token, or fail with a line saying how to get one."""
        if not self.telegram_bot_token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token "
                "in the environment or in .env (or try `outreach demo`, which needs none)"
            )
        return self.telegram_bot_token


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, `.env` and overrides; SettingsError on bad input."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings names them itself
            raise SettingsError(message) from None
        raise SettingsError(f"{str(first['loc'][0]).upper()} {message}") from None
