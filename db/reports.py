"""Sum up a period month by month and area by area, for the yearly and the ad-hoc reports.

The figures mean what they mean in an officer's /stats (db.stats), bucketed by month:

- broadcasts: broadcasts started in the month with at least one delivery to a subscriber of
  the area; messages (deliveries) are those of the broadcasts started in the month;
- sent: deliveries the platform accepted; failed: deliveries that will not be sent, not
  counting the blocked ones; blocked: failed deliveries whose error says "blocked: ..." or whose
  subscriber is now blocked; reached: distinct subscribers with a sent delivery;
- new: subscribers who consented in the month; stopped: subscribers who said /stop in it.

Subscribers, deliveries and training count in the subscriber's area; feedback, reactions, poll
answers and OCOP taps in the commune they carry, as it was when they were made.

Every count is an aggregate query; only the median reply time is taken from the durations of
the answered feedback, in Python, as a percentile is not portable between the databases. Each
total (per month, per area, for the period) is its own query, so distinct counts (broadcasts,
members reached) are never added up twice.

Months are local: the period's month starts are turned into UTC instants here and a CASE over
them puts each row in its month, the same on SQLite and PostgreSQL and in any time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal_column, not_, or_, select
from sqlalchemy.orm import Session, aliased, join
from sqlalchemy.sql.expression import Select

from db.models import (
    Area,
    AreaLevel,
    Broadcast,
    Delivery,
    DeliveryStatus,
    Feedback,
    OcopTap,
    Poll,
    PollAnswer,
    Reaction,
    ReactionValue,
    RegistrationStatus,
    Subscriber,
    SubscriberStatus,
    TrainingRegistration,
)
from db.stats import BLOCKED_PREFIX
from db.textmatch import fold

NATIONWIDE = "Toàn quốc"
UNKNOWN_AREA = "Chưa rõ địa bàn"  # nationwide: rows with no area (a member still registering)
OTHER_TOPIC = "khac"  # feedback the triage gave no topic
SPOTLIGHT_KIND = "ocop_spotlight"  # messages.kinds.Kind.OCOP_SPOTLIGHT
WHOLE = -1  # a key part that is not grouped on: the whole period, or the whole scope

Key = tuple[int, int]  # (month index or WHOLE, area id (0: unknown) or WHOLE)
Figures = dict[Key, dict[str, Any]]


@dataclass(frozen=True)
class AreaMonth:
    """What happened in one area in one month (or in the whole scope, or the whole period)."""

    month: date  # the first of the month; for a whole-period figure, the period's first month
    area_id: int  # 0: no area known (or, for a nationwide total, the whole country)
    area: str
    broadcasts: int = 0
    deliveries: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    reached: int = 0
    new: int = 0
    stopped: int = 0
    feedback: int = 0
    feedback_by_topic: dict[str, int] = field(default_factory=dict)
    flagged: int = 0
    answered: int = 0
    reply_hours_median: float | None = None
    useful: int = 0
    unclear: int = 0
    registered: int = 0  # registered or waiting for a seat
    cancelled: int = 0
    attended: int = 0
    rated: int = 0
    spotlights: int = 0  # OCOP spotlight deliveries sent
    taps: int = 0


@dataclass(frozen=True)
class PollRow:
    """One option of a poll created in the period, with its answers (in the scope)."""

    poll_id: int
    question: str
    status: str
    option: str
    total: int
    by_area: dict[str, int]


@dataclass(frozen=True)
class Report:
    """A period's figures for a scope: by month and area, totals, and the polls."""

    start: date
    end: date
    scope: str
    generated_at: datetime
    rows: list[AreaMonth]  # month x area, only those with something, by month then area
    polls: list[PollRow]
    areas: list[str]  # the areas of the rows, in display order
    months: list[date]  # every month of the period
    month_totals: list[AreaMonth]  # the scope, every month
    area_totals: list[AreaMonth]  # each area of the rows, over the whole period
    total: AreaMonth  # the scope over the whole period

    def totals_by_month(self) -> list[AreaMonth]:
        """Return the scope's figures for every month, each counted by its own query."""
        return self.month_totals


def year_period(year: int) -> tuple[date, date]:
    """Return the yearly report's period: 1/11 of the year before to 31/10 (due before 10/11)."""
    return date(year - 1, 11, 1), date(year, 10, 31)


def scope_name(area: Area | None) -> str:
    """Name the report's scope as a person reads it."""
    if area is None:
        return NATIONWIDE
    if area.level == AreaLevel.COMMUNE and area.parent is not None:
        return f"{area.name}, {area.parent.name}"
    return area.name


@dataclass(frozen=True)
class _Frame:
    """The period as UTC instants, its local months, and the scope's area grouping."""

    months: list[date]
    bounds: list[datetime]  # the start, each later month's start, the end (excluded)
    scope: Area | None

    def month_of(self, when: Any) -> ColumnElement[int]:
        return case(*((when < bound, i) for i, bound in enumerate(self.bounds[1:])))

    def area_key(self, place: Any) -> ColumnElement[int]:
        # Nationwide a commune counts in its province; a row with no area gets 0.
        if self.scope is None:
            return func.coalesce(place.parent_id, place.id, 0)
        return place.id  # type: ignore[no-any-return]

    def where(self, when: Any, place: Any) -> list[ColumnElement[bool]]:
        return [when >= self.bounds[0], when < self.bounds[-1], *self.in_scope(place)]

    def in_scope(self, place: Any) -> list[ColumnElement[bool]]:
        if self.scope is None:
            return []
        # In a province, a member who gave only the province is a row of their own.
        return [or_(place.id == self.scope.id, place.parent_id == self.scope.id)]


def _frame(start: date, end: date, scope: Area | None, tz: ZoneInfo) -> _Frame:
    def instant(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)

    months, bounds = [], [instant(start)]
    month = start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
        bounds.append(instant(min(month, end + timedelta(days=1))))
    return _Frame(months, bounds, scope)


@dataclass(frozen=True)
class _Grouping:
    """Group a query by month, by area, by both or by neither."""

    session: Session
    frame: _Frame
    by_month: bool
    by_area: bool

    def keys(self, when: Any, place: Any) -> list[ColumnElement[int]]:
        months = [self.frame.month_of(when)] if self.by_month else []
        return months + ([self.frame.area_key(place)] if self.by_area else [])

    def rows(
        self, query: Select, n: int, extra: int = 0, group: bool = True
    ) -> Iterator[tuple[Key, Sequence]]:
        # GROUP BY position: with bound parameters in the CASE, PostgreSQL would not see the
        # select's expression and the GROUP BY's as the same one.
        if group and n + extra:
            query = query.group_by(*(literal_column(str(i)) for i in range(1, n + extra + 1)))
        for row in self.session.execute(query):
            parts = list(row[:n])
            month = parts.pop(0) if self.by_month else WHOLE
            area = parts.pop(0) if self.by_area else WHOLE
            yield (month, area), row[n:]


def _count(g: _Grouping, source: Any, when: Any, area: Any, figures: dict[str, Any]) -> Figures:
    place = aliased(Area)
    keys = g.keys(when, place)
    query = (
        select(*keys, *figures.values())
        .select_from(source)
        .outerjoin(place, place.id == area)
        .where(*g.frame.where(when, place))
    )
    return {
        key: dict(zip(figures, values, strict=True)) for key, values in g.rows(query, len(keys))
    }


def _deliveries(g: _Grouping) -> Figures:
    sent = Delivery.status == DeliveryStatus.SENT
    failed = Delivery.status == DeliveryStatus.FAILED
    # As in db.stats: substr, not LIKE (whose case rules differ), and no NULL from a missing error.
    blocked = or_(
        func.substr(func.coalesce(Delivery.error, ""), 1, len(BLOCKED_PREFIX)) == BLOCKED_PREFIX,
        Subscriber.status == SubscriberStatus.BLOCKED,
    )
    source = join(Delivery, Broadcast, Broadcast.id == Delivery.broadcast_id).join(
        Subscriber, Subscriber.id == Delivery.subscriber_id
    )
    figures = {
        "broadcasts": func.count(distinct(Broadcast.id)),
        "deliveries": func.count(),
        "sent": func.count(case((sent, 1))),
        "failed": func.count(case((and_(failed, not_(blocked)), 1))),
        "blocked": func.count(case((and_(failed, blocked), 1))),
        "reached": func.count(distinct(case((sent, Delivery.subscriber_id)))),
        "spotlights": func.count(case((and_(sent, Broadcast.kind == SPOTLIGHT_KIND), 1))),
    }
    return _count(g, source, Broadcast.started_at, Subscriber.area_id, figures)


def _training(g: _Grouping) -> list[Figures]:
    source = join(
        TrainingRegistration, Subscriber, Subscriber.id == TrainingRegistration.subscriber_id
    )
    status, area = TrainingRegistration.status, Subscriber.area_id
    signed_up = status.in_([RegistrationStatus.REGISTERED, RegistrationStatus.WAITING])
    registrations = {
        "registered": func.count(case((signed_up, 1))),
        "cancelled": func.count(case((status == RegistrationStatus.CANCELLED, 1))),
    }
    rated = {"rated": func.count(TrainingRegistration.rating)}
    return [
        _count(g, source, TrainingRegistration.registered_at, area, registrations),
        _count(g, source, TrainingRegistration.attended_at, area, {"attended": func.count()}),
        _count(g, source, TrainingRegistration.rated_at, area, rated),
    ]


def _simple(g: _Grouping) -> list[Figures]:
    feedback = {
        "feedback": func.count(),
        "flagged": func.count(case((Feedback.flagged.is_(True), 1))),
        "answered": func.count(Feedback.answered_at),
    }
    reactions = {
        "useful": func.count(case((Reaction.value == ReactionValue.USEFUL, 1))),
        "unclear": func.count(case((Reaction.value == ReactionValue.UNCLEAR, 1))),
    }
    return [
        _count(g, Subscriber, Subscriber.consent_at, Subscriber.area_id, {"new": func.count()}),
        _count(g, Subscriber, Subscriber.stopped_at, Subscriber.area_id, {"stopped": func.count()}),
        _count(g, Feedback, Feedback.received_at, Feedback.area_id, feedback),
        _count(g, Reaction, Reaction.at, Reaction.area_id, reactions),
        _count(g, OcopTap, OcopTap.tapped_at, OcopTap.area_id, {"taps": func.count()}),
    ]


def _topics(g: _Grouping) -> Figures:
    place = aliased(Area)
    keys = g.keys(Feedback.received_at, place)
    topic = func.coalesce(Feedback.topic, OTHER_TOPIC)
    query = (
        select(*keys, topic, func.count())
        .select_from(Feedback)
        .outerjoin(place, place.id == Feedback.area_id)
        .where(*g.frame.where(Feedback.received_at, place))
    )
    found: Figures = defaultdict(lambda: {"feedback_by_topic": {}})
    for key, (name, count) in g.rows(query, len(keys), extra=1):
        found[key]["feedback_by_topic"][name] = count
    return found


def _reply_medians(g: _Grouping) -> Figures:
    place = aliased(Area)
    keys = g.keys(Feedback.received_at, place)
    query = (
        select(*keys, Feedback.received_at, Feedback.answered_at)
        .select_from(Feedback)
        .outerjoin(place, place.id == Feedback.area_id)
        .where(*g.frame.where(Feedback.received_at, place), Feedback.answered_at.is_not(None))
    )
    hours: dict[Key, list[float]] = defaultdict(list)
    for key, (received, answered) in g.rows(query, len(keys), group=False):
        hours[key].append((answered - received).total_seconds() / 3600)
    return {key: {"reply_hours_median": median(values)} for key, values in hours.items()}


def _figures(g: _Grouping) -> Figures:
    merged: Figures = defaultdict(dict)
    for part in [_deliveries(g), *_training(g), *_simple(g), _topics(g), _reply_medians(g)]:
        for key, values in part.items():
            merged[key].update(values)
    return merged


def _area_names(session: Session, frame: _Frame, ids: set[int]) -> dict[int, str]:
    query = select(Area.id, Area.name).where(Area.id.in_(ids))
    names = {area_id: name for area_id, name in session.execute(query)}
    names[0] = UNKNOWN_AREA
    if frame.scope is not None and frame.scope.level == AreaLevel.PROVINCE:
        names[frame.scope.id] = f"{frame.scope.name} (chưa rõ xã)"
    return names


def _polls(session: Session, frame: _Frame) -> tuple[list[Poll], dict[tuple[int, int, int], int]]:
    polls = list(
        session.scalars(
            select(Poll)
            .where(Poll.created_at >= frame.bounds[0], Poll.created_at < frame.bounds[-1])
            .order_by(Poll.created_at, Poll.id)
        )
    )
    place = aliased(Area)
    key = frame.area_key(place)
    query = (
        select(PollAnswer.poll_id, PollAnswer.choice, key, func.count())
        .outerjoin(place, place.id == PollAnswer.area_id)
        .where(PollAnswer.poll_id.in_([p.id for p in polls]), *frame.in_scope(place))
        .group_by(literal_column("1"), literal_column("2"), literal_column("3"))
    )
    counts = {(poll, choice, area): n for poll, choice, area, n in session.execute(query)}
    return polls, counts


def _poll_rows(
    polls: list[Poll], counts: dict[tuple[int, int, int], int], names: dict[int, str]
) -> list[PollRow]:
    rows = []
    for poll in polls:
        for choice, option in enumerate(poll.options):
            by_area = {
                names[area]: n for (p, c, area), n in counts.items() if (p, c) == (poll.id, choice)
            }
            total = sum(by_area.values())
            rows.append(PollRow(poll.id, poll.question, poll.status.value, option, total, by_area))
    return rows


@dataclass(frozen=True)
class _Rows:
    """Turn grouped figures into rows named and ordered as the report shows them."""

    frame: _Frame
    names: dict[int, str]

    def make(self, key: Key, values: dict[str, Any]) -> AreaMonth:
        month, place = key
        scope = self.frame.scope
        where = (0 if scope is None else scope.id, scope_name(scope))
        if place != WHOLE:
            where = (place, self.names[place])
        return AreaMonth(self.frame.months[max(month, 0)], *where, **values)

    def sorted(self, figures: Figures) -> list[AreaMonth]:
        rows = [self.make(key, values) for key, values in figures.items()]
        # By month, then by name without accents; nationwide, the unknown area last.
        return sorted(rows, key=lambda r: (r.month, r.area_id == 0, fold(r.area)))


def build_report(
    session: Session, start: date, end: date, area: Area | None, tz: ZoneInfo, now: datetime
) -> Report:
    """Count everything of the period [start, end] (local dates) in an area (None: nationwide)."""
    if start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    frame = _frame(start, end, area, tz)
    grids = {
        (m, a): _figures(_Grouping(session, frame, m, a))
        for m in (True, False)
        for a in (True, False)
    }
    polls, answers = _polls(session, frame)
    ids = {a for _, a in grids[True, True]} | {a for _, _, a in answers}
    rows = _Rows(frame, _area_names(session, frame, ids))
    months = grids[True, False]
    by_area = rows.sorted(grids[False, True])
    return Report(
        start=start,
        end=end,
        scope=scope_name(area),
        generated_at=now,
        rows=rows.sorted(grids[True, True]),
        polls=_poll_rows(polls, answers, rows.names),
        areas=[row.area for row in by_area],
        months=frame.months,
        month_totals=[
            rows.make((i, WHOLE), months.get((i, WHOLE), {})) for i in range(len(frame.months))
        ],
        area_totals=by_area,
        total=rows.make((WHOLE, WHOLE), grids[False, False].get((WHOLE, WHOLE), {})),
    )


__all__ = ["AreaMonth", "PollRow", "Report", "build_report", "scope_name", "year_period"]
