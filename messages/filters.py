"""Say dates, times, money, stars and counts the Vietnamese way, as Jinja2 filters.

Formats come from the CLDR data through Babel (the maintained library for locale data),
so "Thứ Ba, 15/10/2024" and "150.000" are Vietnam's own conventions, not ours.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "vi_VN"
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _local(moment: date | datetime) -> date | datetime:
    """Show an aware time in Vietnam's time zone; dates and naive times as they are."""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment.astimezone(LOCAL_TZ)
    return moment


def weekday_date(moment: date | datetime) -> str:
    """Write a day as "Thứ Ba, 15/10/2024"."""
    return format_date(_local(moment), "EEEE, dd/MM/yyyy", locale=LOCALE)


def short_date(moment: date | datetime) -> str:
    """Write a day as "15/10/2024"."""
    return format_date(_local(moment), "dd/MM/yyyy", locale=LOCALE)


def clock(moment: time | datetime) -> str:
    """Write a time of day as "07:30" (in Vietnam's time zone for aware datetimes)."""
    local = (
        moment.astimezone(LOCAL_TZ) if isinstance(moment, datetime) and moment.tzinfo else moment
    )
    return f"{local.hour:02d}:{local.minute:02d}"


def money(amount: int | float | Decimal | None, unit: str = "") -> str:
    """Write an amount of đồng as "150.000 đ" (optionally "150.000 đ/kg")."""
    if amount is None:
        return "Liên hệ"
    text = f"{format_decimal(amount, format='#,##0', locale=LOCALE)} đ"
    return f"{text}/{unit}" if unit else text


def count(number: int) -> str:
    """Write a count with the thousands separator: "1.234" (Vietnamese has no plural)."""
    return format_decimal(number, format="#,##0", locale=LOCALE)


def stars(rating: int, out_of: int = 5) -> str:
    """Draw a star rating: 4 of 5 is "★★★★☆" (at most ten stars, whatever is asked)."""
    out_of = max(0, min(10, int(out_of)))
    filled = max(0, min(out_of, int(rating)))
    return "★" * filled + "☆" * (out_of - filled)


FILTERS: dict[str, Callable[..., str]] = {
    "ngay": weekday_date,
    "ngay_ngan": short_date,
    "gio": clock,
    "tien": money,
    "so": count,
    "sao": stars,
}
