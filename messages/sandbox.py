"""The Jinja2 sandbox staff templates render in: immutable data and a budget for every render.

`ImmutableSandboxedEnvironment` refuses calls that change data (`subscriber.clear()`,
`list.append`); on top of it, while a `Budget` is active (every render of a staff template),
each way a template can take time or memory is bounded, and going past a bound stops the
render at once with a `TemplateProblem` naming it:

- the output (`OUTPUT_LIMIT` characters, counted as it is generated) and every value made on
  the way (`VALUE_LIMIT`: `'x' * n`, `a + b`, `a ~ b`, a filter's or a method's result);
- numbers (`NUMBER_DIGITS`: `9 ** (9 ** 9)` is refused before it is computed);
- `range()` (`RANGE_LIMIT` items), loops nested in the source (`LOOP_NESTING`), iterations
  of all loops together (`ITERATIONS`), calls (`CALLS`), calls nested in calls (`CALL_DEPTH`:
  a recursive macro) and time (`Budget.seconds`, checked at each call, iteration and output).

Templates the product ships (`messages/templates/`) render in the same environment without a
budget: nothing is counted for them.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes
from jinja2.runtime import Context, markup_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

# Characters of a rendered message: above what five Telegram messages hold (5 × 4,096 and
# the markup), so a text that is merely long is told how many messages it would make.
OUTPUT_LIMIT = 50_000
VALUE_LIMIT = OUTPUT_LIMIT  # characters of a string, or items of a list, made by a template
WORK_LIMIT = 1_000_000  # what one operation may touch: refused before it runs when above
NUMBER_DIGITS = 4_000  # digits of a number (Python itself refuses to print above 4,300)
RANGE_LIMIT = 1_000
LOOP_NESTING = 2
ITERATIONS = 100_000
CALLS = 10_000
CALL_DEPTH = 20
SECONDS = 0.5

_NUMBER_BITS = int(NUMBER_DIGITS * 3.3219)  # log2(10)
_DIGITS = re.compile(r"\d+")


class TemplateProblem(ValueError):
    """A template that cannot be compiled or rendered; the message says where and why.

    `reason` names the kind of problem ("syntax", "field", "output", "time", "tag", ...) and
    `details` its figures, so each conversation can say it in its own words.
    """

    def __init__(self, message: str, reason: str = "error", **details: Any) -> None:
        super().__init__(message)
        self.reason, self.details = reason, details


def _limit(reason: str, message: str, **details: Any) -> TemplateProblem:
    return TemplateProblem(message, reason, **details)


@dataclass
class Budget:
    """What one render may still spend; active for the render through `BUDGET`."""

    seconds: float = SECONDS
    deadline: float = field(init=False)
    calls: int = 0
    depth: int = 0
    iterations: int = 0

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def tick(self) -> None:
        """Stop the render when its time is spent."""
        if time.monotonic() > self.deadline:
            raise _limit(
                "time",
                f"the template takes longer than {self.seconds:g} s to render",
                seconds=self.seconds,
            )


BUDGET: ContextVar[Budget | None] = ContextVar("template_budget", default=None)


def _size(value: Any) -> int:
    """Measure a value the way the limits count: characters, items (and their characters)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() // 3
    if isinstance(value, list | tuple | dict | set | frozenset):
        return len(value) + sum(len(v) for v in value if isinstance(v, str))
    return 0


def _check_value(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _NUMBER_BITS:
            raise _too_big_number()
    elif _size(value) > VALUE_LIMIT:
        raise _too_long()
    return value


def _too_long() -> TemplateProblem:
    return _limit(
        "value",
        f"the template makes a text or list longer than {VALUE_LIMIT:,} characters or "
        "items (the output limit)",
        limit=VALUE_LIMIT,
    )


def _too_big_number() -> TemplateProblem:
    return _limit(
        "number",
        f"the template computes a number of more than {NUMBER_DIGITS:,} digits",
        limit=NUMBER_DIGITS,
    )


def _too_much_work() -> TemplateProblem:
    return _limit(
        "work",
        f"an operation in the template would make more than {WORK_LIMIT:,} characters",
        limit=WORK_LIMIT,
    )


def _widths(text: str) -> None:
    """Refuse a format string asking for a width or precision above the output limit."""
    if any(len(d) > 6 or int(d) > VALUE_LIMIT for d in _DIGITS.findall(text)):
        raise _too_much_work()


def _precheck(this: Any, args: Iterable[Any], formats: bool) -> None:
    """Refuse an operation whose result could be huge, before it runs.

    The estimate: the size of what it works on times the longest text it inserts or the
    largest number it is given (a width, a count), which itself may not pass VALUE_LIMIT;
    `formats` also reads the widths in a format string.
    """
    inserted, numbers = 0, 0
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool):
            numbers = max(numbers, abs(arg))
        else:
            inserted = max(inserted, _size(arg))
    if numbers > VALUE_LIMIT or _size(this) * (1 + max(inserted, numbers)) > WORK_LIMIT:
        raise _too_much_work()
    if formats and isinstance(this, str):
        _widths(this)


def range_items(*args: int) -> Iterator[int]:
    """`range()` for templates: at most RANGE_LIMIT items."""
    numbers = range(*args)
    if len(numbers) > RANGE_LIMIT:
        raise _limit(
            "range",
            f"range() of {len(numbers):,} items; at most {RANGE_LIMIT:,}",
            limit=RANGE_LIMIT,
        )
    return iter(numbers)


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """The one environment: immutable sandbox, with the limits above while a Budget is active."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = range_items
        self.globals.pop("lipsum", None)  # lipsum(n=10**9) would fill memory

    def add_filters(self, filters: Mapping[str, Callable[..., Any]]) -> None:
        """Add filters; every filter (Jinja's and ours) is checked like a call under a budget."""
        self.filters.update(filters)
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        """Refuse `**`, `*`, `+` and `%` whose result would pass the limits, before computing."""
        if BUDGET.get() is not None:
            _binop_precheck(operator_, left, right)
            return _check_value(self.binop_table[operator_](left, right))
        return self.binop_table[operator_](left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Count the call against the budget (time, number, depth) and bound what it makes."""
        budget = BUDGET.get()
        if budget is None:
            return super().call(__context, __obj, *args, **kwargs)
        budget.calls += 1
        if budget.calls > CALLS:
            raise _limit("calls", f"the template makes more than {CALLS:,} calls", limit=CALLS)
        if budget.depth >= CALL_DEPTH:
            raise _limit(
                "depth",
                f"calls (macros) nest more than {CALL_DEPTH} deep",
                limit=CALL_DEPTH,
            )
        budget.tick()
        method = getattr(__obj, "__wrapped__", __obj)  # str.format comes wrapped
        this = getattr(method, "__self__", None)
        if isinstance(this, str | list | tuple | dict):  # a method: 'x'.center(10**9)
            name = getattr(method, "__name__", "")
            _precheck(this, [*args, *kwargs.values()], name in ("format", "format_map"))
        budget.depth += 1
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        return _check_value(result)

    @staticmethod
    def concat(parts: Iterable[str]) -> str:
        """Join captured output (macros, `{% set %}` blocks): bounded while a budget is active."""
        joined = "".join(parts)
        if BUDGET.get() is not None and len(joined) > VALUE_LIMIT:
            raise _too_long()
        return joined

    @staticmethod
    def outreach_join(*parts: Any) -> str:
        """`a ~ b` under a budget: the escaped join, bounded."""
        if sum(_size(p) for p in parts) > VALUE_LIMIT:
            raise _too_long()
        return str(markup_join(parts))

    @staticmethod
    def outreach_loop(iterable: Iterable[Any]) -> Iterator[Any]:
        """Iterate a template's loop, counting iterations and time against the budget."""
        budget = BUDGET.get()
        for item in iterable:
            if budget is not None:
                budget.iterations += 1
                if budget.iterations > ITERATIONS:
                    raise _limit(
                        "iterations",
                        f"the template's loops run more than {ITERATIONS:,} times",
                        limit=ITERATIONS,
                    )
                budget.tick()
            yield item


def _binop_precheck(operator_: str, left: Any, right: Any) -> None:
    def whole(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if operator_ == "**" and whole(left) and whole(right) and right > 0:
        if abs(left) > 1 and right * abs(left).bit_length() > _NUMBER_BITS:
            raise _too_big_number()
    elif operator_ == "*":
        if whole(left) and whole(right):
            if left.bit_length() + right.bit_length() > _NUMBER_BITS:
                raise _too_big_number()
        elif whole(left) or whole(right):  # 'x' * n, [1] * n
            times, seq = (left, right) if whole(left) else (right, left)
            if times > 0 and _size(seq) * times > VALUE_LIMIT:
                raise _too_long()
    elif operator_ == "+" and not (whole(left) or whole(right)):
        if _size(left) + _size(right) > VALUE_LIMIT:
            raise _too_long()
    elif operator_ == "%" and isinstance(left, str):
        _widths(left)
        values = right if isinstance(right, tuple) else (right,)
        _precheck(left, values, formats=False)


def _guarded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter: under a budget, refuse a huge result before it runs, and bound it after."""
    if getattr(function, "_outreach_guard", False):
        return function
    passes = getattr(function, "jinja_pass_arg", None)

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if BUDGET.get() is None:
            return function(*args, **kwargs)
        own = args[1:] if passes is not None else args  # the context or environment first
        value, rest = (own[0], [*own[1:], *kwargs.values()]) if own else (None, [])
        _precheck(value, rest, formats=name == "format")
        return _check_value(function(*args, **kwargs))

    guarded._outreach_guard = True  # type: ignore[attr-defined]
    return guarded


# --- what a staff template may contain ----------------------------------------------------


class Guards(NodeTransformer):
    """Refuse what a staff template may not do, and route loops and `~` through the budget.

    Refused: `{% include %}`, `{% extends %}`, `{% import %}` (the product's own templates are
    not for staff), `{% autoescape %}` and `|safe` (data is always escaped), loops nested more
    than LOOP_NESTING deep.
    """

    def __init__(self) -> None:
        self.nesting = 0

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.nesting += 1
        if self.nesting > LOOP_NESTING:
            raise _limit(
                "nesting",
                f"loops nest {self.nesting} deep (line {node.lineno}); at most {LOOP_NESTING}",
                limit=LOOP_NESTING,
                line=node.lineno,
            )
        node.iter = self.visit(node.iter)
        node.body = [self.visit(n) for n in node.body]
        self.nesting -= 1
        node.else_ = [self.visit(n) for n in node.else_]
        if node.test is not None:
            node.test = self.visit(node.test)
        node.iter = _guard_call("outreach_loop", [node.iter], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        parts = [self.visit(n) for n in node.nodes]
        return _guard_call("outreach_join", parts, node.lineno)

    def visit_Filter(self, node: nodes.Filter) -> nodes.Node:
        if node.name == "safe":
            raise _refused("|safe", node.lineno)
        return self.generic_visit(node)

    def visit_FilterBlock(self, node: nodes.FilterBlock) -> nodes.Node:
        if node.filter.name == "safe":
            raise _refused("{% filter safe %}", node.lineno)
        return self.generic_visit(node)

    def generic_visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> nodes.Node:
        """Refuse loading other templates and switching escaping off; visit the rest."""
        if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
            raise _refused(f"{{% {type(node).__name__.lower()} %}}", node.lineno)
        if isinstance(node, nodes.EvalContextModifier):
            raise _refused("{% autoescape %}", node.lineno)
        result: nodes.Node = super().generic_visit(node, *args, **kwargs)
        return result


def _refused(what: str, line: int) -> TemplateProblem:
    return _limit(
        "refused",
        f"{what} is not allowed in a message (line {line})",
        what=what,
        line=line,
    )


def _guard_call(name: str, args: list[Any], line: int) -> nodes.Call:
    call = nodes.Call(nodes.EnvironmentAttribute(name), args, [], None, None, lineno=line)
    return call
