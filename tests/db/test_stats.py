"""An area's last 30 days for /stats: every figure, for a commune, a province and everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import (
    Area,
    Channel,
    DeliveryStatus,
    Feedback,
    Subscriber,
    SubscriberStatus,
)
from db.stats import AreaStats, area_stats
from messages.staff_stats import stats_text
from tests.factories import add_broadcast, add_delivery, add_subscribers, commune_id

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 08:00 on 24/11 in Hà Nội
SINCE = NOW - timedelta(days=30)  # the first instant counted
IN = NOW - timedelta(days=3)
OLD = NOW - timedelta(days=40)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def change(session: Session, subscriber_id: int, **values: object) -> None:
    """Set columns of one subscriber."""
    session.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(**values))


def feedback(session: Session, subscriber_id: int, at: datetime) -> None:
    """Add one piece of feedback received at this time."""
    session.add(
        Feedback(
            subscriber_id=subscriber_id, channel=Channel.TELEGRAM, text="Góp ý", received_at=at
        )
    )


def test_area_stats_for_commune_province_and_everywhere(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        my_son = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        lam_son = commune_id(session, "Xã Lâm Sơn", "Tỉnh Khánh Hòa")
        ba_dinh = commune_id(session, "Phường Ba Đình", "Thành phố Hà Nội")
        commune = session.get(Area, my_son)
        assert commune is not None and commune.parent_id is not None
        khanh_hoa = commune.parent_id
        a1, a2, a3, a4 = add_subscribers(session, range(1, 5), area_id=my_son)
        (a5,) = add_subscribers(session, [5], area_id=my_son, status=SubscriberStatus.BLOCKED)
        l1, l2 = add_subscribers(session, [6, 7], area_id=lam_son)
        b1, b2, b3 = add_subscribers(session, [8, 9, 10], area_id=ba_dinh)
        (k1,) = add_subscribers(session, [11], area_id=khanh_hoa)  # told only their province
        (p1,) = add_subscribers(session, [12], area_id=my_son, status=SubscriberStatus.PENDING)
        change(session, p1, area_id=None)  # registering: no area yet

        # Consent and stop times: in the window, at its edges and before it.
        session.execute(update(Subscriber).values(consent_at=OLD))
        for member in (a1, l1, k1, b1, p1):
            change(session, member, consent_at=IN)
        change(session, a2, consent_at=SINCE)  # the first instant counts
        change(session, a3, consent_at=NOW)  # the end does not
        for member in (a4, l2, b2):
            change(session, member, status=SubscriberStatus.STOPPED, stopped_at=IN)
        change(session, a5, stopped_at=OLD)

        sent, failed = DeliveryStatus.SENT, DeliveryStatus.FAILED
        blocked_error = "blocked: Forbidden: bot was blocked by the user"
        first = add_broadcast(session, NOW - timedelta(days=10))
        add_delivery(session, first, a1, sent, IN)
        add_delivery(session, first, a2, sent, IN)
        add_delivery(session, first, a3, failed, IN, "Bad Request: message is too long")
        add_delivery(session, first, a4, failed, IN, blocked_error)
        add_delivery(
            session, first, a5, failed, IN, "Forbidden: user is deactivated"
        )  # now BLOCKED
        add_delivery(session, first, l1, sent, IN)
        add_delivery(session, first, l2, sent, SINCE)
        add_delivery(session, first, b1, sent, IN)
        add_delivery(session, first, b2, failed, IN)  # no error recorded: failed, not blocked
        add_delivery(session, first, None, sent, IN)  # forgotten: no longer anyone's
        second = add_broadcast(session, NOW - timedelta(days=2))
        add_delivery(session, second, a1, sent, IN)  # a1 reached twice, counted once
        add_delivery(session, second, a2, DeliveryStatus.QUEUED, IN)
        add_delivery(session, second, b3, DeliveryStatus.SKIPPED, IN, "subscriber stopped")
        older = add_broadcast(session, OLD)  # started before the window
        add_delivery(session, older, a1, sent, OLD)
        add_delivery(session, older, a3, failed, IN, "Bad Request: chat not found")  # failed lately
        add_delivery(session, older, b1, failed, OLD, blocked_error)
        hanoi_only = add_broadcast(session, NOW - timedelta(days=1))
        add_delivery(session, hanoi_only, b1, sent, IN)
        add_delivery(session, hanoi_only, b3, failed, IN, blocked_error)
        at_end = add_broadcast(session, NOW)  # starts as the window closes: not counted
        add_delivery(session, at_end, l2, sent, NOW)
        at_start = add_broadcast(session, SINCE)
        add_delivery(session, at_start, l1, DeliveryStatus.EXPIRED, IN)

        for member, at in (
            (a1, IN),
            (a1, OLD),
            (a2, IN),
            (l1, SINCE),
            (l2, NOW),
            (b1, IN),
            (p1, IN),
        ):
            feedback(session, member, at)
        session.flush()

        province = {khanh_hoa, *session.scalars(select(Area.id).where(Area.parent_id == khanh_hoa))}
        assert {my_son, lam_son} <= province and ba_dinh not in province

        assert area_stats(session, {my_son}, NOW) == AreaStats(
            since=SINCE,
            until=NOW,
            broadcasts=2,
            sent=3,
            failed=2,
            blocked=2,
            reached=2,
            new=2,
            stopped=1,
            feedback=2,
        )
        assert area_stats(session, province, NOW) == AreaStats(
            since=SINCE,
            until=NOW,
            broadcasts=3,
            sent=5,
            failed=2,
            blocked=2,
            reached=4,
            new=4,
            stopped=2,
            feedback=3,
        )
        assert area_stats(session, None, NOW) == AreaStats(
            since=SINCE,
            until=NOW,
            broadcasts=4,
            sent=7,
            failed=3,
            blocked=3,
            reached=5,
            new=6,
            stopped=3,
            feedback=5,
        )
        # A shorter window: only the broadcast started a day ago, whose deliveries are older.
        assert area_stats(session, None, NOW, days=1) == AreaStats(
            since=NOW - timedelta(days=1),
            until=NOW,
            broadcasts=1,
            sent=0,
            failed=0,
            blocked=0,
            reached=0,
            new=0,
            stopped=0,
            feedback=0,
        )
        assert area_stats(session, set(), NOW) == AreaStats(SINCE, NOW, 0, 0, 0, 0, 0, 0, 0, 0)

        assert stats_text(area_stats(session, {my_son}, NOW), "Xã Mỹ Sơn", TZ) == (
            "📊 Thống kê 30 ngày (25/10/2026 – 24/11/2026), Xã Mỹ Sơn\n"
            "• Tin đã gửi: 2 đợt, 3 lượt gửi thành công\n"
            "• Gửi lỗi: 2; bị chặn: 2\n"
            "• Số người nhận được tin: 2\n"
            "• Người đăng ký mới: 2; dừng nhận tin: 1\n"
            "• Ý kiến phản hồi: 2"
        )


def test_text_groups_thousands_and_ends_before_midnight() -> None:
    midnight = datetime(2026, 11, 24, tzinfo=TZ)  # the window ends as 23/11 ends
    stats = AreaStats(
        since=midnight - timedelta(days=30),
        until=midnight,
        broadcasts=12,
        sent=1234,
        failed=5,
        blocked=2,
        reached=980,
        new=40,
        stopped=3,
        feedback=1234567,
    )
    assert stats_text(stats, None, TZ) == (
        "📊 Thống kê 30 ngày (25/10/2026 – 23/11/2026), toàn quốc\n"
        "• Tin đã gửi: 12 đợt, 1.234 lượt gửi thành công\n"
        "• Gửi lỗi: 5; bị chặn: 2\n"
        "• Số người nhận được tin: 980\n"
        "• Người đăng ký mới: 40; dừng nhận tin: 3\n"
        "• Ý kiến phản hồi: 1.234.567"
    )
