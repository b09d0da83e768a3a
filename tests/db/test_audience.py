"""Audiences as SQL: filters, only active subscribers, and an idempotent snapshot."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.audience import Audience, count_audience, snapshot
from db.base import utcnow
from db.broadcasts import create_broadcast
from db.cooperatives import create_cooperative
from db.models import Area, Delivery, DeliveryStatus, Role, SubscriberStatus, Topic
from tests.factories import add_subscribers, commune_id


def test_filters_and_snapshot(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        my_son = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        lam_son = commune_id(session, "Xã Lâm Sơn", "Tỉnh Khánh Hòa")
        ba_dinh = commune_id(session, "Phường Ba Đình", "Thành phố Hà Nội")
        khanh_hoa = session.get(Area, my_son).parent_id
        coop = create_cooperative(
            session, name="HTX Mỹ Sơn", commune=session.get(Area, my_son), now=utcnow()
        )
        add_subscribers(session, range(1, 11), area_id=my_son, cooperative_id=coop.id)
        add_subscribers(
            session, range(11, 16), area_id=lam_son, role=Role.FARMER, topics=(Topic.OCOP,)
        )
        add_subscribers(session, range(16, 20), area_id=ba_dinh, role=Role.FARMER)
        add_subscribers(session, range(20, 23), area_id=my_son, status=SubscriberStatus.STOPPED)
        add_subscribers(session, range(23, 25), area_id=my_son, status=SubscriberStatus.BLOCKED)

        def count(**filters: object) -> int:
            return count_audience(session, Audience(**filters))  # type: ignore[arg-type]

        assert count() == 19  # only active ones
        assert count(area_ids=(khanh_hoa,)) == 15  # a province includes its communes
        assert count(area_ids=(my_son,)) == 10
        assert count(area_ids=(my_son, ba_dinh)) == 14
        assert count(roles=(Role.FARMER,)) == 9
        assert count(roles=(Role.FARMER,), area_ids=(khanh_hoa,)) == 5
        assert count(topics=(Topic.POLICY,)) == 14
        assert count(topics=(Topic.OCOP, Topic.MARKET)) == 19
        assert count(cooperative_ids=(coop.id,)) == 10

        audience = Audience(area_ids=(khanh_hoa,), topics=(Topic.OCOP,))
        broadcast = create_broadcast(
            session,
            text="Tin OCOP",
            audience=audience,
            send_at=utcnow(),
            created_by="test",
            now=utcnow(),
        )
        assert snapshot(session, broadcast, utcnow()) == 15
        assert snapshot(session, broadcast, utcnow()) == 15  # repeating changes nothing
        statuses = session.scalars(
            select(Delivery.status).where(Delivery.broadcast_id == broadcast.id)
        ).all()
        assert set(statuses) == {DeliveryStatus.QUEUED}
        assert session.scalar(select(func.count(func.distinct(Delivery.subscriber_id)))) == 15


def test_audience_round_trips_through_json() -> None:
    audience = Audience(area_ids=(1, 2), roles=(Role.FARMER,), topics=(Topic.OCOP,))
    assert Audience.from_json(audience.to_json()) == audience
    assert Audience().to_json() == {}
