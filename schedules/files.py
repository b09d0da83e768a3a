"""Read and check campaign files: a plan staff write once as YAML, each problem with its line.

A campaign file gives a window, an audience, a content pool, a base cadence, peak periods,
one-off occasions, quiet hours, a daily cap and a grace for late sends (the format is described
at the top of `campaigns/thai-binh-30-nam-lmhtx.yaml`). PyYAML's nodes keep their line numbers,
so every problem names the file and the line of the key at fault; every problem is reported,
not only the first. Nothing here touches the database: names of areas and content items stay
text, resolved when the campaign is loaded (or, for items, against the packs in a preview).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)

from db.models import Channel, Role, Topic
from db.textmatch import fold
from messages.kinds import Kind
from messages.packs import SLUG
from schedules import planner
from schedules.planner import Cadence, Occasion, Peak, QuietHours

SHIPPED = Path(__file__).resolve().parent / "campaigns"
DEFAULT_TZ = "Asia/Ho_Chi_Minh"
WEEKDAYS = {  # folded spelling -> Monday 0 … Sunday 6, as in the planner
    **{f"thu {n}": i for i, n in enumerate(("hai", "ba", "tu", "nam", "sau", "bay"))},
    **{f"thu {i + 2}": i for i in range(6)},
    **{f"t{i + 2}": i for i in range(6)},
    **{"chu nhat": 6, "cn": 6},
    **{name: i for i, name in enumerate(planner.DAY_NAMES)},
    **{
        f"{n}day": i
        for i, n in enumerate(("mon", "tues", "wednes", "thurs", "fri", "satur", "sun"))
    },
}
EVERY_DAY = frozenset({"hang ngay", "moi ngay", "every day", "daily"})
ACCEPTED_DAYS = "thứ hai..thứ bảy, chủ nhật, thứ 2..thứ 7, T2..T7, CN, mon..sun, monday..sunday"
GRACE = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?$")
ITEM_NAMES = {"roles": "role", "topics": "topic", "channels": "channel", "kinds": "kind"}


class CampaignProblem(ValueError):
    """A campaign file that cannot be used; `errors` holds one "file:line: what" per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _listed(value: Any) -> Any:
    """Let a single value, or nothing, stand for a list (`roles: member`, `peaks:`)."""
    return [] if value is None else value if isinstance(value, list) else [value]


def _days(value: Any) -> Any:
    """Read `days`: omitted or "hằng ngày" is every day (an empty list); "T3, T5" is a list."""
    if isinstance(value, str):
        return [] if fold(value) in EVERY_DAY else [d for d in value.split(",") if d.strip()]
    return _listed(value)


def _weekday(value: Any) -> int:
    day = WEEKDAYS.get(fold(value)) if isinstance(value, str) else None
    if day is None:
        raise ValueError(f"unknown weekday {value!r} (accepted: {ACCEPTED_DAYS})")
    return day


def _time(value: Any) -> time:
    # YAML 1.1 reads an unquoted 7:30 or 19:30 as a base-60 integer (450, 1170): turn it back.
    # A bare number below 60 (`7`) is not one of those: staff meant an hour, so ask for quotes.
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value < 24 * 60:
        return time(value // 60, value % 60)
    found = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip()) if isinstance(value, str) else None
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        raise ValueError(f'bad time {value!r} (write a local time as "HH:MM", e.g. "07:30")')
    return time(int(found[1]), int(found[2]))


def _moment(value: Any) -> date:
    """Read a day (a date) or a local moment (a datetime, a subclass of date)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"):
            try:
                moment = datetime.strptime(value.strip(), pattern)
            except ValueError:
                continue
            return moment if "%H" in pattern else moment.date()
    raise ValueError(f"bad date {value!r} (write 2023-10-15 or 15/10/2023, or add a time HH:MM)")


def _day(value: Any) -> date:
    day = _moment(value)
    if isinstance(day, datetime):
        raise ValueError(f"bad date {value!r}: a day here, without a time")
    return day


def _zone(value: Any) -> str:
    try:
        if isinstance(value, str):
            return ZoneInfo(value.strip()).key
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    raise ValueError(f"unknown timezone {value!r} (a zoneinfo key such as {DEFAULT_TZ})")


def _grace(value: Any) -> timedelta:
    text = str(value).strip() if isinstance(value, str | int) else ""
    found = GRACE.fullmatch(text) if text != "0" else GRACE.fullmatch("0m")
    if found is None or not text or isinstance(value, bool):
        raise ValueError(f"bad duration {value!r} (write 90m, 2h or 1h30m)")
    grace = timedelta(hours=int(found[1] or 0), minutes=int(found[2] or 0))
    if grace > timedelta(hours=24):
        raise ValueError(f"{value!r} is more than 24h")
    return grace


def _nfc(value: Any) -> Any:
    """Normalise text to NFC without outer spaces, as staff type it in several ways."""
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else value


def _blank_is_empty(value: Any) -> Any:
    """Read a key given without a value (`pool:`) as an empty mapping, to be checked as one."""
    return {} if value is None else value


def _text(value: Any) -> str:
    """Keep names and codes as NFC text, even when YAML read them as numbers."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"write a name or a code, not {value!r}")
    return str(_nfc(str(value)))


Listed = BeforeValidator(_listed)
Weekday = Annotated[int, PlainValidator(_weekday)]
LocalTime = Annotated[time, PlainValidator(_time)]
Moment = Annotated[date, PlainValidator(_moment)]
Day = Annotated[date, PlainValidator(_day)]
Text = Annotated[str, PlainValidator(_text)]
Slug = Annotated[str, Field(pattern=SLUG, max_length=80)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Window(_Strict):
    from_: Moment = Field(alias="from")
    to: Moment


class _Cadence(_Strict):
    days: Annotated[list[Weekday], BeforeValidator(_days)] = []
    times: Annotated[list[LocalTime], Listed, Field(min_length=1)]


class _Peak(_Strict):
    name: Text | None = None
    from_: Day = Field(alias="from")
    to: Day
    cadence: _Cadence


class _Occasion(_Strict):
    date: Day
    time: LocalTime
    content: Slug


class _Quiet(_Strict):
    from_: LocalTime = Field(alias="from")
    to: LocalTime


class _Commune(_Strict):
    province: Text
    commune: Text


class _Audience(_Strict):
    provinces: Annotated[list[Text], Listed] = []
    communes: Annotated[list[_Commune], Listed] = []
    roles: Annotated[list[Role], Listed] = []
    topics: Annotated[list[Topic], Listed] = []
    channels: Annotated[list[Channel], Listed] = []
    cooperatives: Annotated[list[Text], Listed] = []


class _Pool(_Strict):
    items: Annotated[list[Slug], Listed] = []
    kinds: Annotated[list[Kind], Listed] = []
    topics: Annotated[list[Topic], Listed] = []
    tags: Annotated[list[Slug], Listed] = []
    except_tags: Annotated[list[Slug], Listed] = []

    @model_validator(mode="after")
    def _not_empty(self) -> _Pool:
        if not (self.items or self.kinds or self.topics or self.tags):
            raise ValueError("empty pool rule: give at least one of items, kinds, topics, tags")
        return self


class _File(_Strict):
    id: Slug
    name: Annotated[str, BeforeValidator(_nfc), Field(min_length=1, max_length=200)]
    description: Annotated[str | None, BeforeValidator(_nfc)] = None
    timezone: Annotated[str, PlainValidator(_zone)] = DEFAULT_TZ
    window: _Window
    audience: _Audience | None = None
    pool: Annotated[_Pool | None, BeforeValidator(_blank_is_empty)] = None
    cadence: _Cadence | None = None
    peaks: Annotated[list[_Peak], Listed] = []
    occasions: Annotated[list[_Occasion], Listed] = []
    quiet_hours: _Quiet | None = None
    daily_cap: int = Field(default=2, ge=1, le=10, strict=True)  # strict: `yes` is no number
    late_grace: Annotated[timedelta, PlainValidator(_grace)] = timedelta(hours=2)


MODELS: dict[tuple[str, ...], type[BaseModel]] = {  # where a mapping sits -> its keys' model
    (): _File,
    ("window",): _Window,
    ("audience",): _Audience,
    ("audience", "communes"): _Commune,
    ("pool",): _Pool,
    ("cadence",): _Cadence,
    ("peaks",): _Peak,
    ("peaks", "cadence"): _Cadence,
    ("occasions",): _Occasion,
    ("quiet_hours",): _Quiet,
}

type Loc = tuple[str | int, ...]  # where a value sits in the document: keys and list indexes


@dataclass(frozen=True)
class Candidate:
    """A content item the pool may pick."""

    slug: str
    kind: str
    topic: str | None
    tags: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True)
class PoolRule:
    """Which content items a campaign sends: named ones, then those of kinds, topics or tags."""

    items: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    except_tags: tuple[str, ...] = ()

    def pick(self, candidates: Sequence[Candidate]) -> tuple[str, ...]:
        """Return the pool: named items in their order, then every match in candidate order.

        A match has one of the kinds, one of the topics and one of the tags, for each of these
        that is given, and none of `except_tags` (named items are kept: staff chose them).
        """
        known = {c.slug for c in candidates}
        unknown = [f"pool.items: unknown content item {s!r}" for s in self.items if s not in known]
        if unknown:
            raise CampaignProblem(unknown)
        matches = [
            c.slug
            for c in candidates
            if (self.kinds or self.topics or self.tags)
            and (not self.kinds or c.kind in self.kinds)
            and (not self.topics or c.topic in self.topics)
            and (not self.tags or set(c.tags) & set(self.tags))
            and not set(c.tags) & set(self.except_tags)
        ]
        return tuple(dict.fromkeys([*self.items, *matches]))


@dataclass(frozen=True)
class AudienceRule:
    """Who receives a campaign; empty fields set no limit (all empty: every active subscriber)."""

    provinces: tuple[str, ...] = ()
    communes: tuple[tuple[str, str], ...] = ()  # (province, commune), names or codes
    roles: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    cooperatives: tuple[str, ...] = ()  # public codes


@dataclass(frozen=True)
class CampaignFile:
    """A checked campaign file: its plan in the planner's terms, and who and what it targets."""

    slug: str
    name: str
    description: str | None
    tz: ZoneInfo
    starts_at: datetime  # aware, in tz
    ends_at: datetime  # aware, in tz; exclusive (a day as `to` means the end of that day)
    cadence: Cadence
    peaks: tuple[Peak, ...]
    peak_names: tuple[str | None, ...]  # one per peak
    occasions: tuple[Occasion, ...]
    quiet: QuietHours
    daily_cap: int
    grace: timedelta  # how late a send may still go out after its time
    pool: PoolRule
    audience: AudienceRule
    source: str  # the path as given
    checksum: str  # sha256 of the file's bytes

    def campaign(self, pool: tuple[str, ...]) -> planner.Campaign:
        """Return the planner's campaign, with the pool picked from the content library."""
        return planner.Campaign(
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            cadence=self.cadence,
            pool=pool,
            tz=self.tz,
            peaks=self.peaks,
            quiet=self.quiet,
            daily_cap=self.daily_cap,
            occasions=self.occasions,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the campaign as JSON-ready values, for a database column."""
        return {
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "timezone": self.tz.key,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "cadence": _cadence_json(self.cadence),
            "peaks": [
                {
                    "name": name,
                    "first_day": peak.first_day.isoformat(),
                    "last_day": peak.last_day.isoformat(),
                    "cadence": _cadence_json(peak.cadence),
                }
                for peak, name in zip(self.peaks, self.peak_names, strict=True)
            ],
            "occasions": [{"at": o.at.isoformat(), "content": o.content} for o in self.occasions],
            "quiet": {"start": _hhmm(self.quiet.start), "end": _hhmm(self.quiet.end)},
            "daily_cap": self.daily_cap,
            "grace_seconds": self.grace // timedelta(seconds=1),
            "pool": {key: list(values) for key, values in vars(self.pool).items()},
            "audience": {
                key: [*map(list, v)] if key == "communes" else list(v)
                for key, v in vars(self.audience).items()
            },
            "source": self.source,
            "checksum": self.checksum,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CampaignFile:
        """Rebuild a campaign from what `to_json` returned."""
        tz = ZoneInfo(data["timezone"])
        peaks = [
            (
                Peak(
                    date.fromisoformat(p["first_day"]),
                    date.fromisoformat(p["last_day"]),
                    _cadence_from(p["cadence"]),
                ),
                p["name"],
            )
            for p in data["peaks"]
        ]
        people = data["audience"]
        return cls(
            slug=data["slug"],
            name=data["name"],
            description=data["description"],
            tz=tz,
            starts_at=datetime.fromisoformat(data["starts_at"]).astimezone(tz),
            ends_at=datetime.fromisoformat(data["ends_at"]).astimezone(tz),
            cadence=_cadence_from(data["cadence"]),
            peaks=tuple(peak for peak, _ in peaks),
            peak_names=tuple(name for _, name in peaks),
            occasions=tuple(
                Occasion(datetime.fromisoformat(o["at"]).astimezone(tz), o["content"])
                for o in data["occasions"]
            ),
            quiet=QuietHours(
                time.fromisoformat(data["quiet"]["start"]), time.fromisoformat(data["quiet"]["end"])
            ),
            daily_cap=data["daily_cap"],
            grace=timedelta(seconds=data["grace_seconds"]),
            pool=PoolRule(**{k: tuple(v) for k, v in data["pool"].items()}),
            audience=AudienceRule(
                **{k: tuple(v) for k, v in people.items() if k != "communes"},
                communes=tuple((p, c) for p, c in people["communes"]),
            ),
            source=data["source"],
            checksum=data["checksum"],
        )


def _hhmm(moment: time) -> str:
    return moment.isoformat(timespec="minutes")


def _cadence_json(cadence: Cadence) -> dict[str, Any]:
    return {"days": sorted(cadence.weekdays), "times": [_hhmm(t) for t in cadence.times]}


def _cadence_from(data: dict[str, Any]) -> Cadence:
    return Cadence(tuple(map(time.fromisoformat, data["times"])), frozenset(data["days"]))


def shipped_campaigns() -> list[Path]:
    """Return the campaign files shipped with the product, in name order."""
    return sorted(SHIPPED.glob("*.yaml"))


def read_campaign(path: Path, *, known: Collection[str] | None = None) -> CampaignFile:
    """Read and check a campaign file (UTF-8); raise CampaignProblem with every error found."""
    try:
        text = path.read_bytes().decode("utf-8")  # bytes, not read_text: keep \r\n for the sum
    except UnicodeDecodeError:
        raise CampaignProblem([f"{path}:1: not UTF-8 text"]) from None
    return parse_campaign(text, str(path), known=known)


def parse_campaign(text: str, source: str, *, known: Collection[str] | None = None) -> CampaignFile:
    """Parse and check a campaign file's text; raise CampaignProblem with every error found.

    Given `known` (the content slugs that exist), named pool items and occasions are checked
    against it too, each with its line.
    """
    try:
        root, document = _parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or exc
        raise CampaignProblem([f"{source}:{line}: not valid YAML: {problem}"]) from None
    if not isinstance(root, yaml.MappingNode) or not isinstance(document, dict):
        keys = ", ".join(f.alias or n for n, f in _File.model_fields.items())
        raise CampaignProblem([f"{source}:1: a campaign file is a mapping of keys ({keys})"])
    problems: list[tuple[int, str]] = _twice(root)
    model: _File | None = None
    try:
        model = _File.model_validate(document)
    except ValidationError as exc:
        problems += [(_line(root, loc), what) for loc, what in _problems(exc)]
    problems += [(_line(root, loc), what) for loc, what in _checks(document, known)]
    if problems or model is None:
        problems.sort(key=lambda problem: problem[0])
        raise CampaignProblem([f"{source}:{line}: {what}" for line, what in problems])
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _build(model, source, digest)


class _Loader(yaml.SafeLoader):
    """A safe loader that keeps an impossible date (2023-02-30) as text, for a clear error."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:  # PyYAML raises it bare, without a line
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse YAML once into its node tree (lines) and its Python values."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _twice(node: yaml.Node) -> list[tuple[int, str]]:
    """Return a problem per key given twice in any mapping (YAML would keep the last one)."""
    problems: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if str(key.value) in seen:
                problems.append((key.start_mark.line + 1, f"key {key.value!r} given twice"))
            seen.add(str(key.value))
            problems += _twice(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            problems += _twice(item)
    return problems


def _line(root: yaml.Node, loc: Loc) -> int:
    """Return the line of the deepest key or list item of a location that the file has."""
    node, line = root, 1  # a key missing at the top: the file's first line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, v) for k, v in node.value if k.value == part]
            if not pairs:
                break
            key, node = pairs[-1]  # the value YAML kept
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _problems(exc: ValidationError) -> list[tuple[Loc, str]]:
    """Turn pydantic's errors into (where in the document, "key.sub: what is wrong")."""
    found: list[tuple[Loc, str]] = []
    for error in exc.errors():
        loc, kind, given = tuple(error["loc"]), error["type"], error["input"]
        if kind == "missing":
            what = "missing (required)"
        elif kind == "extra_forbidden":
            model = MODELS.get(tuple(p for p in loc[:-1] if isinstance(p, str)), _File)
            allowed = ", ".join(f.alias or n for n, f in model.model_fields.items())
            what = f"unknown key (allowed: {allowed})"
        elif kind == "enum":
            name = ITEM_NAMES.get(str(loc[-2]) if len(loc) > 1 else "", "value")
            what = f"unknown {name} {given!r} (accepted: {error['ctx']['expected']})"
        elif kind == "string_pattern_mismatch":
            what = f"{given!r} is not a slug (lower-case letters, digits, single hyphens)"
        elif kind == "too_short":
            what = "empty: give at least one"
        elif kind == "value_error":
            what = error["msg"].removeprefix("Value error, ")
        else:
            what = error["msg"] + (f", not {given!r}" if isinstance(given, str | int) else "")
        where = ".".join(str(part) for part in loc)
        found.append((loc, f"{where}: {what}" if where else what))
    return found


def _valid[T](parse: Callable[[Any], T], value: Any) -> T | None:
    """Return a part of the document checked, or None: its problems are reported elsewhere."""
    try:
        return parse(value)
    except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
        return None


def _checks(document: dict[str, Any], known: Collection[str] | None) -> list[tuple[Loc, str]]:
    """Check what involves several keys, on the parts that are valid on their own."""
    tz = ZoneInfo(_valid(_zone, document.get("timezone", DEFAULT_TZ)) or DEFAULT_TZ)
    window = document.get("window")
    window = window if isinstance(window, dict) else {}
    first, last = _valid(_moment, window.get("from")), _valid(_moment, window.get("to"))
    span = _span(first, last, tz) if first is not None and last is not None else None
    problems: list[tuple[Loc, str]] = []
    if span is not None and span[1] <= span[0]:
        problems.append((("window", "to"), "window.to: must be after window.from"))
        span = None
    peaks, occasions = _listed(document.get("peaks")), _listed(document.get("occasions"))
    for i, peak in enumerate(peaks):
        problems += _peak_problems(i, peak, span) if isinstance(peak, dict) else []
    for i, occasion in enumerate(occasions):
        problems += (
            _occasion_problems(i, occasion, span, known) if isinstance(occasion, dict) else []
        )
    pool = document.get("pool")
    named = _listed(pool.get("items")) if isinstance(pool, dict) else []
    for i, slug in enumerate(named):
        if known is not None and isinstance(slug, str) and slug not in known:
            problems.append(
                (("pool", "items", i), f"pool.items.{i}: unknown content item {slug!r}")
            )
    if document.get("cadence") is None and not occasions:
        problems.append((("cadence",), "cadence: missing (required unless occasions are given)"))
    if "pool" not in document and (document.get("cadence") is not None or peaks):
        problems.append((("pool",), "pool: missing (what the cadence sends: items, kinds, ...)"))
    return problems


def _peak_problems(
    i: int, peak: dict[str, Any], span: tuple[datetime, datetime] | None
) -> list[tuple[Loc, str]]:
    """Check that a peak's days are in order and inside the window."""
    first, last = _valid(_day, peak.get("from")), _valid(_day, peak.get("to"))
    problems: list[tuple[Loc, str]] = []
    if first is not None and last is not None and first > last:
        what = f"peaks.{i}.to: {last:%d/%m/%Y} is before from ({first:%d/%m/%Y})"
        problems.append((("peaks", i, "to"), what))
    if span is None:
        return problems
    lowest, highest = _span_days(span)
    for key, day in (("from", first), ("to", last)):
        if day is not None and not lowest <= day <= highest:
            what = f"{day:%d/%m/%Y} is outside the window ({_days_text(span)})"
            problems.append((("peaks", i, key), f"peaks.{i}.{key}: {what}"))
    return problems


def _occasion_problems(
    i: int,
    occasion: dict[str, Any],
    span: tuple[datetime, datetime] | None,
    known: Collection[str] | None,
) -> list[tuple[Loc, str]]:
    """Check that an occasion falls inside the window and sends a known item."""
    day, moment = _valid(_day, occasion.get("date")), _valid(_time, occasion.get("time"))
    problems: list[tuple[Loc, str]] = []
    if span is not None and day is not None and moment is not None:
        at = datetime.combine(day, moment, span[0].tzinfo)
        if not span[0] <= at < span[1]:
            what = f"{at:%d/%m/%Y %H:%M} is outside the window ({_days_text(span)})"
            problems.append((("occasions", i, "date"), f"occasions.{i}.date: {what}"))
    content = occasion.get("content")
    if known is not None and isinstance(content, str) and content not in known:
        what = f"occasions.{i}.content: unknown content item {content!r}"
        problems.append((("occasions", i, "content"), what))
    return problems


def _span_days(span: tuple[datetime, datetime]) -> tuple[date, date]:
    """Return the first and last local day that a window touches."""
    return span[0].date(), (span[1] - timedelta(microseconds=1)).date()


def _days_text(span: tuple[datetime, datetime]) -> str:
    first, last = _span_days(span)
    return f"{first:%d/%m/%Y} .. {last:%d/%m/%Y}"


def _span(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the window's start and (exclusive) end: a day as `to` means its end."""
    return _local(first, tz, end=False), _local(last, tz, end=True)


def _local(moment: date, tz: ZoneInfo, *, end: bool) -> datetime:
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)
    return datetime.combine(moment + timedelta(days=1 if end else 0), time(0), tz)


def _cadence(cadence: _Cadence) -> Cadence:
    return Cadence(tuple(sorted(set(cadence.times))), frozenset(cadence.days))


def _build(model: _File, source: str, checksum: str) -> CampaignFile:
    """Turn a checked file into the campaign's values."""
    tz = ZoneInfo(model.timezone)
    starts_at, ends_at = _span(model.window.from_, model.window.to, tz)
    quiet = model.quiet_hours
    return CampaignFile(
        slug=model.id,
        name=model.name,
        description=model.description,
        tz=tz,
        starts_at=starts_at,
        ends_at=ends_at,
        cadence=_cadence(model.cadence) if model.cadence else Cadence(()),
        peaks=tuple(Peak(p.from_, p.to, _cadence(p.cadence)) for p in model.peaks),
        peak_names=tuple(p.name for p in model.peaks),
        occasions=tuple(
            Occasion(datetime.combine(o.date, o.time, tz), o.content) for o in model.occasions
        ),
        quiet=QuietHours(quiet.from_, quiet.to) if quiet else QuietHours(),
        daily_cap=model.daily_cap,
        grace=model.late_grace,
        pool=_pool_rule(model.pool),
        audience=_audience_rule(model.audience or _Audience()),
        source=source,
        checksum=checksum,
    )


def _pool_rule(pool: _Pool | None) -> PoolRule:
    if pool is None:  # a campaign of occasions only
        return PoolRule()
    return PoolRule(
        tuple(pool.items),
        tuple(map(str, pool.kinds)),
        tuple(map(str, pool.topics)),
        tuple(pool.tags),
        tuple(pool.except_tags),
    )


def _audience_rule(audience: _Audience) -> AudienceRule:
    return AudienceRule(
        tuple(audience.provinces),
        tuple((c.province, c.commune) for c in audience.communes),
        tuple(map(str, audience.roles)),
        tuple(map(str, audience.topics)),
        tuple(map(str, audience.channels)),
        tuple(audience.cooperatives),
    )
