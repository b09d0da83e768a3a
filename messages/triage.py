"""Give member feedback a topic and flags by rules staff edit in messages/triage.yaml.

A rule (a topic or a flag) is a label and a list of entries. An entry is a word or phrase that
matches as whole words after folding (no diacritics, no case, so "vay von" matches "vay vốn"), or
a regular expression written `re: <pattern>`, applied to the folded text. Each rule is compiled
into one regex. Problems name the file, the line and the place in the file, all of them at once:
"triage.yaml:12: topics.von.words.3: empty entry" (list places count from 0).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from db.textmatch import fold

log = logging.getLogger(__name__)
DEFAULT_RULES = Path(__file__).resolve().parent / "triage.yaml"
FALLBACK = "khac"
# The "báo khó khăn" categories members pick from, in the order they are offered.
CATEGORIES = ("von", "dat_dai", "thi_truong", "thu_tuc", "ky_thuat", FALLBACK)
KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")  # feedback.topic is a VARCHAR(32)
REGEX = "re:"
NULL_TAG = "tag:yaml.org,2002:null"
# Folded text has only a-z, 0-9 and single spaces, so these are its word boundaries. They wrap
# all the words of a rule at once: tried first, they spare the alternatives at most places.
WORDS = r"(?<![a-z0-9])(?:{})(?![a-z0-9])"
# Texts a raw regex must not match with nothing: such a pattern would match every message.
EMPTY_PROBES = ("", "a", "ab cd 12")


class RulesProblem(ValueError):
    """Rules that cannot be used; `errors` holds one "file:line: place: what" per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Triage:
    """What the rules say of a text: its topic, its flags and the entries that decided."""

    topic: str  # topic key, "khac" when nothing matched
    flags: tuple[str, ...]  # flag keys, sorted
    matched: tuple[str, ...]  # entries as written in the file, in the order the text has them


@dataclass(frozen=True)
class TopicRule:
    """A topic or flag: what staff read and one regex over folded text for all its entries."""

    label: str
    entries: tuple[str, ...]  # as written; group "e<i>" of the pattern is entries[i]
    pattern: re.Pattern[str] | None  # None when the rule has no entries (khac)

    def find(self, folded: str) -> list[tuple[int, str]]:
        """Return (position, entry) for each distinct entry found in a folded text."""
        if self.pattern is None:
            return []
        first: dict[str, int] = {}
        for match in self.pattern.finditer(folded):
            # Our group wraps the whole alternative, so it is the last one closed.
            assert match.lastgroup is not None
            first.setdefault(match.lastgroup, match.start())
        return [(at, self.entries[int(group[1:])]) for group, at in first.items()]


@dataclass(frozen=True)
class Rules:
    """Checked triage rules: topics in file order (first wins a tie) and flags."""

    topics: dict[str, TopicRule]
    flags: dict[str, TopicRule]

    def triage(self, text: str, category: str | None = None) -> Triage:
        """Give a text its topic (a chosen category other than khac wins) and its flags."""
        folded = fold(text)
        topic, found = self._topic(folded, category)
        flags: list[str] = []
        for key, rule in self.flags.items():
            hits = rule.find(folded)
            flags += [key] if hits else []
            found += hits
        matched = dict.fromkeys(entry for _, entry in sorted(found))
        return Triage(topic, tuple(sorted(flags)), tuple(matched))

    def _topic(self, folded: str, category: str | None) -> tuple[str, list[tuple[int, str]]]:
        # "khac" as a category means "none of the others": the words may still find one.
        if category is not None and category != FALLBACK and category in self.topics:
            return category, self.topics[category].find(folded)
        best, best_hits = FALLBACK, list[tuple[int, str]]()
        for key, rule in self.topics.items():
            hits = rule.find(folded)  # one hit per distinct entry
            if len(hits) > len(best_hits):  # ">": the topic listed earlier wins a tie
                best, best_hits = key, hits
        return best, best_hits

    def label(self, key: str) -> str:
        """Return the label of a topic or flag, or the key itself when it is unknown."""
        rule = self.topics.get(key) or self.flags.get(key)
        return rule.label if rule is not None else key

    @property
    def categories(self) -> list[tuple[str, str]]:
        """Return the "báo khó khăn" categories as (key, label), in the order offered."""
        return [(key, self.topics[key].label) for key in CATEGORIES]


def load_rules(path: Path | None = None) -> Rules:
    """Load rules from a file (the shipped one by default), again only when it has changed."""
    path = (path or DEFAULT_RULES).resolve()
    stat = path.stat()
    return _load(path, stat.st_mtime_ns, stat.st_size)


def rules_in_use(path: Path | None = None) -> Rules:
    """Load the configured rules; if an edit broke them, log what to fix and use the shipped ones.

    A member's message must never fail because of a rules file: it is kept and triaged with
    the shipped rules until the file is mended (`outreach feedback rules --check FILE`).
    """
    if path is None:
        return load_rules()
    try:
        return load_rules(path)
    except (RulesProblem, OSError) as exc:
        problems = exc.errors if isinstance(exc, RulesProblem) else [str(exc)]
        log.error("triage rules %s unusable, using the shipped ones: %s", path, "; ".join(problems))
        return load_rules()


@lru_cache(maxsize=16)
def _load(path: Path, mtime_ns: int, size: int) -> Rules:
    # mtime_ns and size are only part of the cache key: an edited file is a new key.
    return parse_rules(path.read_text(encoding="utf-8"), source=str(path))


def parse_rules(text: str, source: str = "triage.yaml") -> Rules:
    """Check and compile rules from YAML text; raise RulesProblem with every problem found."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or exc
        raise RulesProblem([f"{source}:{line}: not valid YAML: {problem}"]) from exc
    if root is None:
        raise RulesProblem([f"{source}:1: empty file: it needs 'topics:' and 'flags:'"])
    check = _Checker(source)
    sections = check.mapping(root, "", {"topics", "flags"})
    topics = check.rules(sections.get("topics"), "topics")
    flags = check.rules(sections.get("flags"), "flags")
    missing = [key for key in CATEGORIES if key not in check.keys["topics"]]
    if "topics" in sections and missing:
        check.add(
            sections["topics"],
            "topics",
            f"missing {', '.join(missing)} (the 'báo khó khăn' categories)",
        )
    for key in check.keys["flags"] & check.keys["topics"]:
        check.add(sections["flags"], f"flags.{key}", "same key as a topic")
    if check.errors:
        raise RulesProblem(check.errors)
    return Rules(topics, flags)


class _Checker:
    """Walk the YAML node tree, building rules and collecting every problem with its line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []
        self.keys: dict[str, set[str]] = {"topics": set(), "flags": set()}  # even broken ones

    def add(self, node: yaml.Node, place: str, what: str) -> None:
        """Record a problem at a node."""
        where = f" {place}:" if place else ""
        self.errors.append(f"{self.source}:{node.start_mark.line + 1}:{where} {what}")

    def mapping(
        self, node: yaml.Node, place: str, known: set[str] | None = None
    ) -> dict[str, yaml.Node]:
        """Return a mapping's values by key; report keys unknown or given twice."""
        if not isinstance(node, yaml.MappingNode):
            self.add(node, place, "expected a mapping of keys to values")
            return {}
        values: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name, at = str(key.value), _join(place, str(key.value))
            if name in values:  # YAML itself would silently keep the last one
                self.add(key, at, "given twice")
            elif known is not None and name not in known:
                self.add(key, at, f"unknown key (known: {', '.join(sorted(known))})")
            else:
                values[name] = value
        return values

    def rules(self, node: yaml.Node | None, section: str) -> dict[str, TopicRule]:
        """Build the rules of a section (topics or flags), keeping file order."""
        if node is None:
            self.errors.append(f"{self.source}:1: {section}: missing")
            return {}
        built: dict[str, TopicRule] = {}
        for key, value in self.mapping(node, section).items():
            place = f"{section}.{key}"
            self.keys[section].add(key)
            if not KEY.fullmatch(key):
                self.add(value, place, "key must be snake_case: a-z, 0-9, _ (at most 32)")
            rule = self.rule(value, place)
            if rule is None:
                continue
            if key == FALLBACK and section == "topics" and rule.entries:
                self.add(value, place, "the fallback topic must have no words")
            elif key != FALLBACK and not rule.entries:
                self.add(value, place, "has no words (only topics.khac may have none)")
            built[key] = rule
        return built

    def rule(self, node: yaml.Node, place: str) -> TopicRule | None:
        """Build one rule from its label and words."""
        fields = self.mapping(node, place, {"label", "words"})
        if not isinstance(node, yaml.MappingNode):
            return None
        label = self.text(fields.get("label"), node, _join(place, "label"))
        words = fields.get("words")
        if words is None:
            self.add(node, place, "missing 'words:' (a list, [] for none)")
            return None
        if not isinstance(words, yaml.SequenceNode):
            self.add(words, _join(place, "words"), "expected a list of words")
            return None
        entries, parts = self.entries(words, _join(place, "words"))
        pattern = self.compiled(parts, node, place)
        if not label or (parts and pattern is None):
            return None
        return TopicRule(label, entries, pattern)

    def text(self, node: yaml.Node | None, parent: yaml.Node, place: str) -> str:
        """Return a non-empty scalar's text, or "" after reporting why not."""
        if node is None:
            self.add(parent, place, "missing")
        elif not isinstance(node, yaml.ScalarNode) or node.tag == NULL_TAG:
            self.add(node, place, "expected some text")
        elif not str(node.value).strip():
            self.add(node, place, "empty")
        else:
            return str(node.value).strip()
        return ""

    def entries(self, node: yaml.SequenceNode, place: str) -> tuple[tuple[str, ...], list[str]]:
        """Return the entries of a word list as written and their regex alternatives."""
        entries: list[str] = []
        words: list[tuple[int, str]] = []
        regexes: list[str] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(node.value):
            entry, part = self.entry(item, f"{place}.{index}")
            if not part:
                continue
            if part in seen:
                self.add(item, f"{place}.{index}", f"same as entry {seen[part]} once folded")
                continue
            seen[part] = index
            group = f"(?P<e{len(entries)}>{part})"
            if entry.startswith(REGEX):
                regexes.append(group)
            else:
                words.append((-len(part), group))
            entries.append(entry)
        # Longer phrases first, raw regexes last: at one place the most specific entry counts.
        ordered = [group for _, group in sorted(words)]
        return tuple(entries), ([WORDS.format("|".join(ordered))] if ordered else []) + regexes

    def entry(self, node: yaml.Node, place: str) -> tuple[str, str]:
        """Return one entry as written and its regex alternative ("" when it is unusable)."""
        if isinstance(node, yaml.MappingNode) and [str(k.value) for k, _ in node.value] == ["re"]:
            node = node.value[0][1]  # `- re: <pattern>` reads as a mapping in YAML
            if not isinstance(node, yaml.ScalarNode):
                self.add(node, place, "expected a pattern after 're:'")
                return "", ""
            return self.regex(_scalar(node), node, place)
        if not isinstance(node, yaml.ScalarNode):
            self.add(node, place, "expected a word, a phrase or 're: <pattern>'")
            return "", ""
        written = _scalar(node)
        if written.startswith(REGEX):
            return self.regex(written.removeprefix(REGEX).strip(), node, place)
        folded = fold(written)
        if not folded:
            what = "empty entry" if not written else f"{written!r} has no letters or digits"
            self.add(node, place, what)
            return "", ""
        return written, re.escape(folded)

    def regex(self, pattern: str, node: yaml.Node, place: str) -> tuple[str, str]:
        """Check a raw regex entry; return it as written and grouped, or "" for a problem."""
        entry = f"{REGEX} {pattern}"
        if not pattern:
            self.add(node, place, "empty entry")
            return entry, ""
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            self.add(node, place, f"bad regex {pattern!r}: {exc}")
            return entry, ""
        if any(m.start() == m.end() for probe in EMPTY_PROBES for m in compiled.finditer(probe)):
            self.add(node, place, f"regex {pattern!r} matches empty text, so every message")
            return entry, ""
        return entry, f"(?:{pattern})"

    def compiled(self, parts: list[str], node: yaml.Node, place: str) -> re.Pattern[str] | None:
        """Join a rule's alternatives into its one regex."""
        if not parts:
            return None
        try:
            return re.compile("|".join(parts))
        except re.error as exc:  # regexes fine alone can clash together (a group name twice)
            self.add(node, place, f"its regexes do not work together: {exc}")
            return None


def _scalar(node: yaml.ScalarNode) -> str:
    return "" if node.tag == NULL_TAG else str(node.value).strip()


def _join(place: str, key: str) -> str:
    return f"{place}.{key}" if place else key
