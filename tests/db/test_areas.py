"""The official areas, loaded from vietnam-provinces, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from db.areas import count_areas, find_communes, find_provinces, successors_in
from db.migrate import upgrade
from db.models import Area, AreaLevel, FormerArea, FormerAreaLevel


def test_upgrade_twice_changes_nothing(engine: Engine, sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        before = session.execute(select(Area.id, Area.code, Area.name).order_by(Area.id)).all()
        former_before = session.scalar(select(func.count()).select_from(FormerArea))
    counts = upgrade(engine)
    assert counts == {"province": 34, "commune": 3321, "former": former_before}
    with sessions() as session:
        after = session.execute(select(Area.id, Area.code, Area.name).order_by(Area.id)).all()
        assert after == before
        assert count_areas(session) == counts


def test_every_commune_belongs_to_a_province(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        orphans = session.scalar(
            select(func.count()).where(Area.level == AreaLevel.COMMUNE, Area.parent_id.is_(None))
        )
        assert orphans == 0


def test_former_district_ninh_son_is_five_communes_of_khanh_hoa(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        district = session.scalars(
            select(FormerArea).where(
                FormerArea.level == FormerAreaLevel.DISTRICT, FormerArea.name == "Huyện Ninh Sơn"
            )
        ).one()
        assert district.former_province == "Tỉnh Ninh Thuận"
        communes = successors_in(session, district, None)
        assert sorted(c.name for c in communes) == [
            "Phường Đô Vinh",
            "Xã Anh Dũng",
            "Xã Lâm Sơn",
            "Xã Mỹ Sơn",
            "Xã Ninh Sơn",
        ]
        assert {c.parent.name for c in communes} == {"Tỉnh Khánh Hòa"}


def test_district_name_alone_is_ambiguous(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        chau_thanh = session.scalars(
            select(FormerArea).where(
                FormerArea.level == FormerAreaLevel.DISTRICT, FormerArea.search_name == "chau thanh"
            )
        ).all()
        assert len(chau_thanh) > 5
        assert len({d.former_province for d in chau_thanh}) == len(chau_thanh)


def test_find_province_without_diacritics_and_former_names(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        found = find_provinces(session, "khanh hoa")
        assert found.areas[0].item.name == "Tỉnh Khánh Hòa" and found.areas[0].grade == 0
        merged = find_provinces(session, "ninh thuan")
        assert merged.former[0].item.name == "Tỉnh Ninh Thuận"
        hcm = find_provinces(session, "tp ho chi minh")
        assert hcm.areas[0].item.name == "Thành phố Hồ Chí Minh"


def test_find_commune_only_within_province_with_typo(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        khanh_hoa = session.scalars(select(Area).where(Area.name == "Tỉnh Khánh Hòa")).one()
        found = find_communes(session, khanh_hoa.id, "my sonn")
        assert [m.item.name for m in found.areas] == ["Xã Mỹ Sơn"]
        assert all(
            m.item.parent_id == khanh_hoa.id
            for m in find_communes(session, khanh_hoa.id, "son").areas
        )
