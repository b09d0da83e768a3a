"""Resolving typed places: former communes, what people call provinces, prefixes (both databases).

The reviewed tables (db/place_names.yaml, messages/words.yaml) are checked here too: every
alias names one official province of the package, and no plain word means two things.
"""

from __future__ import annotations

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from vietnam_provinces import Province
from vietnam_provinces._ward_conversion_2025 import OLD_TO_NEW
from vietnam_provinces.legacy import Province as LegacyProvince
from vietnam_provinces.legacy import Ward as LegacyWard

from db import places
from db.models import Area, AreaLevel, FormerArea, FormerAreaLevel
from db.textmatch import PLACE_NAMES, fold, prefix_levels, search_key
from messages.words import Meaning, meanings, typed_form, words


def _province(session: Session, name: str) -> Area:
    found = session.scalar(select(Area).where(Area.name == name))
    assert found is not None, name
    return found


def test_every_alias_names_one_official_province() -> None:
    table = yaml.safe_load(PLACE_NAMES.read_text(encoding="utf-8"))["provinces"]
    official = {p.name for p in Province.iter_all()} | {p.name for p in LegacyProvince.iter_all()}
    assert set(table) <= official, set(table) - official
    aliases = places.province_aliases()  # raises if one alias names two provinces
    assert search_key("TP HCM") in aliases and search_key("Sài Gòn") in aliases


def test_prefixes_say_the_level_they_name() -> None:
    assert prefix_levels("p. 12") == {"commune"}
    assert prefix_levels("q3") == {"district"}
    assert prefix_levels("thành phố Huế") == {"province", "district"}
    assert prefix_levels("Mỹ Sơn") == frozenset()
    assert search_key("Xã Quan Sơn") == "quan son"  # one prefix only: "quan" is also "quận"


def test_every_former_commune_of_the_official_table_is_loaded_with_its_successors(
    sessions: sessionmaker[Session],
) -> None:
    legacy = {w.code.value for w in LegacyWard.iter_all()} & set(OLD_TO_NEW)
    with sessions() as session:
        rows = session.scalars(
            select(FormerArea).where(FormerArea.level == FormerAreaLevel.COMMUNE)
        ).all()
        assert {r.legacy_code for r in rows} == legacy
        vinh_kim = next(r for r in rows if r.legacy_code == 21790)
        assert (vinh_kim.name, vinh_kim.former_district) == ("Xã Vĩnh Kim", "Huyện Vĩnh Thạnh")
        assert vinh_kim.former_province == "Tỉnh Bình Định"
        assert [a.name for a in vinh_kim.successors] == ["Xã Vĩnh Sơn"]


def test_province_by_what_people_call_it(sessions: sessionmaker[Session]) -> None:
    expected = {
        "TP HCM": "Thành phố Hồ Chí Minh",
        "tphcm": "Thành phố Hồ Chí Minh",
        "Sài Gòn": "Thành phố Hồ Chí Minh",
        "HN": "Thành phố Hà Nội",
        "TP Hà Nội": "Thành phố Hà Nội",
        "Huế": "Thành phố Huế",
        "Thừa Thiên Huế": "Thành phố Huế",
        "Daklak": "Tỉnh Đắk Lắk",
        "Bà Rịa Vũng Tàu": "Thành phố Hồ Chí Minh",
        "t. Khánh Hòa": "Tỉnh Khánh Hòa",
        "binh duong": "Thành phố Hồ Chí Minh",
    }
    with sessions() as session:
        for typed, name in expected.items():
            found = places.provinces(session, typed).one()
            assert found is not None and found.name == name, typed
        near = places.provinces(session, "khanh hao")
        assert near.one() is None and near.near_one() == _province(session, "Tỉnh Khánh Hòa")
        split = places.provinces(session, "Tiền Giang")  # went to two provinces in 2025
        assert split.one() is None
        assert {a.name for a in split.candidates()} >= {"Tỉnh Tây Ninh", "Tỉnh Đồng Tháp"}


def test_former_commune_is_what_it_became(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        gia_lai = _province(session, "Tỉnh Gia Lai")
        for typed in ("vinh kim", "Xã Vĩnh Kim", "xa vinh kim", "vinh kym"):
            found = places.communes(session, gia_lai.id, typed)
            meant = found.near_one()
            assert meant is not None and meant.name == "Xã Vĩnh Sơn", typed
        exact = places.communes(session, gia_lai.id, "vinh kim")
        assert exact.one() is not None and exact.exact() == []
        assert exact.exact_former()[0].unit.former_district == "Huyện Vĩnh Thạnh"


def test_former_commune_split_in_2025_offers_each_part(sessions: sessionmaker[Session]) -> None:
    split = next(e for e in OLD_TO_NEW.values() if len(e.new_wards) == 3)
    old = LegacyWard.from_code(split.old_ward.code)  # type: ignore[arg-type]
    with sessions() as session:
        news = [
            session.scalar(select(Area).where(Area.level == AreaLevel.COMMUNE, Area.code == n.code))
            for n in split.new_wards
        ]
        province_id = news[0].parent_id if news[0] else None
        assert province_id is not None
        found = places.communes(session, province_id, old.name)
        assert found.one() is None
        mine = [f for f in found.exact_former() if f.unit.legacy_code == split.old_ward.code]
        assert {a.code for a in mine[0].now} == {
            n.code for n in split.new_wards if n.province_code == split.new_wards[0].province_code
        }


def test_a_typed_prefix_keeps_its_level(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        hcm = _province(session, "Thành phố Hồ Chí Minh")
        wards = places.communes(session, hcm.id, "phường 1")  # not the former Quận 1
        assert wards.former and all(f.unit.level == FormerAreaLevel.COMMUNE for f in wards.former)
        assert len({f.unit.former_district for f in wards.former}) == len(wards.former)
        district = places.communes(session, hcm.id, "q1")
        assert [f.unit.name for f in district.exact_former()] == ["Quận 1"]
        typo = places.communes(session, _province(session, "Tỉnh Thanh Hóa").id, "quan son")
        assert "Xã Quan Sơn" in [a.name for a in typo.candidates()]


def test_diacritics_typed_decide_between_names_that_fold_alike(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        hue = _province(session, "Thành phố Huế")
        for typed in ("Phường Hương Văn", "Phường Hương Vân"):
            found = places.communes(session, hue.id, typed)
            assert [f.unit.name for f in found.exact_former()] == [typed]
        both = places.communes(session, hue.id, "huong van")  # without them, both are offered
        assert {f.unit.name for f in both.exact_former()} == {
            "Phường Hương Văn",
            "Phường Hương Vân",
        }


def test_no_plain_word_means_two_things_once_diacritics_are_kept() -> None:
    seen: dict[str, Meaning] = {}
    for meaning, listed in words().items():
        for word in listed:
            assert seen.setdefault(typed_form(word), meaning) == meaning, word
    assert meanings("đúng") == {Meaning.YES} and meanings("dừng") == {Meaning.STOP}
    assert meanings("dung") == {Meaning.YES, Meaning.STOP}  # the place it is typed decides
    assert meanings("Huỷ đăng ký!") == {Meaning.STOP}  # the old tone-mark style too
    assert meanings("không nhận nữa") == {Meaning.STOP} and meanings("ko") == {Meaning.NO}
    assert meanings("xin chào") == frozenset()
    assert all(fold(w) for ws in words().values() for w in ws)
