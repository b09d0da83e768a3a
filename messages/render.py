"""Compile and render broadcast templates: Jinja2's sandbox, strict names, escaped data.

A staff template is plain text (with the few tags every channel takes, see
`messages.channels`) and Jinja2: its text parts become Telegram HTML when it is compiled, the
names and fields it uses are checked, and it renders once for a sample subscriber under the
sandbox's budget (`messages.sandbox`). Every problem, at compile or at render time, is a
`TemplateProblem` whose message names what is wrong: an unknown field and the fields there
are, the limit passed, the tag refused.
"""

from __future__ import annotations

import html as _html
import re
import time
from dataclasses import dataclass
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, Template, TemplateError, UndefinedError, meta
from jinja2 import nodes as jn
from markupsafe import Markup

from messages.channels import MarkupProblem, check_html, to_html
from messages.filters import FILTERS
from messages.sandbox import (
    BUDGET,
    OUTPUT_LIMIT,
    SECONDS,
    Budget,
    Guards,
    LimitedSandbox,
    TemplateProblem,
)

__all__ = [
    "ENVIRONMENT",
    "FIELDS",
    "SAMPLE_SUBSCRIBER",
    "Compiled",
    "TemplateProblem",
    "check_literal",
    "compile_text",
    "jinja_code",
    "literal",
    "subscriber_context",
]

# One environment for the whole product. Autoescape turns <, >, & and quotes from data into
# entities, which is exactly what Telegram's HTML parse mode needs.
ENVIRONMENT = LimitedSandbox(
    autoescape=True,
    undefined=StrictUndefined,
    loader=PackageLoader("messages", "templates"),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.add_filters(FILTERS)

FIELDS = ("name", "commune", "province", "cooperative")
SAMPLE_SUBSCRIBER = {
    "name": "Nguyễn Văn An",
    "commune": "Xã Mỹ Sơn",
    "province": "Tỉnh Khánh Hòa",
    "cooperative": "HTX Nông nghiệp Mỹ Sơn",
}
RENDER_SECONDS = 0.01  # to fill a personal template in for one recipient (50 µs is usual)
SOURCE_LIMIT = 30_000  # characters of a template: more than five Telegram messages hold
_READS = frozenset({"get", "items", "keys", "values"})  # what a template may ask a dict
_JINJA_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_NO_ATTRIBUTE = re.compile(r"has no attribute '([^']*)'|'([^']*)' is undefined")


@dataclass(frozen=True)
class Compiled:
    """A template compiled once per broadcast; `personal` says if it names the recipient."""

    template: Template | None
    personal: bool
    html: str = ""  # literal: the text as it is, when `template` is None
    seconds: float = SECONDS

    def render(self, subscriber: dict[str, Any] | None = None) -> str:
        """Render for one recipient (or for everyone, when the template is not personal).

        Each render gets its own copy of the subscriber's values and its own budget; the
        result is checked as Telegram HTML. Any problem is a TemplateProblem.
        """
        return self.render_within(Budget(self.seconds), subscriber)

    def render_within(self, budget: Budget, subscriber: dict[str, Any] | None = None) -> str:
        """Render on a budget already running (the one a check at creation started)."""
        if self.template is None:
            return _checked(self.html.strip())
        context = {"subscriber": dict(subscriber or SAMPLE_SUBSCRIBER)}
        token = BUDGET.set(budget)
        try:
            text = _generate(self.template, context)
        except TemplateProblem:
            raise
        except UndefinedError as exc:
            raise _unknown(str(exc)) from exc
        except TemplateError as exc:
            raise TemplateProblem(f"template error: {exc}", "error", detail=str(exc)) from exc
        except (RecursionError, MemoryError) as exc:
            raise TemplateProblem(
                "the template nests too deep (a macro calling itself?)", "depth"
            ) from exc
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
            raise TemplateProblem(
                f"template error: {type(exc).__name__}: {exc}", "error", detail=str(exc)
            ) from exc
        finally:
            BUDGET.reset(token)
        return _checked(text.strip())


def _generate(template: Template, context: dict[str, Any]) -> str:
    """Render piece by piece, stopping as soon as the output passes OUTPUT_LIMIT."""
    budget = BUDGET.get()
    pieces: list[str] = []
    size = 0
    for piece in template.generate(context):
        size += len(piece)
        if size > OUTPUT_LIMIT:
            raise TemplateProblem(
                f"the message is longer than {OUTPUT_LIMIT:,} characters (the output limit)",
                "output",
                limit=OUTPUT_LIMIT,
            )
        if budget is not None:
            budget.tick()
        pieces.append(piece)
    return "".join(pieces)


def _checked(text: str) -> str:
    try:
        return check_html(text)
    except MarkupProblem as problem:
        raise TemplateProblem(str(problem), problem.reason, **problem.details) from problem


def compile_text(text: str, seconds: float = SECONDS) -> Compiled:
    """Compile a staff template and check it renders for a sample subscriber.

    Its text is plain: `<`, `>` and `&` are shown as typed, the allowed tags kept, others
    refused by name; fields are checked (`unknown field 'nme'; available: name, …`).
    Compiling and the sample render share one budget of `seconds`.
    """
    if len(text) > SOURCE_LIMIT:
        raise TemplateProblem(
            f"the template has {len(text):,} characters; at most {SOURCE_LIMIT:,}",
            "source",
            limit=SOURCE_LIMIT,
        )
    # Jinja computes constant parts while compiling ('x'|center(10**9) too): budgeted.
    budget = Budget(seconds)
    token = BUDGET.set(budget)
    try:
        tree = ENVIRONMENT.parse(text)
        names = meta.find_undeclared_variables(tree)
        _check_names(tree, names)
        _to_html(tree)
        tree = Guards().visit(tree)
        tree.set_environment(ENVIRONMENT)
        template = ENVIRONMENT.from_string(tree)
        compiled = Compiled(template, personal="subscriber" in names, seconds=seconds)
    except TemplateProblem:
        raise
    except MarkupProblem as problem:
        raise TemplateProblem(str(problem), problem.reason, **problem.details) from problem
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise TemplateProblem(
            f"template error{where}: {exc}", "syntax", line=line, detail=str(exc)
        ) from exc
    except (RecursionError, SyntaxError, MemoryError) as exc:  # Python's own nesting limits
        raise TemplateProblem("the template nests too deep", "depth") from exc
    finally:
        BUDGET.reset(token)
    started = time.monotonic()
    if not compiled.render_within(budget, SAMPLE_SUBSCRIBER):
        raise TemplateProblem("the message is empty", "empty")
    if not compiled.personal:
        return compiled  # rendered once for everyone
    # Filled in for each recipient while the broadcast sends: a template slow for one member
    # would hold up the sending of every other broadcast for as many members as it has. The
    # quicker of two fillings is what counts, so that a pause of the machine's is not taken
    # for the template's.
    took = time.monotonic() - started
    if took > RENDER_SECONDS:
        again = time.monotonic()
        compiled.render(SAMPLE_SUBSCRIBER)
        took = min(took, time.monotonic() - again)
    if took > RENDER_SECONDS:
        raise TemplateProblem(
            f"the template takes {took:.2f} s to fill in for one member; at most "
            f"{RENDER_SECONDS:g} s, since it is filled in for each recipient as it sends",
            "slow",
            seconds=RENDER_SECONDS,
        )
    return compiled


def _check_names(tree: jn.Template, names: set[str]) -> None:
    """Refuse a name or a subscriber field that is not there, saying which ones are."""
    unknown = sorted(names - {"subscriber"})
    if unknown:
        raise _unknown_name(unknown[0])
    for node in tree.find_all((jn.Getattr, jn.Getitem)):
        assert isinstance(node, jn.Getattr | jn.Getitem)
        if not (isinstance(node.node, jn.Name) and node.node.name == "subscriber"):
            continue
        if isinstance(node, jn.Getattr):
            field = node.attr
            if field not in FIELDS and field not in _READS:
                raise _unknown_field(field)
        elif isinstance(node.arg, jn.Const) and node.arg.value not in FIELDS:
            raise _unknown_field(str(node.arg.value))


def _unknown_field(field: str) -> TemplateProblem:
    available = ", ".join(FIELDS)
    return TemplateProblem(
        f"unknown field {field!r}; available: {available}",
        "field",
        field=field,
        available=available,
    )


def _unknown_name(name: str) -> TemplateProblem:
    available = ", ".join(f"subscriber.{f}" for f in FIELDS)
    return TemplateProblem(
        f"unknown name {name!r}; available: {available}", "name", name=name, available=available
    )


def _unknown(message: str) -> TemplateProblem:
    """Translate StrictUndefined's words into the fields there are."""
    found = _NO_ATTRIBUTE.search(message)
    if found and found[1] is not None:
        return _unknown_field(found[1])
    if found and found[2] is not None:
        return _unknown_name(found[2])
    return TemplateProblem(f"template error: {message}", "error", detail=message)


def jinja_code(html: str) -> str:
    """Undo HTML escaping inside {{ }}, {% %} and {# #} of a template written as HTML.

    Telegram gives an officer's message as HTML, `"` written `&quot;` and `>` `&gt;`, in
    the Jinja code too; the text around it keeps its entities.
    """
    return _JINJA_CODE.sub(lambda found: _html.unescape(found[0]), html)


def _to_html(tree: jn.Template) -> None:
    """Turn the template's own text (not its expressions) into Telegram HTML."""
    for node in tree.find_all(jn.TemplateData):
        node.data = to_html(node.data)


def check_literal(html: str) -> str:
    """Check HTML our code made (a poll, a content item) as Telegram will read it; return it.

    The same checker as a template's output: the allowed tags, closed in order, entities.
    """
    return _checked(html)


def literal(html: str) -> Compiled:
    """Wrap text already rendered (from content or data) so that nothing in it is evaluated."""
    return Compiled(None, personal=False, html=str(Markup(html)))


def subscriber_context(
    name: str | None, commune: str | None, province: str | None, cooperative: str | None
) -> dict[str, Any]:
    """Build what a template may say about its recipient; missing values read naturally."""
    return {
        "name": name or "bà con",
        "commune": commune or "",
        "province": province or "",
        "cooperative": cooperative or "",
    }


def numbered_choices(text: str, labels: list[str], *, aside: bool = False) -> str:
    """Write choices as a numbered list under the text, for channels without buttons.

    With `aside`, the answer is typed and the choices are only ways out (go back, skip): they
    are mentioned in passing, "(Gõ 1 nếu muốn chọn lại tỉnh.)", so that nobody takes typing
    1 for the answer to the question.
    """
    if not labels:
        return text
    if aside:
        ways = ", ".join(f"{n} nếu muốn {_lower_first(label)}" for n, label in enumerate(labels, 1))
        return f"{text}\n\n(Gõ {ways}.)"
    lines = "\n".join(f"{number}. {label}" for number, label in enumerate(labels, 1))
    count = len(labels)
    if count == 1:
        hint = "Gõ 1 để chọn."
    elif count == 2:
        hint = "Gõ 1 hoặc 2 để chọn."
    else:
        hint = f"Gõ số từ 1 đến {count} hoặc gõ tên để chọn."
    return f"{text}\n\n{lines}\n\n{hint}"


def _lower_first(label: str) -> str:
    """Lower a label's first letter to go mid-sentence ("Bỏ qua" -> "bỏ qua"), not an acronym's."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]
