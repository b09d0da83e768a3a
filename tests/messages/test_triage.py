"""Triage rules: topics and flags from what members type, with or without diacritics."""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from pathlib import Path

import pytest

from db.textmatch import fold
from messages.triage import (
    CATEGORIES,
    DEFAULT_RULES,
    Rules,
    RulesProblem,
    Triage,
    load_rules,
    parse_rules,
    rules_in_use,
)

# Everyday words that folding makes out of other words: an entry equal to one of them would
# match ordinary messages ("nợ" is "no" as in "ăn no", "vay" is "vậy", "đất" is "đặt", "đạt").
EVERYDAY = {
    "a", "an", "ba", "ban", "bo", "buoi", "ca", "cac", "cho", "co", "con", "cu", "da", "dan",
    "dat", "de", "deo", "di", "do", "du", "duoc", "e", "gi", "gia", "giong", "hoi", "khi", "la",
    "lai", "lon", "luc", "ma", "mat", "may", "moi", "nam", "no", "nay", "nha", "o", "ra", "sao",
    "so", "tam", "thue", "tien", "toi", "tot", "tu", "va", "vai", "vay", "ve", "von", "xa",
}  # fmt: skip
# Everyday phrases with the same trouble: "sao lại vậy" holds "lai vay" (lãi vay).
EVERYDAY_PHRASES = {
    "lai vay", "cho ma", "do cho", "con cho", "khoa hoc", "tham quan", "quan tham", "hoi cho",
    "dau ra", "gian no", "hoi lo", "thang cho", "vo hoc", "con giong", "do an", "bon cho",
    "cho de", "vai lon", "con dau", "khac dau", "dat o", "mat nuoc", "vang la", "do dien",
}  # fmt: skip


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Toi muon vay von ngan hang de mua giong", "von"),
        ("LAI SUAT NGAN HANG CAO QUA, KHONG TRA NO DUOC", "von"),
        ("XIN HOI THU TUC DANG KY HTX", "thu_tuc"),
        ("ho so xin giay phep kinh doanh nop o dau", "thu_tuc"),
        ("so do dat bi cap sai", "dat_dai"),
        ("Ruong bi thu hoi dat ma chua duoc den bu", "dat_dai"),
        ("gia lua ha qua khong ban duoc", "thi_truong"),
        ("THUONG LAI EP GIA, KHONG CO DAU RA", "thi_truong"),
        ("sau benh hai lua", "ky_thuat"),
        ("Tôm chết hàng loạt vì xâm nhập mặn", "ky_thuat"),
        ("nha nuoc co chinh sach uu dai gi cho htx moi khong", "chinh_sach"),
        ("Xin hoi ve Nghi dinh 45/2021/ND-CP", "chinh_sach"),
        ("SAN PHAM CUA HTX DA DAT 3 SAO CHUA", "ocop"),
        ("Bao gio co lop tap huan ky thuat trong nam", "tap_huan"),
        ("Cảm ơn HTX, chúc mọi người sức khỏe", "khac"),
        ("Sao lại vậy, tôi đặt hàng rồi mà", "khac"),  # "lại vậy", "đặt" are not lãi vay, đất
    ],
)
def test_topic_without_diacritics_or_case(rules: Rules, text: str, topic: str) -> None:
    assert rules.triage(text).topic == topic


def test_the_same_text_with_and_without_diacritics_matches_alike(rules: Rules) -> None:
    accented = rules.triage("Tôi muốn VAY VỐN ngân hàng")
    plain = rules.triage("toi muon vay von ngan hang")
    decomposed = rules.triage(unicodedata.normalize("NFD", "Tôi muốn VAY VỐN ngân hàng"))
    assert accented == plain == decomposed == Triage("von", (), ("vay vốn", "ngân hàng"))


def test_ties_go_to_the_topic_listed_first(rules: Rules) -> None:
    # tap_huan (tập huấn) and ky_thuat (kỹ thuật) match once each; tap_huan is listed first.
    assert list(rules.topics).index("tap_huan") < list(rules.topics).index("ky_thuat")
    assert rules.triage("tập huấn kỹ thuật").topic == "tap_huan"
    # Two thu_tuc entries beat one von entry.
    assert rules.triage("thủ tục hồ sơ vay tiền").topic == "thu_tuc"


def test_a_chosen_category_wins_over_words(rules: Rules) -> None:
    result = rules.triage("lãi suất ngân hàng cao quá", category="dat_dai")
    assert result == Triage("dat_dai", (), ())  # dat_dai words: none in the text
    assert rules.triage("sổ đỏ", category="dat_dai").matched == ("sổ đỏ",)


def test_category_khac_or_unknown_leaves_the_words_to_decide(rules: Rules) -> None:
    # A member who picks "Khác" says "none of the listed", but the words may still know better.
    assert rules.triage("lãi suất ngân hàng cao quá", category="khac").topic == "von"
    assert rules.triage("lãi suất ngân hàng cao quá", category="khong_co").topic == "von"
    assert rules.triage("xin chào", category="khac").topic == "khac"


def test_flags_come_from_the_text_even_with_a_category(rules: Rules) -> None:
    result = rules.triage("dm bọn cán bộ, tin đồn thu hồi hết đất", category="von")
    assert result.topic == "von"
    assert result.flags == ("abusive", "sensitive")
    assert result.matched == ("re: \\bd[ck]?m+\\b", "tin đồn", "thu hồi hết đất")


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("Tin đồn: nhà nước thu hồi hết đất", ("sensitive",)),
        ("TIN DON: NHA NUOC THU HOI HET DAT", ("sensitive",)),
        ("chia se gap cho moi nguoi", ("sensitive",)),
        ("Nộp phí 200k để được nhận hỗ trợ", ("sensitive",)),
        ("nop tien de duoc cap so", ("sensitive",)),
        ("Cả làng kéo nhau lên huyện", ("sensitive",)),
        ("tin này đang lan truyền trên mạng xã hội", ("sensitive",)),
        ("dm bon can bo", ("abusive",)),
        ("ĐCM lũ cán bộ", ("abusive",)),
        ("đồ khốn nạn, lừa đảo", ("abusive", "sensitive")),
        ("thang cha nay mat day", ("abusive",)),
    ],
)
def test_flags_with_and_without_diacritics(rules: Rules, text: str, flags: tuple[str, ...]) -> None:
    assert rules.triage(text).flags == flags


@pytest.mark.parametrize(
    "text",
    [
        "Đồng Mỹ",  # "dm" only as a word of its own
        "HTX Đồng Minh, xã Đông Mỹ",
        "người dân nói giá lúa giảm",
        "Tôi nghe nói có lớp tập huấn",  # "nghe nói" alone is too common to flag
        "Tôi đi chợ mua đồ cho con",
        "HTX đã chuyển tiền bán lúa cho tôi chưa?",
        "Dịch bệnh lan truyền nhanh trong đàn lợn",
        "Dc roi, cam on HTX",  # "dc" is "được"
        "Gia hạn thêm 3 tháng cho tôi",
        "Mua vở học sinh cho con",
        "Tôi hơi lo vụ này mất mùa",
        "Vài lon bia mừng được mùa",
    ],
)
def test_no_flag_for_ordinary_texts(rules: Rules, text: str) -> None:
    assert rules.triage(text).flags == ()


def test_shipped_file_has_the_categories_and_labels(rules: Rules) -> None:
    assert rules.categories == [
        ("von", "Vốn, tín dụng"),
        ("dat_dai", "Đất đai"),
        ("thi_truong", "Thị trường, tiêu thụ"),
        ("thu_tuc", "Thủ tục hành chính"),
        ("ky_thuat", "Kỹ thuật sản xuất"),
        ("khac", "Khác"),
    ]
    assert set(CATEGORIES) <= set(rules.topics)
    assert rules.topics["khac"].entries == ()
    assert rules.label("ocop") == "OCOP"
    assert rules.label("abusive") == "Ngôn từ thô tục, xúc phạm"
    assert rules.label("khong_co") == "khong_co"
    assert DEFAULT_RULES.name == "triage.yaml" and DEFAULT_RULES.parent.name == "messages"


def test_shipped_word_lists_are_rich(rules: Rules) -> None:
    for key, rule in rules.topics.items():
        assert key == "khac" or 15 <= len(rule.entries) <= 45, key
    assert set(rules.flags) == {"abusive", "sensitive"}
    assert all(len(rule.entries) >= 25 for rule in rules.flags.values())


def test_no_entry_is_an_everyday_word_once_folded(rules: Rules) -> None:
    every = [*rules.topics.values(), *rules.flags.values()]
    words = [fold(e) for rule in every for e in rule.entries if not e.startswith("re:")]
    assert len(words) > 250
    assert sorted(w for w in words if w in EVERYDAY or w in EVERYDAY_PHRASES) == []


def test_raw_regexes_of_the_shipped_file_match_what_they_mean(rules: Rules) -> None:
    for text in ["dm", "DCM", "dmmm", "đkm"]:
        assert rules.triage(text).flags == ("abusive",), text
    for text in ["dc", "dmc", "adm", "d m2"]:
        assert rules.triage(text).flags == (), text


BROKEN = """\
topics:
  von:
    label: Vốn
    words: [vay vốn, '', 're: (unclosed']
  dat_dai: {label: Đất đai, words: [sổ đỏ]}
  thi_truong: {label: Thị trường, words: [thương lái, Thương Lái]}
  thu_tuc: {label: Thủ tục, words: [thủ tục]}
  ky_thuat: {label: Kỹ thuật, words: [kỹ thuật, 're: a*']}
  von: {label: Lặp lại, words: [vốn vay]}
  Bad-Key: {label: Xấu, words: [xấu]}
  tap_huan: {label: '', words: [tập huấn], extra: 1}
flags:
  abusive: {label: Thô tục}
"""


def test_every_problem_is_reported_at_once_with_its_place() -> None:
    with pytest.raises(RulesProblem) as caught:
        parse_rules(BROKEN, source="bad.yaml")
    assert caught.value.errors == [
        "bad.yaml:9: topics.von: given twice",
        "bad.yaml:4: topics.von.words.1: empty entry",
        "bad.yaml:4: topics.von.words.2: bad regex '(unclosed': "
        "missing ), unterminated subpattern at position 0",
        "bad.yaml:6: topics.thi_truong.words.1: same as entry 0 once folded",
        "bad.yaml:8: topics.ky_thuat.words.1: regex 'a*' matches empty text, so every message",
        "bad.yaml:10: topics.Bad-Key: key must be snake_case: a-z, 0-9, _ (at most 32)",
        "bad.yaml:11: topics.tap_huan.extra: unknown key (known: label, words)",
        "bad.yaml:11: topics.tap_huan.label: empty",
        "bad.yaml:13: flags.abusive: missing 'words:' (a list, [] for none)",
        "bad.yaml:2: topics: missing khac (the 'báo khó khăn' categories)",
    ]
    assert str(caught.value) == "\n".join(caught.value.errors)


def test_khac_must_have_no_words_and_others_must_have_some() -> None:
    text = _minimal().replace("khac: {label: Khác, words: []}", "khac: {label: Khác, words: [x]}")
    text = text.replace("words: [thủ tục]", "words: []")
    with pytest.raises(RulesProblem) as caught:
        parse_rules(text)
    assert caught.value.errors == [
        "triage.yaml:6: topics.thu_tuc: has no words (only topics.khac may have none)",
        "triage.yaml:8: topics.khac: the fallback topic must have no words",
    ]


def test_not_yaml_or_not_a_mapping() -> None:
    with pytest.raises(RulesProblem, match=r"^triage.yaml:3: not valid YAML: expected ',' or ']'"):
        parse_rules("topics:\n  - [unclosed\n")
    with pytest.raises(RulesProblem) as caught:
        parse_rules("- a\n- b\n")
    assert caught.value.errors[0] == "triage.yaml:1: expected a mapping of keys to values"
    with pytest.raises(RulesProblem) as caught:
        parse_rules(_minimal() + "extra: 1\n")
    assert caught.value.errors == ["triage.yaml:11: extra: unknown key (known: flags, topics)"]


def test_a_flag_key_may_be_new_but_not_a_topic_key() -> None:
    rules = parse_rules(_minimal() + "  spam: {label: Quảng cáo, words: [khuyến mãi]}\n")
    assert rules.triage("KHUYEN MAI lon").flags == ("spam",)
    with pytest.raises(RulesProblem, match=r"flags\.von: same key as a topic"):
        parse_rules(_minimal() + "  von: {label: Vốn, words: [vay]}\n")


def test_regex_entries_in_either_yaml_form() -> None:
    text = _minimal().replace("words: [tục tĩu]", "words: [tục tĩu, 're: \\bdm+\\b']")
    text += "  extra:\n    label: Thêm\n    words:\n      - re: \\bvc+l\\b\n"
    rules = parse_rules(text)
    assert rules.triage("DMMM").matched == ("re: \\bdm+\\b",)
    assert rules.triage("vccl").matched == ("re: \\bvc+l\\b",)


def test_load_rules_picks_up_an_edited_file(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text(_minimal(), encoding="utf-8")
    first = load_rules(path)
    assert load_rules(path) is first  # unchanged: not parsed again
    assert first.triage("giá lúa thấp").topic == "khac"
    path.write_text(_minimal().replace("[thương lái]", "[giá lúa]"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert load_rules(path).triage("giá lúa thấp").topic == "thi_truong"


def test_load_rules_names_the_file_in_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(RulesProblem) as caught:
        load_rules(path)
    assert all(re.match(re.escape(str(path.resolve())) + r":\d+: ", e) for e in caught.value.errors)


def _minimal() -> str:
    return """\
topics:
  von: {label: Vốn, words: [vay vốn]}
  dat_dai: {label: Đất đai, words: [sổ đỏ]}
  thi_truong: {label: Thị trường, words: [thương lái]}
  ky_thuat: {label: Kỹ thuật, words: [kỹ thuật]}
  thu_tuc: {label: Thủ tục, words: [thủ tục]}
  # the fallback
  khac: {label: Khác, words: []}
flags:
  abusive: {label: Thô tục, words: [tục tĩu]}
"""


def test_a_broken_rules_file_falls_back_to_the_shipped_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("topics:\n  von: {label: Vốn, words: [re: '(']}\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        rules = rules_in_use(broken)
    assert rules.triage("vay vốn ngân hàng").topic == "von"  # still triaged, with the shipped ones
    assert f"triage rules {broken} unusable, using the shipped ones" in caplog.text
    assert rules_in_use(tmp_path / "missing.yaml").triage("so do dat").topic == "dat_dai"
