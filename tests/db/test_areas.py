"""The official areas, loaded from vietnam-provinces, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from db import places
from db.areas import (
    NotOneArea,
    count_areas,
    resolve_area,
    resolve_commune,
    resolve_commune_in,
    resolve_place,
)
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
        communes = places.successors(session, [district], None)[district.id]
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


def test_resolve_province_by_name_alias_former_name_or_one_near_match(
    sessions: sessionmaker[Session],
) -> None:
    notes: list[str] = []
    with sessions() as session:
        assert resolve_area(session, "khanh hoa", AreaLevel.PROVINCE, None, notes.append).code == 56
        assert notes == []  # its own name, accents aside: nothing to say
        hcm = resolve_area(session, "TP HCM", AreaLevel.PROVINCE, None, notes.append)
        assert hcm.name == "Thành phố Hồ Chí Minh"
        merged = resolve_area(session, "ninh thuan", AreaLevel.PROVINCE, None, notes.append)
        assert merged.name == "Tỉnh Khánh Hòa"
        typo = resolve_area(session, "khanh hao", AreaLevel.PROVINCE, None, notes.append)
        assert typo.name == "Tỉnh Khánh Hòa"
        assert notes == [
            'taken "TP HCM" as Thành phố Hồ Chí Minh (code 79)',
            'taken "ninh thuan" (former province, merged in 2025) as all of Tỉnh Khánh Hòa '
            "(code 56)",
            'taken "khanh hao" as Tỉnh Khánh Hòa (code 56)',
        ]
        with pytest.raises(LookupError, match=r"matches: Tỉnh Khánh Hòa 56"):
            resolve_area(session, "khanh hao", AreaLevel.PROVINCE, None)  # no one to tell
        with pytest.raises(LookupError) as split:
            resolve_area(session, "Tiền Giang", AreaLevel.PROVINCE, None, notes.append)
        assert str(split.value) == (
            "province 'Tiền Giang' is not one area: Tỉnh Tiền Giang (former province, merged in "
            "2025) went to Tỉnh Tây Ninh 80, Tỉnh Đồng Tháp 82; use a code"
        )


def test_resolve_commune_within_province_with_typo(sessions: sessionmaker[Session]) -> None:
    notes: list[str] = []
    with sessions() as session:
        found = resolve_commune(session, "Khánh Hòa", "my sonn", notes.append)
        assert (found.name, found.code) == ("Xã Mỹ Sơn", 22822)
        assert notes == ['taken "my sonn" as Xã Mỹ Sơn, Tỉnh Khánh Hòa (code 22822)']
        with pytest.raises(NotOneArea) as many:
            resolve_commune(session, "Khánh Hòa", "son", notes.append)
        assert str(many.value).startswith("commune 'son' in Tỉnh Khánh Hòa is not one area")
        assert "Xã Mỹ Sơn 22822" in str(many.value) and str(many.value).endswith("use a code")
        khanh_hoa = resolve_area(session, "56", AreaLevel.PROVINCE, None)
        assert all(a.parent_id == khanh_hoa.id for a in many.value.candidates)
        with pytest.raises(LookupError, match=r"^no commune in Tỉnh Khánh Hòa matches 'xyzxyz'"):
            resolve_commune(session, "Khánh Hòa", "xyzxyz", notes.append)


def test_former_commune_is_taken_as_what_it_became(sessions: sessionmaker[Session]) -> None:
    notes: list[str] = []
    with sessions() as session:
        found = resolve_commune(session, "Gia Lai", "Xã Vĩnh Kim", notes.append)
        assert (found.name, found.code) == ("Xã Vĩnh Sơn", 21787)
        again = resolve_commune(session, "Bình Định", "vinh kim", notes.append)  # former province
        assert again.id == found.id
        assert notes == [
            'taken "Xã Vĩnh Kim" (former, before 1/7/2025) as Xã Vĩnh Sơn, Tỉnh Gia Lai '
            "(code 21787)",
            'taken "Bình Định" (former province, merged in 2025) as all of Tỉnh Gia Lai (code 52)',
            'taken "vinh kim" (former, before 1/7/2025) as Xã Vĩnh Sơn, Tỉnh Gia Lai (code 21787)',
        ]
        with pytest.raises(NotOneArea) as anywhere:  # three communes of that name before 2025
            resolve_commune_in(session, "Xã Vĩnh Kim", None, notes.append)
        assert "Xã Vĩnh Sơn 21787 (Tỉnh Gia Lai; from Xã Vĩnh Kim, Huyện Vĩnh Thạnh)" in str(
            anywhere.value
        )
        assert str(anywhere.value).endswith("write 'commune, province' or use a code")


def test_former_commune_split_in_2025_is_refused_with_each_part(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, pytest.raises(NotOneArea) as split:
        resolve_commune(session, "Hải Phòng", "Phường Vĩnh Niệm", lambda line: None)
    assert str(split.value) == (
        "commune 'Phường Vĩnh Niệm' in Thành phố Hải Phòng is not one area: Phường Vĩnh Niệm "
        "(former, before 1/7/2025) was split between Phường An Biên 11407, Phường Lê Chân 11383; "
        "use a code"
    )
    assert [a.code for a in split.value.candidates] == [11407, 11383]


def test_a_current_commune_is_meant_before_a_former_district_of_its_name(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        assert resolve_commune(session, "ha noi", "ba dinh").name == "Phường Ba Đình"
        # Tiền Giang went to two provinces: the commune says which.
        notes: list[str] = []
        vinh_kim = resolve_commune(session, "Tiền Giang", "Vĩnh Kim", notes.append)
        assert vinh_kim.code == 28576
        assert notes == ['taken "Vĩnh Kim, Tiền Giang" as Xã Vĩnh Kim, Tỉnh Đồng Tháp (code 28576)']


def test_resolve_place_is_a_province_or_a_commune(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert resolve_place(session, "Khánh Hòa").level is AreaLevel.PROVINCE
        assert resolve_place(session, "Mỹ Sơn, Khánh Hòa").code == 22822
        assert resolve_place(session, "22822").name == "Xã Mỹ Sơn"
        with pytest.raises(NotOneArea, match="no province or commune matches 'Nơi Này Không Có'"):
            resolve_place(session, "Nơi Này Không Có")
