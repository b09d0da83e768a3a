"""The spotlight rotation: every product once before any twice, the member's province first."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.audience import Audience
from db.models import Area, OcopProduct
from db.ocop import pick_spotlights
from tests.factories import add_subscribers, commune_id

START = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
KHANH_HOA, HA_NOI, LAM_DONG, THAI_NGUYEN = (
    "Tỉnh Khánh Hòa",
    "Thành phố Hà Nội",
    "Tỉnh Lâm Đồng",
    "Tỉnh Thái Nguyên",
)


def province_id(session: Session, name: str) -> int:
    """Return a province's id by its official name."""
    found = session.scalar(select(Area.id).where(Area.name == name))
    assert found is not None
    return found


def add_product(session: Session, name: str, province: str, *, active: bool = True) -> int:
    """Store a product of a province and return its id."""
    product = OcopProduct(
        key=f"{name}|htx|{province}",
        name=name,
        cooperative=f"HTX {name}",
        stars=4,
        group="Thực phẩm",
        province_id=province_id(session, province),
        active=active,
        created_at=START,
        updated_at=START,
    )
    session.add(product)
    session.flush()
    return product.id


def catalog(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Members in Khánh Hòa, Hà Nội and Lâm Đồng; products in Khánh Hòa, Hà Nội, Thái Nguyên."""
    with sessions.begin() as session:
        add_subscribers(session, [1, 2], area_id=commune_id(session, "Xã Mỹ Sơn", KHANH_HOA))
        add_subscribers(session, [3], area_id=commune_id(session, "Xã Bát Tràng", HA_NOI))
        add_subscribers(session, [4], area_id=commune_id(session, "Xã Di Linh", LAM_DONG))
        return {
            "mắm": add_product(session, "Nước mắm Cà Ná", KHANH_HOA),
            "yến": add_product(session, "Yến sào", KHANH_HOA),
            "gốm": add_product(session, "Gốm Bát Tràng", HA_NOI),
            "chè": add_product(session, "Chè Tân Cương", THAI_NGUYEN),
            "cũ": add_product(session, "Đã ngừng", HA_NOI, active=False),
        }


Picks = dict[str, tuple[int, tuple[int, ...]]]


def pick(sessions: sessionmaker[Session], now: datetime, audience: Audience | None = None) -> Picks:
    """Run one spotlight round; return {province name: (product id, audience area ids)}."""
    with sessions.begin() as session:
        return {
            s.province.name: (s.product.id, s.audience.area_ids)
            for s in pick_spotlights(session, audience or Audience(), now)
        }


def featured(sessions: sessionmaker[Session]) -> dict[int, int]:
    """Return how many times each active product was featured."""
    with sessions() as session:
        rows = session.execute(
            select(OcopProduct.id, OcopProduct.times_featured).where(OcopProduct.active)
        )
        return {product_id: times for product_id, times in rows}


def test_own_province_first_and_a_province_without_products_gets_one_from_elsewhere(
    sessions: sessionmaker[Session],
) -> None:
    ids = catalog(sessions)
    with sessions() as session:
        khanh_hoa, ha_noi, lam_dong = (
            province_id(session, name) for name in (KHANH_HOA, HA_NOI, LAM_DONG)
        )
    picks = pick(sessions, START)
    assert picks == {
        HA_NOI: (ids["gốm"], (ha_noi,)),
        KHANH_HOA: (ids["mắm"], (khanh_hoa,)),
        # Lâm Đồng has no product: it gets the oldest unfeatured one from anywhere.
        LAM_DONG: (ids["yến"], (lam_dong,)),
    }
    assert featured(sessions) == {ids["mắm"]: 1, ids["yến"]: 1, ids["gốm"]: 1, ids["chè"]: 0}
    with sessions() as session:
        last = session.get(OcopProduct, ids["mắm"])
        assert last is not None and last.last_featured_at == START


def test_every_product_is_featured_once_before_any_twice(
    sessions: sessionmaker[Session],
) -> None:
    ids = catalog(sessions)
    shown: Counter[int] = Counter()
    for day in range(8):
        for product_id, _ in pick(sessions, START + timedelta(days=day)).values():
            shown[product_id] += 1
            counts = featured(sessions)
            assert max(counts.values()) - min(counts.values()) <= 1, (day, counts)
    assert ids["cũ"] not in shown, "an inactive product is never featured"
    assert sorted(shown.values()) == [6, 6, 6, 6]  # 8 days x 3 provinces over 4 products
    assert featured(sessions) == dict(shown)


def test_an_audience_of_communes_keeps_its_communes(sessions: sessionmaker[Session]) -> None:
    ids = catalog(sessions)
    with sessions() as session:
        my_son = commune_id(session, "Xã Mỹ Sơn", KHANH_HOA)
        bat_trang = commune_id(session, "Xã Bát Tràng", HA_NOI)
    picks = pick(sessions, START, Audience(area_ids=(my_son, bat_trang)))
    assert picks == {KHANH_HOA: (ids["mắm"], (my_son,)), HA_NOI: (ids["gốm"], (bat_trang,))}


def test_nothing_to_feature_without_active_products(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_subscribers(session, [1], area_id=commune_id(session, "Xã Mỹ Sơn", KHANH_HOA))
        add_product(session, "Đã ngừng", KHANH_HOA, active=False)
    assert pick(sessions, START) == {}
