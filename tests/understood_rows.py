"""The table of typed inputs a member's own words must be understood in (issue 18, item 6).

Every expected answer here comes from the `vietnam-provinces` package's own tables (the
old-to-new ward table, the legacy and current units), never from the bot's database code:
the package is the independent oracle the bot is checked against. The few plain aliases of
provinces ("TP HCM", "Sài Gòn", "HN") have their expected official names written by hand.

Groups:
  A  former communes (pre-1/7/2025) typed at the commune question, in four spellings
  B  what people call provinces and cities, at the province question
  C  current communes typed with a prefix ("p.", "phường", "xã", "x.")
  D  yes and no words, at the consent question and at a one-suggestion question
  E  stop words written as a message
  F  an answer that matches no choice
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import vietnam_provinces as vp
from vietnam_provinces import legacy
from vietnam_provinces._ward_conversion_2025 import OLD_TO_NEW

SEED = 20250701  # the day the two-level government began; any fixed number would do
PER_LEGACY_PROVINCE = 3  # group A: former communes drawn from each of the 63 former provinces
LETTERS = "abcdeghiklmnopqrstuvxy"  # the Vietnamese alphabet without diacritics, for typos

GROUPS = {
    "A": "former communes",
    "B": "province names",
    "C": "commune prefixes",
    "D": "yes and no words",
    "E": "stop words",
    "F": "not understood",
}

YES_WORDS = ("đúng", "đúng rồi", "có", "vâng", "dạ", "ừ", "ok", "đồng ý", "Dong y", "OK", "co")
NO_WORDS = ("không", "ko", "sai", "khong")
STOP_WORDS = (
    "dừng",
    "dừng nhận tin",
    "hủy đăng ký",
    "huỷ đăng ký",
    "không nhận nữa",
    "stop",
    "Dung nhan tin",
    "huy dang ky",
    "STOP",
)
STOP_ANSWERS = ("đồng ý", "1")  # after the offer to stop: a yes word, or the option's number

HCM, HANOI, HUE = "Thành phố Hồ Chí Minh", "Thành phố Hà Nội", "Thành phố Huế"
DAK_LAK, KHANH_HOA, DA_NANG = "Tỉnh Đắk Lắk", "Tỉnh Khánh Hòa", "Thành phố Đà Nẵng"
# What people call provinces and cities, and the official province each means: by hand.
PROVINCE_ALIASES: tuple[tuple[str, str], ...] = (
    ("TP HCM", HCM),
    ("HCM", HCM),
    ("TPHCM", HCM),
    ("tp hcm", HCM),
    ("Sài Gòn", HCM),
    ("sai gon", HCM),
    ("HN", HANOI),
    ("TP Hà Nội", HANOI),
    ("ha noi", HANOI),
    ("Huế", HUE),
    ("Thừa Thiên Huế", HUE),
    ("thua thien hue", HUE),
    ("Đắk Lắk", DAK_LAK),
    ("Daklak", DAK_LAK),
    ("dak lak", DAK_LAK),
    ("tp. Đà Nẵng", DA_NANG),
    ("t. Khánh Hòa", KHANH_HOA),
    ("tỉnh khanh hoa", KHANH_HOA),
    ("thành phố Cần Thơ", "Thành phố Cần Thơ"),
    ("Can Tho", "Thành phố Cần Thơ"),
    ("khanh hao", KHANH_HOA),  # a typo
    ("Nghe An", "Tỉnh Nghệ An"),
    ("Thanh Hoa", "Tỉnh Thanh Hóa"),
)
# Former provinces as people type them, and the former province's code: where it went
# comes from the package (Province.get_legacy_sources).
FORMER_PROVINCES_TYPED: tuple[tuple[str, int], ...] = (
    ("Bà Rịa Vũng Tàu", 77),
    ("ba ria vung tau", 77),
    ("Binh Duong", 74),
    ("Quảng Nam", 49),
    ("Hà Giang", 2),
    ("Kon Tum", 62),
    ("Hải Dương", 30),
)


@dataclass(frozen=True)
class Row:
    """One typed input, where it is typed, and what it must resolve to."""

    group: str
    typed: str  # what the member types under test
    expect: str  # the expected resolution, as a person reads it (for the report)
    step: str  # where the member is: fresh, province, commune, role, idle (registered)
    province_code: int | None = None  # the province chosen (commune step) or expected
    province_typed: str | None = None  # typed first at the province question, if any
    codes: tuple[int, ...] = ()  # the communes any of which is a right answer
    names: tuple[str, ...] = ()  # their official names, in the same order
    kinds: tuple[str, ...] = ()  # and their division types: xã, phường, đặc khu
    old_name: str | None = None  # a former commune's official name
    old_code: int | None = None  # and its own (legacy) code
    yes: bool | None = None  # group D: a yes word (True) or a no word (False)
    answer: str | None = None  # group E: typed after the offer to stop
    detail: str = ""  # how the row was made (variant, province path), for the report

    @property
    def province_name(self) -> str:
        """The official name of the province the row is about."""
        assert self.province_code is not None
        return province(self.province_code).name


def fold(text: str) -> str:
    """Lower case, no diacritics, "đ" as "d", single spaces: as people type on cheap phones."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split())


def bare(name: str, division_type: str) -> str:
    """A name without its division prefix: "Xã Vĩnh Kim" -> "Vĩnh Kim"."""
    prefix = division_type + " "
    return name[len(prefix) :] if name.lower().startswith(prefix.lower()) else name


def province_bare(name: str) -> str:
    """A province's name without "Tỉnh" or "Thành phố"."""
    for prefix in ("Tỉnh ", "Thành phố "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


@cache
def province(code: int) -> vp.Province:
    """A current province by code."""
    return vp.Province.from_code(vp.ProvinceCode(code))


@cache
def ward(code: int) -> vp.Ward:
    """A current commune by code."""
    return vp.Ward.from_code(vp.WardCode(code))


@cache
def legacy_wards() -> dict[int, legacy.Ward]:
    """Every former commune by its own (legacy) code."""
    return {int(w.code): w for w in legacy.Ward.iter_all()}


@cache
def former_province_successors() -> dict[int, tuple[int, ...]]:
    """Former province code -> the current provinces it went into (from get_legacy_sources)."""
    found: dict[int, list[int]] = defaultdict(list)
    for current in vp.Province.iter_all():
        for source in current.get_legacy_sources():
            found[int(source.code)].append(int(current.code))
    return {old: tuple(new) for old, new in found.items()}


@cache
def current_names_by_province() -> dict[int, dict[str, list[int]]]:
    """Current province -> folded bare commune name -> commune codes."""
    names: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for w in vp.Ward.iter_all():
        names[int(w.province_code)][fold(bare(w.name, w.division_type.value))].append(int(w.code))
    return names


@dataclass(frozen=True)
class Former:
    """A former commune and the current communes it went into, in the one province they lie."""

    code: int
    name: str
    division_type: str
    old_province: int
    province: int
    successors: tuple[int, ...]

    @property
    def bare(self) -> str:
        return bare(self.name, self.division_type)


@cache
def former_communes() -> dict[int, Former]:
    """Every former commune the package maps to current communes."""
    known = legacy_wards()
    result: dict[int, Former] = {}
    for code, entry in sorted(OLD_TO_NEW.items()):
        old = known.get(code)
        if old is None or not entry.new_wards:
            continue  # the table names a code the legacy list lacks: nothing to type
        provinces = sorted({n.province_code for n in entry.new_wards})
        new_province = provinces[0]  # the package maps no former commune to two provinces
        successors = tuple(n.code for n in entry.new_wards if n.province_code == new_province)
        result[code] = Former(
            code,
            old.name,
            old.division_type.value,
            entry.old_ward.province_code,
            new_province,
            successors,
        )
    return result


@cache
def former_names_by_province() -> dict[int, dict[str, list[int]]]:
    """Current province -> folded bare former commune name -> former commune codes."""
    names: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for former in former_communes().values():
        names[former.province][fold(former.bare)].append(former.code)
    return names


def has_letters(text: str) -> bool:
    return any(c.isalpha() for c in text)


def typo(name: str, province_code: int, rng: random.Random) -> str | None:
    """Drop or replace one inner letter of a folded name of 6+ letters; None if impossible.

    A "typo" that spells another real place of the province (current or former) is no typo
    anyone could undo, so such spellings are not used.
    """
    folded = fold(name)
    if sum(c.isalpha() for c in folded) < 6:
        return None
    taken = set(current_names_by_province()[province_code]) | set(
        former_names_by_province()[province_code]
    )
    inner = [i for i in range(1, len(folded) - 1) if folded[i].isalpha()]
    rng.shuffle(inner)
    for index in inner:
        if rng.random() < 0.5:
            spelled = folded[:index] + folded[index + 1 :]
        else:
            other = rng.choice(LETTERS.replace(folded[index], ""))
            spelled = folded[:index] + other + folded[index + 1 :]
        spelled = " ".join(spelled.split())
        if spelled not in taken:
            return spelled
    return None


VARIANTS = ("folded", "prefixed", "official", "typo")


def spell(former: Former, variant: str, rng: random.Random) -> tuple[str, str]:
    """Write a former commune's name in one of the four ways members type it."""
    if variant == "typo":
        typed = typo(former.bare, former.province, rng)
        if typed is not None:
            return typed, variant
        variant = "folded"  # too short for a typo: the plain folded name instead
    if variant == "folded" and not has_letters(former.bare):
        variant = "prefixed"  # "Phường 1" as "1" is a number, not a name
    if variant == "folded":
        return fold(former.bare), variant
    if variant == "prefixed":
        return fold(former.name), variant
    return former.name, variant


def former_province_typed(code: int, plain: bool) -> str:
    """A former province as typed: its name without "Tỉnh", with or without diacritics."""
    name = province_bare(legacy.Province.from_code(legacy.codes.ProvinceCode(code)).name)
    name = name.replace(" - ", " ")
    return fold(name) if plain else name


def merged_in(former: Former) -> bool:
    """Whether the former province went whole into a current one under another name."""
    new = former_province_successors().get(former.old_province, ())
    if len(new) != 1 or new[0] != former.province:
        return False
    old_name = legacy.Province.from_code(legacy.codes.ProvinceCode(former.old_province)).name
    return fold(province_bare(old_name)) != fold(province_bare(province(former.province).name))


def group_a() -> list[Row]:
    """Former communes drawn from each former province, typed at the commune question."""
    rng = random.Random(SEED)
    by_old_province: dict[int, list[Former]] = defaultdict(list)
    for former in former_communes().values():
        by_old_province[former.old_province].append(former)
    drawn: list[Former] = []
    for old_province in sorted(by_old_province):
        drawn += rng.sample(by_old_province[old_province], PER_LEGACY_PROVINCE)
    # A third reach the commune question by typing the former province; the rest by the
    # current province's name, or are put there straight through the database.
    candidates = [i for i, f in enumerate(drawn) if merged_in(f)]
    rng.shuffle(candidates)
    by_former = set(candidates[: len(drawn) // 3])
    rows: list[Row] = []
    others = 0
    for index, former in enumerate(drawn):
        typed, variant = spell(former, VARIANTS[index % len(VARIANTS)], rng)
        province_typed: str | None
        if index in by_former:
            path = "former province"
            province_typed = former_province_typed(former.old_province, plain=index % 2 == 1)
        else:
            path = ("seeded", "current province")[others % 2]
            others += 1
            province_typed = (
                province_bare(province(former.province).name)
                if path == "current province"
                else None
            )
        names = tuple(ward(c).name for c in former.successors)
        rows.append(
            Row(
                group="A",
                typed=typed,
                expect=" or ".join(names),
                step="province" if province_typed else "commune",
                province_code=former.province,
                province_typed=province_typed,
                codes=former.successors,
                names=names,
                kinds=tuple(ward(c).division_type.value for c in former.successors),
                old_name=former.name,
                old_code=former.code,
                detail=f"{former.name} ({variant}; {path}"
                + (f" “{province_typed}”" if province_typed else "")
                + ")",
            )
        )
    return rows


def group_b() -> list[Row]:
    """Common names of provinces and cities, and former provinces, at the province question."""
    by_name = {p.name: int(p.code) for p in vp.Province.iter_all()}
    rows = [
        Row("B", typed, name, "province", province_code=by_name[name])
        for typed, name in PROVINCE_ALIASES
    ]
    typed_former = [*FORMER_PROVINCES_TYPED]
    listed = {code for _, code in FORMER_PROVINCES_TYPED}
    successors = former_province_successors()
    for code in sorted(successors):
        old = legacy.Province.from_code(legacy.codes.ProvinceCode(code)).name
        went = successors[code]
        if code in listed or len(went) != 1:
            continue  # Tiền Giang went into two provinces: a choice, not an alias
        if fold(province_bare(old)) != fold(province_bare(province(went[0]).name)):
            typed_former.append((former_province_typed(code, plain=False), code))
    for typed, code in typed_former:
        (new,) = successors[code]
        rows.append(
            Row("B", typed, province(new).name, "province", province_code=new, detail="former")
        )
    return rows


def _plain_commune(code: int) -> bool:
    """A current commune only one place is called, now or before 1/7/2025, in its province."""
    w = ward(code)
    key = fold(bare(w.name, w.division_type.value))
    if not has_letters(key) or len(current_names_by_province()[int(w.province_code)][key]) != 1:
        return False
    formers = former_names_by_province()[int(w.province_code)].get(key, [])
    return all(former_communes()[f].successors == (code,) for f in formers)


def group_c() -> list[Row]:
    """Current communes typed with "p.", "phường", "xã" or "x." before the name."""
    rng = random.Random(SEED + 3)
    provinces = sorted(int(p.code) for p in vp.Province.iter_all())
    rng.shuffle(provinces)
    prefixes = {"phường": ("p. ", "phường "), "xã": ("xã ", "x. ")}
    wanted = {"phường": 5, "xã": 5}
    rows: list[Row] = []
    for province_code in provinces:
        kind = "phường" if wanted["phường"] >= wanted["xã"] else "xã"
        if not wanted[kind]:
            break
        pool = [
            int(w.code)
            for w in vp.Ward.iter_by_province(vp.ProvinceCode(province_code))
            if w.division_type.value == kind and _plain_commune(int(w.code))
        ]
        if not pool:
            continue
        code = rng.choice(pool)
        w = ward(code)
        turn = 5 - wanted[kind]  # this kind's 0th, 1st, ... row: each prefix, both spellings
        name = bare(w.name, kind)
        typed = prefixes[kind][turn % 2] + (name if turn % 4 < 2 else fold(name))
        rows.append(
            Row(
                "C",
                typed,
                w.name,
                "commune",
                province_code=province_code,
                codes=(code,),
                names=(w.name,),
                kinds=(kind,),
            )
        )
        wanted[kind] -= 1
    return rows


def one_suggestion_communes(count: int, avoid: set[int]) -> list[Former]:
    """Former communes with one successor of another name, and nothing else of their name."""
    rng = random.Random(SEED + 4)
    by_province: dict[int, list[Former]] = defaultdict(list)
    for former in former_communes().values():
        key = fold(former.bare)
        if (
            former.code in avoid
            or len(former.successors) != 1
            or not has_letters(key)
            or len(former_names_by_province()[former.province][key]) != 1
            or key in current_names_by_province()[former.province]
        ):
            continue
        by_province[former.province].append(former)
    provinces = sorted(by_province)
    rng.shuffle(provinces)
    return [rng.choice(by_province[p]) for p in (provinces * 2)[:count]]


def group_d(avoid: set[int]) -> list[Row]:
    """Yes and no words at the consent question, and at a one-suggestion question."""
    words = [(w, True) for w in YES_WORDS] + [(w, False) for w in NO_WORDS]
    rows = [
        Row(
            "D",
            word,
            "consent given, province asked" if yes else "declined, nothing stored",
            "fresh",
            yes=yes,
            detail="at the consent question",
        )
        for word, yes in words
    ]
    for (word, yes), former in zip(words, one_suggestion_communes(len(words), avoid), strict=True):
        (code,) = former.successors
        rows.append(
            Row(
                "D",
                word,
                ward(code).name if yes else "the commune question again",
                "commune",
                province_code=former.province,
                codes=(code,),
                names=(ward(code).name,),
                kinds=(ward(code).division_type.value,),
                old_name=former.name,
                old_code=former.code,
                yes=yes,
                detail=f"after “{former.name}”, one suggestion",
            )
        )
    return rows


def group_e() -> list[Row]:
    """Stop words from a registered member, and once in the middle of registration."""
    rows = [
        Row("E", word, f"offer to stop, then “{answer}” stops", "idle", answer=answer)
        for word in STOP_WORDS
        for answer in STOP_ANSWERS
    ]
    rows.append(
        Row(
            "E",
            "dừng",
            "offer to stop, then “không”: the role question again",
            "role",
            answer="không",
            detail="mid-registration",
        )
    )
    return rows


def group_f() -> list[Row]:
    """Typed words that match no choice of an options-only question."""
    return [Row("F", "abc xyz", "not understood, then the choices again", "role")]


@cache
def table() -> tuple[Row, ...]:
    """Every row of every group."""
    a = group_a()
    avoid = {row.old_code for row in a if row.old_code is not None}  # each drawn once
    return (*a, *group_b(), *group_c(), *group_d(avoid), *group_e(), *group_f())


def word_in(name: str, text: str) -> bool:
    """Whether an official name appears in a text as a whole name ("Xã Mỹ Sơn" not in
    "Xã Mỹ Sơn Đông")."""
    return re.search(re.escape(name) + r"(?!\w)", text) is not None
