"""The content library follows the packs: idempotent loads, updates, retired but kept items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.audience import Audience
from db.broadcasts import create_broadcast
from db.content import LoadCounts, get_item, list_items, load_items
from db.models import Broadcast, ContentItem
from messages.packs import read_packs

T0 = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
PACK = """\
kind: slogan
topic: policy
tags: [khau-hieu]
items:
  - id: mot
    title: Một
    text: HỢP TÁC, ĐỔI MỚI, PHÁT TRIỂN, HIỆU QUẢ.
  - id: hai
    title: Hai
    text: {second}
"""


def _write(folder: Path, second: str = "ĐỔI MỚI, PHÁT TRIỂN.", *, with_second: bool = True) -> Path:
    text = PACK.format(second=second)
    if not with_second:
        text = text.split("  - id: hai")[0]
    (folder / "demo.yaml").write_text(text, encoding="utf-8")
    return folder


def test_shipped_packs_load_twice_without_change(sessions: sessionmaker[Session]) -> None:
    items = read_packs()
    with sessions.begin() as session:
        assert load_items(session, items, T0) == LoadCounts(added=len(items))
    with sessions.begin() as session:
        again = load_items(session, items, T0 + timedelta(days=1))
        assert again == LoadCounts(unchanged=len(items))
        stored = session.scalars(select(ContentItem.updated_at)).all()
        assert set(stored) == {T0}  # untouched rows keep their time
        slogans = list_items(session, kind="slogan")
        assert [s.slug for s in slogans] == [f"khau-hieu-0{n}" for n in range(1, 9)]
        guide = list_items(session, tag="huong-dan-thanh-lap")
        assert [g.slug[-1] for g in guide] == ["1", "2", "3", "4", "5", "6"]
        assert {i.pack for i in list_items(session, pack="commemorations")} == {"commemorations"}
        day = get_item(session, "ngay-hop-tac-xa-viet-nam")
        assert day.data["when"] == {"month": 4, "day": 11} and day.kind == "commemoration"
        assert get_item(session, str(day.id)) is day


def test_changed_item_updates_and_removed_item_is_retired(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        assert load_items(session, read_packs(_write(tmp_path)), T0) == LoadCounts(added=2)
        second = get_item(session, "hai")
        broadcast = create_broadcast(
            session,
            text="<b>x</b>",
            audience=Audience(),
            send_at=T0,
            created_by="test",
            now=T0,
            templated=False,
            content_id=second.id,
        )
    later = T0 + timedelta(hours=1)
    with sessions.begin() as session:
        changed = read_packs(_write(tmp_path, "ĐỔI MỚI, PHÁT TRIỂN, HIỆU QUẢ."))
        assert load_items(session, changed, later) == LoadCounts(updated=1, unchanged=1)
        row = get_item(session, "hai")
        assert row.data["text"] == "ĐỔI MỚI, PHÁT TRIỂN, HIỆU QUẢ." and row.updated_at == later
        assert row.created_at == T0
    with sessions.begin() as session:
        gone = read_packs(_write(tmp_path, with_second=False))
        assert load_items(session, gone, later) == LoadCounts(unchanged=1, retired=1)
        assert session.scalar(select(func.count()).select_from(ContentItem)) == 2  # kept
        assert not get_item(session, "hai").active
        assert session.get(Broadcast, broadcast.id).content_id == row.id  # type: ignore[union-attr]
        assert [i.slug for i in list_items(session)] == ["mot"]
        assert [i.slug for i in list_items(session, retired=True)] == ["hai", "mot"]
    with sessions.begin() as session:  # back in its pack: active again
        back = read_packs(_write(tmp_path, "ĐỔI MỚI, PHÁT TRIỂN, HIỆU QUẢ."))
        assert load_items(session, back, later) == LoadCounts(updated=1, unchanged=1)
        assert get_item(session, "hai").active


def test_an_emptied_pack_retires_its_items_and_other_packs_are_untouched(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        load_items(session, read_packs(), T0)
        load_items(session, read_packs(_write(tmp_path)), T0)
        counts = load_items(session, [], T0, packs=["demo"])
        assert counts == LoadCounts(retired=2)
        assert len(list_items(session, pack="slogans")) == 8


def test_unknown_item_suggests_near_slugs(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        load_items(session, read_packs(), T0)
        with pytest.raises(LookupError, match="did you mean khau-hieu-03"):
            get_item(session, "khau hieu 03")
        with pytest.raises(LookupError, match="no content item has the id or slug '999'"):
            get_item(session, "999")
