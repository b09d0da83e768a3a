"""Compile and render broadcast templates: Jinja2's sandbox, strict names, escaped data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, Template, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from messages.filters import FILTERS

# One environment for the whole product. Autoescape turns <, >, & and quotes from data into
# entities, which is exactly what Telegram's HTML parse mode needs.
ENVIRONMENT = SandboxedEnvironment(
    autoescape=True,
    undefined=StrictUndefined,
    loader=PackageLoader("messages", "templates"),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters.update(FILTERS)

SAMPLE_SUBSCRIBER = {
    "name": "Nguyễn Văn An",
    "commune": "Xã Mỹ Sơn",
    "province": "Tỉnh Khánh Hòa",
    "cooperative": "HTX Nông nghiệp Mỹ Sơn",
}


class TemplateProblem(ValueError):
    """A template that cannot be compiled or rendered; the message says where and why."""


@dataclass(frozen=True)
class Compiled:
    """A template compiled once per broadcast; `personal` says if it names the recipient."""

    template: Template
    personal: bool

    def render(self, subscriber: dict[str, Any] | None = None) -> str:
        """Render for one recipient (or for everyone, when the template is not personal)."""
        try:
            return self.template.render(subscriber=subscriber or SAMPLE_SUBSCRIBER).strip()
        except TemplateError as exc:
            raise TemplateProblem(f"template error: {exc}") from exc


def compile_text(text: str) -> Compiled:
    """Compile a template and check it renders for a sample subscriber."""
    try:
        names = meta.find_undeclared_variables(ENVIRONMENT.parse(text))
        compiled = Compiled(ENVIRONMENT.from_string(text), personal="subscriber" in names)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise TemplateProblem(f"template error{where}: {exc}") from exc
    unknown = names - {"subscriber"}
    if unknown:
        raise TemplateProblem(f"template uses unknown names: {', '.join(sorted(unknown))}")
    if not compiled.render(SAMPLE_SUBSCRIBER):
        raise TemplateProblem("the message is empty")
    return compiled


def literal(html: str) -> Compiled:
    """Wrap text already rendered (from content or data) so that nothing in it is evaluated."""
    template = ENVIRONMENT.from_string("{{ html }}", globals={"html": Markup(html)})
    return Compiled(template, personal=False)


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


def numbered_choices(text: str, labels: list[str]) -> str:
    """Write choices as a numbered list under the text, for channels without buttons."""
    if not labels:
        return text
    lines = "\n".join(f"{number}. {label}" for number, label in enumerate(labels, 1))
    count = len(labels)
    hint = "Gõ 1 để chọn." if count == 1 else f"Gõ số từ 1 đến {count}, hoặc gõ tên để chọn."
    return f"{text}\n\n{lines}\n\n{hint}"
