"""The report's figures by month and area, nationwide and for a province, on both databases.

Three months (August to October 2026) in two provinces, every row made by hand so that each
expected figure can be counted on the fingers. Events at 2026-10-31 18:00 UTC are November in
Vietnam and fall out; events at 2026-07-31 17:30 UTC are August there and count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from db.models import (
    Area,
    Channel,
    DeliveryStatus,
    Feedback,
    OcopProduct,
    OcopTap,
    Poll,
    PollAnswer,
    PollStatus,
    Reaction,
    ReactionValue,
    RegistrationStatus,
    Subscriber,
    SubscriberStatus,
    TrainingCourse,
    TrainingRegistration,
    TrainingTopic,
)
from db.reports import AreaMonth, PollRow, build_report, year_period
from tests.factories import add_broadcast, add_delivery, add_subscribers, commune_id

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
START, END = date(2026, 8, 1), date(2026, 10, 31)
AUG, SEP, OCT = date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)
NOVEMBER = datetime(2026, 10, 31, 18, 0, tzinfo=UTC)  # 01:00 on 1/11 in Vietnam: outside
AUGUST_FIRST = datetime(2026, 7, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1/8 in Vietnam: inside
OLD = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
BLOCKED = "blocked: Forbidden: bot was blocked by the user"
SENT, FAILED = DeliveryStatus.SENT, DeliveryStatus.FAILED


def local(month: int, day: int, hour: int = 12) -> datetime:
    """Return a time of 2026 in Vietnam."""
    return datetime(2026, month, day, hour, tzinfo=TZ)


@dataclass(frozen=True)
class Places:
    """The areas of the seeded data."""

    khanh_hoa: int
    ha_noi: int
    my_son: int
    lam_son: int
    ba_dinh: int


def seed(session: Session) -> Places:
    """Add the three months of activity this module's expectations are counted from."""
    places = _places(session)
    members = _members(session, places)
    broadcasts = _broadcasts(session, members)
    _feedback(session, members, places)
    _reactions(session, members, places, broadcasts)
    _training(session, members)
    _taps(session, places)
    _polls(session, members, places)
    session.flush()
    return places


def _places(session: Session) -> Places:
    my_son = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
    ba_dinh = commune_id(session, "Phường Ba Đình", "Thành phố Hà Nội")
    khanh_hoa = session.get_one(Area, my_son).parent_id
    ha_noi = session.get_one(Area, ba_dinh).parent_id
    assert khanh_hoa is not None and ha_noi is not None
    lam_son = commune_id(session, "Xã Lâm Sơn", "Tỉnh Khánh Hòa")
    return Places(khanh_hoa, ha_noi, my_son, lam_son, ba_dinh)


def _set(session: Session, subscriber_id: int, **values: object) -> None:
    session.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(**values))


def _members(session: Session, p: Places) -> dict[str, int]:
    ids = add_subscribers(session, range(1, 5), area_id=p.my_son)
    ids += add_subscribers(session, [5], area_id=p.my_son, status=SubscriberStatus.BLOCKED)
    ids += add_subscribers(session, [6, 7], area_id=p.lam_son)
    ids += add_subscribers(session, [8, 9, 10], area_id=p.ba_dinh)
    ids += add_subscribers(session, [11], area_id=p.khanh_hoa)  # gave only their province
    m = dict(
        zip(["m1", "m2", "m3", "m4", "m5", "l1", "l2", "b1", "b2", "b3", "k1"], ids, strict=True)
    )
    session.execute(update(Subscriber).values(consent_at=OLD))
    for name, at in [
        ("m1", local(8, 10)),
        ("l1", local(8, 20)),
        ("m3", AUGUST_FIRST),
        ("m2", local(9, 5)),
        ("k1", local(9, 1)),
        ("b1", local(10, 15)),
        ("b2", NOVEMBER),
    ]:
        _set(session, m[name], consent_at=at)
    for name, at in [("m4", local(9, 10)), ("l2", local(10, 3)), ("b3", local(8, 30))]:
        _set(session, m[name], status=SubscriberStatus.STOPPED, stopped_at=at)
    return m


def _broadcasts(session: Session, m: dict[str, int]) -> dict[str, int]:
    first = add_broadcast(session, local(8, 5))
    for name, status, error in [
        ("m1", SENT, None),
        ("m2", SENT, None),
        ("m3", FAILED, "Bad Request: message is too long"),
        ("m4", FAILED, BLOCKED),
        ("m5", FAILED, "Forbidden: user is deactivated"),  # the subscriber is blocked now
        ("l1", SENT, None),
        ("b1", SENT, None),
        ("b2", FAILED, None),  # no error recorded: failed, not blocked
        ("b3", DeliveryStatus.SKIPPED, "subscriber stopped"),
    ]:
        add_delivery(session, first, m[name], status, OLD, error)
    add_delivery(session, first, None, SENT, OLD)  # forgotten: no one's any more
    edge = add_broadcast(session, AUGUST_FIRST)
    add_delivery(session, edge, m["b1"], SENT, OLD)
    second = add_broadcast(session, local(9, 12))
    add_delivery(session, second, m["m2"], DeliveryStatus.QUEUED, OLD)
    for name in ("m1", "l1", "l2", "k1"):
        add_delivery(session, second, m[name], SENT, OLD)
    third = add_broadcast(session, local(9, 20))
    add_delivery(session, third, m["m1"], SENT, OLD)
    spotlight = add_broadcast(session, local(10, 20), kind="ocop_spotlight")
    for name in ("m1", "m2", "b1"):
        add_delivery(session, spotlight, m[name], SENT, OLD)
    add_delivery(session, spotlight, m["b2"], FAILED, OLD, BLOCKED)
    add_delivery(session, add_broadcast(session, NOVEMBER), m["m1"], SENT, OLD)
    return {"first": first, "second": second, "spotlight": spotlight}


def _feedback(session: Session, m: dict[str, int], p: Places) -> None:
    for name, area, at, topic, flagged, answered_after in [
        ("m1", p.my_son, local(8, 12), "von", False, 2),
        ("m2", p.my_son, local(8, 20), None, True, 6),
        ("l1", p.lam_son, local(8, 25), "von", False, None),
        ("m1", p.lam_son, local(9, 2), "dat_dai", False, 10),  # lived in Lâm Sơn then
        ("b1", p.ba_dinh, local(9, 3), "thi_truong", True, 1),
        ("b1", p.ba_dinh, NOVEMBER, "von", False, None),
        ("b2", None, local(10, 5), None, False, None),
        ("k1", p.khanh_hoa, local(10, 7), "von", False, 4),
    ]:
        answered = None if answered_after is None else at + timedelta(hours=answered_after)
        session.add(
            Feedback(
                subscriber_id=m[name],
                channel=Channel.TELEGRAM,
                text="Góp ý",
                received_at=at,
                area_id=area,
                topic=topic,
                flagged=flagged,
                answered_at=answered,
            )
        )


def _reactions(session: Session, m: dict[str, int], p: Places, b: dict[str, int]) -> None:
    useful, unclear = ReactionValue.USEFUL, ReactionValue.UNCLEAR
    for broadcast, name, value, area, at in [
        ("first", "m1", useful, p.my_son, local(8, 6)),
        ("first", "m2", unclear, p.my_son, local(8, 6)),
        ("first", "l1", useful, p.lam_son, local(8, 7)),
        ("first", "b1", useful, p.ba_dinh, local(8, 7)),
        ("second", "m1", useful, p.my_son, local(9, 13)),
        ("second", "k1", unclear, p.khanh_hoa, local(9, 14)),
        ("spotlight", "b1", useful, p.ba_dinh, NOVEMBER),
    ]:
        session.add(
            Reaction(
                broadcast_id=b[broadcast], subscriber_id=m[name], value=value, area_id=area, at=at
            )
        )


def _training(session: Session, m: dict[str, int]) -> None:
    one, two = _course(session), _course(session)
    seated, waiting = RegistrationStatus.REGISTERED, RegistrationStatus.WAITING
    for course, name, status, at, more in [
        (one, "m1", seated, local(8, 1, 10), {"attended_at": local(9, 5), "rating": 5}),
        (one, "m2", waiting, local(8, 2), {}),
        (one, "l1", RegistrationStatus.CANCELLED, local(8, 3), {}),
        (one, "b1", seated, local(9, 1), {"attended_at": local(9, 5)}),
        (two, "m1", seated, local(10, 1), {"attended_at": NOVEMBER, "rating": 4}),
    ]:
        rated_at = local(9, 6) if course == one else local(10, 30)
        if "rating" in more:
            more = {**more, "rated_at": rated_at}
        session.add(
            TrainingRegistration(
                course_id=course, subscriber_id=m[name], status=status, registered_at=at, **more
            )
        )


def _course(session: Session) -> int:
    course = TrainingCourse(
        title="Kế toán HTX",
        topic=TrainingTopic.ACCOUNTING,
        organiser="Liên minh HTX",
        starts_at=local(9, 5, 8),
        ends_at=local(9, 5, 12),
        capacity=30,
        deadline_at=local(9, 1),
        created_by="cli",
    )
    session.add(course)
    session.flush()
    return course.id


def _taps(session: Session, p: Places) -> None:
    product = OcopProduct(
        key="yen|htx|kh",
        name="Yến sào",
        cooperative="HTX Yến",
        stars=4,
        group="Thực phẩm",
        province_id=p.khanh_hoa,
    )
    session.add(product)
    session.flush()
    for area, at in [
        (p.my_son, local(10, 21)),
        (p.my_son, local(10, 21)),
        (p.ba_dinh, local(10, 21)),
        (p.lam_son, local(10, 22)),
        (None, local(10, 23)),
        (p.my_son, NOVEMBER),
    ]:
        session.add(OcopTap(product_id=product.id, action="contact", area_id=area, tapped_at=at))


def _polls(session: Session, m: dict[str, int], p: Places) -> None:
    options = ["Có", "Không", "Chưa quyết định"]
    asked = _poll(session, "Có cần vay vốn?", options, local(8, 15), PollStatus.OPEN)
    _poll(session, "Sau kỳ", ["A"], NOVEMBER, PollStatus.OPEN)
    _poll(session, "Đầu kỳ", ["A", "B"], AUGUST_FIRST, PollStatus.CLOSED)
    for name, choice, area in [
        ("m1", 0, p.my_son),
        ("m2", 0, p.my_son),
        ("l1", 1, p.lam_son),
        ("b1", 0, p.ba_dinh),
        ("b2", 1, p.ba_dinh),
        ("k1", 2, p.khanh_hoa),
    ]:
        session.add(PollAnswer(poll_id=asked, subscriber_id=m[name], choice=choice, area_id=area))


def _poll(
    session: Session, question: str, options: list[str], at: datetime, status: PollStatus
) -> int:
    poll = Poll(question=question, options=options, status=status, created_by="cli", created_at=at)
    session.add(poll)
    session.flush()
    return poll.id


KH, HN = "Tỉnh Khánh Hòa", "Thành phố Hà Nội"


def nationwide_rows(p: Places) -> list[AreaMonth]:
    """The expected month x province rows, Hà Nội before Khánh Hòa (t-h-a < t-i-n-h)."""
    return [
        AreaMonth(AUG, p.ha_noi, HN, broadcasts=2, deliveries=4, sent=2, failed=1, reached=1,
                  stopped=1, useful=1),
        AreaMonth(AUG, p.khanh_hoa, KH, broadcasts=1, deliveries=6, sent=3, failed=1, blocked=2,
                  reached=3, new=3, feedback=3, feedback_by_topic={"von": 2, "khac": 1},
                  flagged=1, answered=2, reply_hours_median=4.0, useful=2, unclear=1,
                  registered=2, cancelled=1),
        AreaMonth(SEP, p.ha_noi, HN, feedback=1, feedback_by_topic={"thi_truong": 1}, flagged=1,
                  answered=1, reply_hours_median=1.0, registered=1, attended=1),
        AreaMonth(SEP, p.khanh_hoa, KH, broadcasts=2, deliveries=6, sent=5, reached=4, new=2,
                  stopped=1, feedback=1, feedback_by_topic={"dat_dai": 1}, answered=1,
                  reply_hours_median=10.0, useful=1, unclear=1, attended=1, rated=1),
        AreaMonth(OCT, p.ha_noi, HN, broadcasts=1, deliveries=2, sent=1, blocked=1, reached=1,
                  new=1, spotlights=1, taps=1),
        AreaMonth(OCT, p.khanh_hoa, KH, broadcasts=1, deliveries=2, sent=2, reached=2, stopped=1,
                  feedback=1, feedback_by_topic={"von": 1}, answered=1, reply_hours_median=4.0,
                  registered=1, rated=1, spotlights=2, taps=3),
        AreaMonth(OCT, 0, "Chưa rõ địa bàn", feedback=1, feedback_by_topic={"khac": 1}, taps=1),
    ]  # fmt: skip


def test_nationwide_rows_are_provinces_by_month(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        p = seed(session)
        report = build_report(session, START, END, None, TZ, NOW)
    assert (report.start, report.end, report.scope) == (START, END, "Toàn quốc")
    assert report.generated_at == NOW
    assert report.months == [AUG, SEP, OCT]
    assert report.rows == nationwide_rows(p)
    assert report.areas == [HN, KH, "Chưa rõ địa bàn"]


def test_nationwide_totals_count_each_broadcast_and_member_once(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        seed(session)
        report = build_report(session, START, END, None, TZ, NOW)
    assert report.totals_by_month() == [
        # Two broadcasts in August (one reached both provinces), four members reached.
        AreaMonth(AUG, 0, "Toàn quốc", broadcasts=2, deliveries=10, sent=5, failed=2, blocked=2,
                  reached=4, new=3, stopped=1, feedback=3, feedback_by_topic={"von": 2, "khac": 1},
                  flagged=1, answered=2, reply_hours_median=4.0, useful=3, unclear=1,
                  registered=2, cancelled=1),
        AreaMonth(SEP, 0, "Toàn quốc", broadcasts=2, deliveries=6, sent=5, reached=4, new=2,
                  stopped=1, feedback=2, feedback_by_topic={"dat_dai": 1, "thi_truong": 1},
                  flagged=1, answered=2, reply_hours_median=5.5, useful=1, unclear=1,
                  registered=1, attended=2, rated=1),
        AreaMonth(OCT, 0, "Toàn quốc", broadcasts=1, deliveries=4, sent=3, blocked=1, reached=3,
                  new=1, stopped=1, feedback=2, feedback_by_topic={"von": 1, "khac": 1},
                  answered=1, reply_hours_median=4.0, registered=1, rated=1, spotlights=3, taps=5),
    ]  # fmt: skip
    assert report.total == AreaMonth(
        AUG, 0, "Toàn quốc", broadcasts=5, deliveries=20, sent=13, failed=2, blocked=3,
        reached=6, new=6, stopped=3, feedback=7,
        feedback_by_topic={"von": 3, "khac": 2, "dat_dai": 1, "thi_truong": 1}, flagged=2,
        answered=5, reply_hours_median=4.0, useful=4, unclear=2, registered=4, cancelled=1,
        attended=2, rated=2, spotlights=3, taps=5,
    )  # fmt: skip
    reached = {row.area: row.reached for row in report.area_totals}
    assert reached == {HN: 1, KH: 5, "Chưa rõ địa bàn": 0}  # m1 reached in 3 months counts once


def test_nationwide_polls_of_the_period(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed(session)
        report = build_report(session, START, END, None, TZ, NOW)
    polls = [(r.question, r.status, r.option, r.total, r.by_area) for r in report.polls]
    assert polls == [
        ("Đầu kỳ", "closed", "A", 0, {}),  # 00:30 on 1/8 in Vietnam
        ("Đầu kỳ", "closed", "B", 0, {}),
        ("Có cần vay vốn?", "open", "Có", 3, {KH: 2, HN: 1}),
        ("Có cần vay vốn?", "open", "Không", 2, {KH: 1, HN: 1}),
        ("Có cần vay vốn?", "open", "Chưa quyết định", 1, {KH: 1}),
    ]
    assert all(isinstance(r, PollRow) for r in report.polls)


def province_rows(p: Places) -> list[AreaMonth]:
    """The expected month x commune rows of Khánh Hòa; the province itself for those without."""
    kh, ls, ms = "Tỉnh Khánh Hòa (chưa rõ xã)", "Xã Lâm Sơn", "Xã Mỹ Sơn"
    return [
        AreaMonth(AUG, p.lam_son, ls, broadcasts=1, deliveries=1, sent=1, reached=1, new=1,
                  feedback=1, feedback_by_topic={"von": 1}, useful=1, cancelled=1),
        AreaMonth(AUG, p.my_son, ms, broadcasts=1, deliveries=5, sent=2, failed=1, blocked=2,
                  reached=2, new=2, feedback=2, feedback_by_topic={"von": 1, "khac": 1},
                  flagged=1, answered=2, reply_hours_median=4.0, useful=1, unclear=1,
                  registered=2),
        AreaMonth(SEP, p.khanh_hoa, kh, broadcasts=1, deliveries=1, sent=1, reached=1, new=1,
                  unclear=1),
        AreaMonth(SEP, p.lam_son, ls, broadcasts=1, deliveries=2, sent=2, reached=2, feedback=1,
                  feedback_by_topic={"dat_dai": 1}, answered=1, reply_hours_median=10.0),
        AreaMonth(SEP, p.my_son, ms, broadcasts=2, deliveries=3, sent=2, reached=1, new=1,
                  stopped=1, useful=1, attended=1, rated=1),
        AreaMonth(OCT, p.khanh_hoa, kh, feedback=1, feedback_by_topic={"von": 1}, answered=1,
                  reply_hours_median=4.0),
        AreaMonth(OCT, p.lam_son, ls, stopped=1, taps=1),
        AreaMonth(OCT, p.my_son, ms, broadcasts=1, deliveries=2, sent=2, reached=2, registered=1,
                  rated=1, spotlights=2, taps=2),
    ]  # fmt: skip


def test_province_rows_are_communes_and_totals_match_nationwide(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        p = seed(session)
        province = session.get_one(Area, p.khanh_hoa)
        report = build_report(session, START, END, province, TZ, NOW)
        nationwide = build_report(session, START, END, None, TZ, NOW)
    assert report.scope == "Tỉnh Khánh Hòa"
    assert report.rows == province_rows(p)
    assert report.areas == ["Tỉnh Khánh Hòa (chưa rõ xã)", "Xã Lâm Sơn", "Xã Mỹ Sơn"]
    # The province's months are its row in the nationwide report, under the province's name.
    expected = [replace(r, area_id=p.khanh_hoa) for r in nationwide.rows if r.area == KH]
    assert report.totals_by_month() == expected
    polls = [(r.option, r.total, r.by_area) for r in report.polls if r.question != "Đầu kỳ"]
    assert polls == [
        ("Có", 2, {"Xã Mỹ Sơn": 2}),
        ("Không", 1, {"Xã Lâm Sơn": 1}),
        ("Chưa quyết định", 1, {"Tỉnh Khánh Hòa (chưa rõ xã)": 1}),
    ]


def test_commune_scope_and_a_partial_month(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        p = seed(session)
        commune = session.get_one(Area, p.my_son)
        report = build_report(session, date(2026, 9, 15), date(2026, 10, 20), commune, TZ, NOW)
    assert report.scope == "Xã Mỹ Sơn, Tỉnh Khánh Hòa"
    assert report.months == [SEP, OCT]
    # From 15/9 only the broadcast of 20/9 counts in September; the spotlight of 20/10 counts.
    assert report.rows == [
        AreaMonth(SEP, p.my_son, "Xã Mỹ Sơn", broadcasts=1, deliveries=1, sent=1, reached=1),
        AreaMonth(OCT, p.my_son, "Xã Mỹ Sơn", broadcasts=1, deliveries=2, sent=2, reached=2,
                  registered=1, spotlights=2),
    ]  # fmt: skip


def test_empty_months_have_zero_totals(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        report = build_report(session, date(2026, 1, 1), date(2026, 2, 28), None, TZ, NOW)
    assert report.rows == [] and report.polls == [] and report.areas == []
    assert report.totals_by_month() == [
        AreaMonth(date(2026, 1, 1), 0, "Toàn quốc"),
        AreaMonth(date(2026, 2, 1), 0, "Toàn quốc"),
    ]


def test_year_period() -> None:
    assert year_period(2026) == (date(2025, 11, 1), date(2026, 10, 31))
