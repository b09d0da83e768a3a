"""Staff templates cannot poison or hang anything; their markup is checked when written."""

from __future__ import annotations

import time

import pytest

from bot.simulator.telegram_html import parse_html
from messages.channels import check_html, plain, to_html
from messages.render import SAMPLE_SUBSCRIBER, TemplateProblem, compile_text, subscriber_context
from messages.staff import template_problem

FERTILISER = "Giá phân bón: ure < 15.000đ/kg & DAP > 20.000đ/kg"


def refused(text: str) -> tuple[TemplateProblem, float]:
    """Compile (and check) a template that must be refused; return why and how long it took."""
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as caught:
        compile_text(text)
    return caught.value, time.monotonic() - started


@pytest.mark.parametrize(
    "hostile",
    [
        "{% set _ = subscriber.clear() %}Họp HTX",
        "{% set s = subscriber %}{% set _ = s.clear() %}Họp HTX",
        "{% set _ = subscriber.update({'name': ''}) %}Họp HTX",
    ],
)
def test_a_preview_cannot_empty_the_sample_subscriber(hostile: str) -> None:
    before = dict(SAMPLE_SUBSCRIBER)
    refused(hostile)
    personal = compile_text("Chào {{ subscriber.name }}, họp HTX lúc 8h")
    assert personal.render() == "Chào Nguyễn Văn An, họp HTX lúc 8h"
    assert before == SAMPLE_SUBSCRIBER
    member = subscriber_context("Trần Thị Bình", None, None, None)
    assert personal.render(member) == "Chào Trần Thị Bình, họp HTX lúc 8h"
    assert member["name"] == "Trần Thị Bình"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("{{ 9 ** (9 ** 9) }}", "a number of more than 4,000 digits"),
        ("{{ 'x' * 200000000 }}", "longer than 50,000 characters or items (the output limit)"),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
            "range() of 100,000 items; at most 1,000",
        ),
        (
            "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}x",
            "loops run more than 100,000 times",
        ),
        (
            "{% for a in range(9) %}{% for b in range(9) %}{% for c in range(9) %}"
            "{% endfor %}{% endfor %}{% endfor %}x",
            "loops nest 3 deep (line 1); at most 2",
        ),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "nest more than 20 deep"),
        (
            "{% for i in range(1000) %}{{ 'x' * 40000 }}{% endfor %}",
            "longer than 50,000 characters (the output limit)",
        ),
        (
            "{% set a = range(1000)|list %}{% for x in a %}{% for y in a %}"
            "{% if a|sum > 0 %}{% endif %}{% endfor %}{% endfor %}x",
            "takes longer than 0.5 s to render",
        ),
        ("{{ 'x'|center(1000000000) }}", "would make more than 1,000,000 characters"),
        ("{{ '{:>1000000000}'.format(1) }}", "would make more than 1,000,000 characters"),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(60) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
            "longer than 50,000 characters or items",
        ),
    ],
)
def test_hangs_and_huge_values_stop_at_once_naming_the_limit(text: str, limit: str) -> None:
    problem, took = refused(text)
    assert limit in str(problem)
    assert took < 3
    assert template_problem(problem) != str(problem)  # officers read it in Vietnamese


def test_a_field_typo_names_the_fields() -> None:
    problem, _ = refused("Chào {{ subscriber.nme }}")
    assert str(problem) == "unknown field 'nme'; available: name, commune, province, cooperative"
    assert template_problem(problem) == (
        "không có trường “nme”; dùng được: name, commune, province, cooperative"
    )
    problem, _ = refused("{% set s = subscriber %}{{ s.nme }}")  # found only when rendering
    assert str(problem) == "unknown field 'nme'; available: name, commune, province, cooperative"
    problem, _ = refused("Chào {{ ten }}")
    assert str(problem) == (
        "unknown name 'ten'; available: subscriber.name, subscriber.commune, "
        "subscriber.province, subscriber.cooperative"
    )


def test_plain_text_is_escaped_and_shown_as_typed() -> None:
    html = compile_text(FERTILISER).render()
    assert html == "Giá phân bón: ure &lt; 15.000đ/kg &amp; DAP &gt; 20.000đ/kg"
    assert parse_html(html)[0] == FERTILISER  # what Telegram shows
    assert plain(html) == FERTILISER  # what Zalo shows
    assert compile_text("x <y và y> z").render() == "x &lt;y và y&gt; z"


def test_allowed_tags_are_kept_and_every_channel_reads_them() -> None:
    text = '<b>Họp</b> {{ subscriber.name }}: <i>8h</i>, <a href="https://htx.vn/a?b=1&c=2">xem</a>'
    html = compile_text(text).render()
    assert html == (
        '<b>Họp</b> Nguyễn Văn An: <i>8h</i>, <a href="https://htx.vn/a?b=1&amp;c=2">xem</a>'
    )
    shown, entities = parse_html(html)
    assert shown == "Họp Nguyễn Văn An: 8h, xem"
    assert {"type": "text_link", "offset": 23, "length": 3, "url": "https://htx.vn/a?b=1&c=2"} in (
        entities
    )
    assert plain(html) == "Họp Nguyễn Văn An: 8h, xem (https://htx.vn/a?b=1&c=2)"
    # The HTML of an officer's Telegram message passes as it is: its entities are kept.
    telegram = "<b>Giá</b> ure &lt; 15.000đ &amp; DAP &gt; 20.000đ &quot;mới&quot;"
    assert compile_text(telegram).render() == telegram
    assert to_html(telegram) == telegram


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Họp <span>HTX</span>", "tag <span> is not allowed; use <b>, <i>, <u>, <s>"),
        ("Họp <div>HTX</div>", "tag <div> is not allowed"),
        ("<b>Họp HTX", "tag <b> is not closed (add </b>)"),
        ("<b>Họp <i>HTX</b></i>", "tag <i> is not closed before </b>"),
        ("Họp HTX</b>", "closing tag </b> has no opening <b>"),
        ('<a href="javascript:alert(1)">xem</a>', 'needs href="https://…"'),
        ('<b style="color:red">Họp</b>', "attribute 'style' is not allowed in <b>"),
        ("{{ '<span>'|safe }}", "|safe is not allowed"),
    ],
)
def test_markup_outside_the_allowed_forms_is_refused_by_name(text: str, problem: str) -> None:
    found, _ = refused(text)
    assert problem in str(found)
    assert template_problem(found) != str(found)  # officers read it in Vietnamese


def test_checked_html_is_what_telegram_accepts() -> None:
    for good in ("<b>a</b> &amp; <i>b</i>", '<pre><code class="python">x</code></pre>'):
        assert check_html(good) == good
        parse_html(good)
    for bad in ("a & b", "a < b", "<b>a"):
        with pytest.raises(ValueError):
            check_html(bad)


def test_a_personal_template_slow_to_fill_in_is_refused_when_written() -> None:
    slow = (
        "{% for a in range(1000) %}{% for b in range(99) %}{% set x = a * b %}"
        "{% endfor %}{% endfor %}Chào {{ subscriber.name }}"
    )
    found, _ = refused(slow)
    assert found.reason == "slow"
    assert "to fill in for one member; at most 0.01 s" in str(found)
    assert "mỗi người nhận" in template_problem(found)
    assert compile_text("Chào {{ subscriber.name }}").render() == "Chào Nguyễn Văn An"
