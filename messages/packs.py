"""Read and check content packs: YAML files of ready messages, each problem with its line.

A pack is a YAML mapping of defaults (`kind`, `topic`, `tags`) and `items`, a list of messages.
Each item has an `id` (a stable slug), a kind, a topic, a title, tags and the values its kind's
template reads. PyYAML's nodes keep their line numbers, so every problem names the file and the
line of the item or key at fault. Nothing here touches the database.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from jinja2 import meta
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from db.models import Topic
from messages.kinds import Kind, render_kind
from messages.render import ENVIRONMENT, SAMPLE_SUBSCRIBER, check_literal

SHIPPED = Path(__file__).resolve().parent / "packs"
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Values a template tests with `if` before using: an item may leave them out (stored as null).
OPTIONAL = {
    Kind.POLICY: frozenset({"source"}),
    Kind.SLOGAN: frozenset({"occasion"}),
    Kind.MODEL_STORY: frozenset({"results"}),
    Kind.MARKET: frozenset({"note", "source"}),
}
# Values the campaign calendar fills when it sends, and what an item gives it instead.
FILLED = {Kind.COMMEMORATION: frozenset({"day", "years"})}
EXTRA = {Kind.COMMEMORATION: frozenset({"when", "since"})}
CHECK_DAY = date(2001, 1, 1)  # any day serves to check that an item renders


class When(BaseModel):
    """When a yearly day falls: a fixed date, or the nth weekday of a month (nth -1: the last)."""

    model_config = ConfigDict(extra="forbid")
    month: int = Field(ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    weekday: int | None = Field(default=None, ge=0, le=6)  # Monday 0 … Sunday 6, as in Python
    nth: int | None = Field(default=None, ge=-1, le=4)

    @model_validator(mode="after")
    def _one_rule(self) -> When:
        by_day = self.day is not None and self.weekday is None and self.nth is None
        by_weekday = self.day is None and self.weekday is not None and self.nth not in (None, 0)
        if not (by_day or by_weekday):
            raise ValueError("give either day, or weekday and nth (1-4, or -1 for the last)")
        if self.day is not None:
            date(2001, self.month, self.day)  # a year without 29/2, as most are
        return self


class _Commemoration(BaseModel):
    model_config = ConfigDict(extra="ignore")
    when: When
    since: int | None = Field(default=None, ge=1800, le=2100)


Tag = Annotated[str, Field(pattern=SLUG, max_length=40)]


class _Pack(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind | None = None
    topic: Topic | None = None
    tags: list[Tag] = []
    items: list[Any]


class _Item(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(pattern=SLUG, max_length=80)
    kind: Kind
    topic: Topic
    title: str = Field(min_length=1, max_length=200)
    tags: list[Tag] = []


@dataclass(frozen=True)
class PackItem:
    """One checked message from a pack, ready to be stored in the content library."""

    slug: str
    kind: Kind
    topic: str
    title: str
    data: dict[str, Any]
    tags: list[str]
    pack: str
    checksum: str
    where: str  # "file:line", for messages about it


class PackProblem(ValueError):
    """Pack files that cannot be loaded; `errors` holds one "file:line: what" per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def occurrence(when: dict[str, Any], year: int) -> date:
    """Return the day a yearly rule (`when` of a commemoration) falls on in a year."""
    rule = When.model_validate(when)
    if rule.day is not None:
        return date(year, rule.month, rule.day)
    assert rule.weekday is not None and rule.nth is not None
    if rule.nth > 0:
        first = date(year, rule.month, 1)
        return first + timedelta(days=(rule.weekday - first.weekday()) % 7 + 7 * (rule.nth - 1))
    last = date(year, rule.month, calendar.monthrange(year, rule.month)[1])
    return last - timedelta(days=(last.weekday() - rule.weekday) % 7)


def next_occurrence(when: dict[str, Any], today: date) -> date:
    """Return the first day on or after today that a yearly rule falls on."""
    this_year = occurrence(when, today.year)
    return this_year if this_year >= today else occurrence(when, today.year + 1)


def template_values(kind: Kind, data: dict[str, Any], today: date) -> dict[str, Any]:
    """Return what a kind's template reads: the data, and what the calendar fills from it."""
    values = {k: v for k, v in data.items() if k not in EXTRA.get(kind, ())}
    values.update({k: None for k in OPTIONAL.get(kind, ()) if k not in values})
    if kind is Kind.COMMEMORATION:
        day = next_occurrence(data["when"], today)
        since = data.get("since")
        values.setdefault("day", day)
        values.setdefault("years", day.year - since if since and day.year > since else None)
    return values


def render_content(
    kind: Kind | str, data: dict[str, Any], *, today: date, subscriber: dict[str, Any] | None = None
) -> str:
    """Render a content item as Telegram HTML; commemorations fall on their next day from today.

    The HTML is checked as Telegram will read it (a TemplateProblem names the tag at fault), so
    an item that passes when its pack is read does not fail when it is sent.
    """
    kind = Kind(kind)
    values = template_values(kind, data, today)
    subscriber = dict(subscriber or SAMPLE_SUBSCRIBER)  # each render its own copy
    return check_literal(render_kind(kind, subscriber=subscriber, **values))


def checksum(kind: str, title: str, data: dict[str, Any], topic: str, tags: list[str]) -> str:
    """Return the sha256 of a canonical JSON of what an item says: a reload compares these."""
    content = {"kind": kind, "title": title, "data": data, "topic": topic, "tags": tags}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pack_files(directory: Path) -> list[Path]:
    """Return the pack files of a directory, in name order."""
    return sorted(directory.glob("*.yaml"))


def read_packs(directory: Path = SHIPPED) -> list[PackItem]:
    """Read and check every pack in a directory; raise PackProblem with every error found."""
    files = pack_files(directory)
    items: list[PackItem] = []
    errors = [] if files else [f"{directory}: no pack files (*.yaml) here"]
    for path in files:
        found, problems = read_pack(path)
        items += found
        errors += problems
    first: dict[str, PackItem] = {}
    for item in items:
        if item.slug in first:
            errors.append(
                f"{item.where}: duplicate id {item.slug!r}, first at {first[item.slug].where}"
            )
        first.setdefault(item.slug, item)
    if errors:
        raise PackProblem(errors)
    return items


def read_pack(path: Path) -> tuple[list[PackItem], list[str]]:
    """Read one pack file: its checked items and the problems found, each with its line."""
    try:
        root, document = _parse(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return [], [f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', None) or exc}"]
    except UnicodeDecodeError:
        return [], [f"{path}:1: not UTF-8 text"]
    if not isinstance(root, yaml.MappingNode) or not isinstance(document, dict):
        return [], [f"{path}:1: a pack is a mapping with 'items:', a list of messages"]
    lines, errors = _keys(path, root)
    try:
        pack = _Pack.model_validate(document)
    except ValidationError as exc:
        return [], errors + [f"{path}:{lines.get(k or '', 1)}: {w}" for k, w in _problems(exc)]
    if errors:
        return [], errors
    defaults = pack.model_dump(exclude_none=True, exclude={"items"})
    items_node = next(node for key, node in root.value if key.value == "items")
    items: list[PackItem] = []
    for node, value in zip(items_node.value, pack.items, strict=True):
        item, problems = _item(path, node, value, defaults)
        errors += problems
        items += [item] if item is not None else []
    return items, errors


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse YAML once into its node tree (lines) and its Python values."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _keys(path: Path, node: yaml.MappingNode) -> tuple[dict[str, int], list[str]]:
    """Return the line of each key of a mapping, and a problem per key given twice."""
    lines: dict[str, int] = {}
    errors = []
    for key, _ in node.value:
        line = key.start_mark.line + 1
        if str(key.value) in lines:  # YAML would silently keep the last one
            errors.append(f"{path}:{line}: key {key.value!r} given twice")
        lines.setdefault(str(key.value), line)
    return lines, errors


def _item(
    path: Path, node: yaml.Node, value: Any, defaults: dict[str, Any]
) -> tuple[PackItem | None, list[str]]:
    """Check one item of a pack; return it, or None and its problems."""
    line = node.start_mark.line + 1
    where = f"{path}:{line}"
    if not isinstance(node, yaml.MappingNode) or not isinstance(value, dict):
        return None, [f"{where}: an item is a mapping of keys (id, title, ...) to values"]
    lines, errors = _keys(path, node)
    item, data, problems = _checked(value, defaults)
    label = f"item {value.get('id', '(no id)')!r}"
    errors += [f"{path}:{lines.get(k or '', line)}: {label}: {w}" for k, w in problems]
    if item is None or errors:
        return None, errors
    try:  # data reaches filters too (a price that is not a number)
        render_content(item.kind, data, today=CHECK_DAY)
    except (TypeError, ValueError) as exc:
        return None, [f"{where}: {label}: does not render: {exc}"]
    title, topic = _normal(item.title), item.topic.value
    digest = checksum(item.kind.value, title, data, topic, item.tags)
    return PackItem(item.id, item.kind, topic, title, data, item.tags, path.stem, digest, where), []


def _checked(
    value: dict[str, Any], defaults: dict[str, Any]
) -> tuple[_Item | None, dict[str, Any], list[tuple[str | None, str]]]:
    """Validate an item's fields and its kind's values; fill the title and optional values."""
    own = value.get("tags") or []
    tags = list(dict.fromkeys([*defaults.get("tags", []), *own])) if isinstance(own, list) else own
    try:
        item = _Item.model_validate({**defaults, **value, "tags": tags})
    except ValidationError as exc:
        return None, {}, _problems(exc)
    data = _normal(item.model_extra or {})
    problems = _data_problems(item.kind, data)
    if "title" in template_names(item.kind):
        data["title"] = _normal(item.title)
    data.update({k: None for k in OPTIONAL.get(item.kind, ()) if k not in data})
    return item, data, problems


def _data_problems(kind: Kind, data: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Check an item's values against what its kind's template reads."""
    names = template_names(kind) - FILLED.get(kind, frozenset()) - {"subscriber", "title"}
    allowed = names | EXTRA.get(kind, frozenset())
    problems: list[tuple[str | None, str]] = [
        (None, f"missing {key!r}, which a {kind.value} message needs")
        for key in sorted(names - OPTIONAL.get(kind, frozenset()))
        if data.get(key) in (None, "", [], {})
    ]
    takes = ", ".join(sorted(allowed))
    problems += [
        (key, f"unknown key {key!r} (a {kind.value} message takes {takes})")
        for key in sorted(set(data) - allowed)
    ]
    for key, value in data.items():
        try:
            json.dumps(value)
        except TypeError:
            problems.append((key, f"{key}: write dates and times as quoted text, not {value!r}"))
    if kind is Kind.COMMEMORATION:
        try:
            _Commemoration.model_validate(data)
        except ValidationError as exc:
            problems += _problems(exc)
    return problems


def _problems(exc: ValidationError) -> list[tuple[str | None, str]]:
    """Turn pydantic's errors into (the key at fault, "key.sub: what is wrong")."""
    found: list[tuple[str | None, str]] = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        key = str(error["loc"][0]) if error["loc"] else None
        what = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        found.append((key, f"{where}: {what}" if where else str(what)))
    return found


def _normal(value: Any) -> Any:
    """Normalise text to NFC without outer spaces, however deep, so checksums are stable."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    return value


@cache
def template_names(kind: Kind) -> frozenset[str]:
    """Return the top-level names a kind's template reads."""
    assert ENVIRONMENT.loader is not None
    source, _, _ = ENVIRONMENT.loader.get_source(ENVIRONMENT, f"{kind.value}.j2")
    return frozenset(meta.find_undeclared_variables(ENVIRONMENT.parse(source)))
