"""Loading rule packs: find the YAML files, validate every field, build a `RuleSet`.

Owns the rule-file format (see docs in rules/packs/README.md) and its errors. Validation collects
every problem of every file, each with file and line, and raises one `RulePackError`: a pack is
loaded completely or not at all, so a scan never runs with rules silently missing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from rules import yaml_fast
from rules.condition import ConditionError, parse_condition
from rules.document import SCOPES
from rules.model import (
    CATEGORIES,
    DEFAULT_EXCEPTION_WITHIN,
    DISEASES,
    EXCEPTION_SIDES,
    REQUIRED_RULE_KEYS,
    RULE_ID_RE,
    RULE_KEYS,
    SEVERITIES,
    STATUSES,
    ClaimScope,
    ExceptionSelection,
    NearSelection,
    ObfuscatedSelection,
    Rule,
    RulePackError,
    RuleSample,
    Selection,
    SignalSelection,
    TermSelection,
)
from rules.normalise import normalise_term, t2s
from rules.scope import CUES_PATH, SCOPE_KINDS, ScopeCueError, load_scope_cues
from rules.signal_names import KNOWN_SIGNALS, unknown_signal
from rules.vocabulary import BUNDLED_VOCABULARIES

#: The packs shipped with PharmWatch.
BUNDLED_PACKS: Final = Path(__file__).resolve().parent / "packs"
#: Retired rules live in folders of this name; they are kept for reference and never loaded.
DEPRECATED_DIR: Final = "deprecated"
MIN_TESTS: Final = 2
_SELECTION_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_NAMES: Final = frozenset({"and", "or", "not", "of", "all", "any", "them", "condition"})
_TERM_KEYS: Final = frozenset({"terms", "regex", "pinyin", "min_distinct"})
_EXCEPTION_EXTRA_KEYS: Final = frozenset({"within", "same_sentence", "side", "applies_to"})
_RELATED_TYPES: Final = frozenset({"derived", "obsolete", "merged", "renamed", "similar"})

Path_ = tuple[str | int, ...]


@dataclass
class _Source:
    """One parsed YAML file with the line of every key and list item."""

    path: Path
    lines: dict[Path_, int] = field(default_factory=dict)
    errors: list[RulePackError] = field(default_factory=list)

    def line(self, *where: str | int) -> int:
        path: Path_ = tuple(where)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def error(self, reason: str, *where: str | int) -> None:
        self.errors.append(RulePackError(self.path, self.line(*where), reason))


def _record_lines(node: yaml.Node, path: Path_, src: _Source) -> None:
    src.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
            if key in seen:
                src.errors.append(RulePackError(src.path, key_node.start_mark.line + 1, f"duplicate key {key!r}"))
            seen.add(key)
            src.lines[(*path, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*path, key), src)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            src.lines[(*path, i)] = item.start_mark.line + 1
            _record_lines(item, (*path, i), src)


def _parse_yaml(path: Path, text: str, src: _Source) -> Any:
    if yaml_fast.FAST_LOADER is not yaml.SafeLoader:
        lines, errors = dict(src.lines), list(src.errors)
        try:
            return _parse_yaml_with(yaml_fast.FAST_LOADER, text, src)
        except yaml.YAMLError:
            # A broken file is read again by the pure-Python parser, whose messages the docs and
            # tests quote (libyaml words its errors differently).
            src.lines, src.errors = lines, errors
    try:
        return _parse_yaml_with(yaml.SafeLoader, text, src)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        src.errors.append(RulePackError(path, line, f"invalid YAML: {exc.problem or exc}"))
        return None
    except yaml.YAMLError as exc:
        src.error(f"invalid YAML: {exc}")
        return None


def _parse_yaml_with(loader_class: Any, text: str, src: _Source) -> Any:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            src.error("file is empty; expected one rule")
            return None
        _record_lines(node, (), src)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


class _RuleBuilder:
    """Validates one parsed rule file; problems go to `src.errors`."""

    def __init__(self, src: _Source, data: Any, raw: bytes):
        self.src = src
        self.data = data
        self.raw = raw

    def error(self, reason: str, *where: str | int) -> None:
        self.src.error(reason, *where)

    # -- top level ---------------------------------------------------------------------------------
    def build(self) -> Rule | None:
        data = self.data
        if not isinstance(data, dict):
            self.error("a rule file must be a mapping of keys (title, id, version, ...)")
            return None
        before = len(self.src.errors)
        for key in data:
            if key not in RULE_KEYS:
                self.error(f"unknown key {key!r}; allowed keys are: {', '.join(RULE_KEYS)}", key)
        for key in sorted(REQUIRED_RULE_KEYS - data.keys()):
            self.error(f"missing required key {key!r}")

        title_zh, title_en = self._title(data.get("title"))
        rule_id = self._rule_id(data.get("id"))
        version = data.get("version")
        if "version" in data and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            self.error("version must be a whole number >= 1", "version")
        status = self._choice("status", data.get("status"), STATUSES)
        category = self._choice("category", data.get("category"), CATEGORIES)
        severity = self._choice("severity", data.get("severity"), SEVERITIES)
        description = data.get("description")
        if "description" in data and not (isinstance(description, str) and description.strip()):
            self.error("description must be a non-empty string", "description")
        diseases = self._str_list("diseases", data.get("diseases"), allow_empty=True, choices=DISEASES)
        legal_basis = self._str_list("legal_basis", data.get("legal_basis"))
        references = self._str_list("references", data.get("references", []), allow_empty=True)
        tags = self._str_list("tags", data.get("tags", []), allow_empty=True)
        falsepositives = self._str_list("falsepositives", data.get("falsepositives", []), allow_empty=True)
        self._related(data.get("related"))
        scope = self._str_list("scope", data.get("scope"), choices=SCOPES)
        selections, condition_text, condition = self._detection(data.get("detection"))
        exceptions = self._exceptions(data.get("exceptions"), selections)
        claim_scope = self._claim_scope(data, category, selections)
        tests_match, tests_no_match = self._tests(data.get("tests"), scope)

        if len(self.src.errors) > before or condition is None:
            return None
        return Rule(
            id=rule_id,
            version=version,
            status=status,
            title_zh=title_zh,
            title_en=title_en,
            description=description.strip(),
            category=category,
            severity=severity,
            diseases=diseases,
            legal_basis=legal_basis,
            references=references,
            tags=tags,
            scope=frozenset(scope),
            selections=selections,
            condition_text=condition_text,
            condition=condition,
            exceptions=exceptions,
            claim_scope=claim_scope,
            falsepositives=falsepositives,
            tests_match=tests_match,
            tests_no_match=tests_no_match,
            path=self.src.path,
            sha256=hashlib.sha256(self.raw).hexdigest(),
            key_order=[k for k in data if isinstance(k, str)],
            line=self.src.line("id"),
        )

    def _title(self, title: object) -> tuple[str, str]:
        if title is None:
            return ("", "")
        if not isinstance(title, dict):
            self.error("title must be a mapping with 'zh' and 'en'", "title")
            return ("", "")
        for key in title:
            if key not in ("zh", "en"):
                self.error(f"unknown title key {key!r}; use 'zh' and 'en'", "title", key)
        out = []
        for lang in ("zh", "en"):
            value = title.get(lang)
            if not (isinstance(value, str) and value.strip()):
                self.error(f"title.{lang} must be a non-empty string", "title", lang)
                out.append("")
            else:
                out.append(value.strip())
        return (out[0], out[1])

    def _rule_id(self, rule_id: object) -> str:
        if rule_id is None:
            return ""
        if not (isinstance(rule_id, str) and RULE_ID_RE.match(rule_id)):
            self.error(f"id {rule_id!r} must look like 'pw-zh-diabetes-cure-001' (lower case, ends in 3 digits)", "id")
            return ""
        return rule_id

    def _choice(self, key: str, value: object, choices: Iterable[str]) -> str:
        choices = tuple(choices)
        if key in self.data and value not in choices:
            self.error(f"{key} {value!r} is not one of: {', '.join(choices)}", key)
        return value if isinstance(value, str) else ""

    def _str_list(
        self, key: str, value: object, *, allow_empty: bool = False, choices: Iterable[str] | None = None
    ) -> list[str]:
        if key not in self.data and value is None:
            return []
        if not isinstance(value, list) or (not value and not allow_empty):
            self.error(f"{key} must be a {'' if allow_empty else 'non-empty '}list of strings", key)
            return []
        allowed = tuple(choices) if choices is not None else None
        out: list[str] = []
        for i, item in enumerate(value):
            if not (isinstance(item, str) and item.strip()):
                self.error(f"{key}[{i}] must be a non-empty string", key, i)
            elif allowed is not None and item not in allowed:
                self.error(f"{key}[{i}] {item!r} is not one of: {', '.join(allowed)}", key, i)
            else:
                out.append(item.strip())
        return out

    def _related(self, related: object) -> None:
        if related is None:
            return
        if not isinstance(related, list):
            self.error("related must be a list of {id, type}", "related")
            return
        for i, item in enumerate(related):
            if not (
                isinstance(item, dict)
                and set(item) == {"id", "type"}
                and item["type"] in _RELATED_TYPES
                and isinstance(item["id"], str)
                and RULE_ID_RE.match(item["id"])
            ):
                self.error(
                    f"related[{i}] must be {{id: <rule id>, type: one of {', '.join(sorted(_RELATED_TYPES))}}}",
                    "related",
                    i,
                )

    # -- detection ---------------------------------------------------------------------------------
    def _detection(self, detection: object) -> tuple[dict[str, Selection], str, Any]:
        if detection is None:
            return ({}, "", None)
        if not isinstance(detection, dict):
            self.error("detection must be a mapping of named selections plus 'condition'", "detection")
            return ({}, "", None)
        selections: dict[str, Selection] = {}
        for name, raw in detection.items():
            if name == "condition":
                continue
            if not self._check_name(name, "detection"):
                continue
            sel = self._selection(str(name), raw, ("detection", name), allow_near=True)
            if sel is not None:
                selections[name] = sel
        condition_text = detection.get("condition")
        if not (isinstance(condition_text, str) and condition_text.strip()):
            self.error("detection.condition must be a non-empty string", "detection", "condition")
            return (selections, "", None)
        declared = [n for n in detection if n != "condition" and isinstance(n, str)]
        try:
            condition = parse_condition(condition_text, declared)
        except ConditionError as exc:
            self.error(f"condition: {exc}", "detection", "condition")
            return (selections, condition_text, None)
        self._check_near(selections, declared)
        self._check_used(condition.names(), selections, declared)
        return (selections, condition_text.strip(), condition)

    def _check_name(self, name: object, section: str) -> bool:
        if not (isinstance(name, str) and _SELECTION_NAME_RE.match(name)) or name in _RESERVED_NAMES:
            self.error(
                f"selection name {name!r} must be an identifier (letters, digits, _) and not a keyword",
                section,
                name if isinstance(name, str) else "",
            )
            return False
        return True

    def _selection(
        self, name: str, raw: object, where: Path_, *, allow_near: bool, extra_keys: frozenset[str] = frozenset()
    ) -> Selection | None:
        if not isinstance(raw, dict) or not raw:
            self.error(f"selection {name!r} must be a mapping with terms/regex, near or signals", *where)
            return None
        keys = set(raw) - extra_keys
        if "near" in keys:
            if not allow_near:
                self.error(f"selection {name!r}: 'near' is not allowed here", *where)
                return None
            if keys != {"near"}:
                self.error(f"selection {name!r}: 'near' cannot be combined with {sorted(keys - {'near'})}", *where)
                return None
            return self._near(name, raw["near"], (*where, "near"))
        if "signals" in keys:
            if keys != {"signals"}:
                self.error(
                    f"selection {name!r}: 'signals' cannot be combined with {sorted(keys - {'signals'})}", *where
                )
                return None
            expected = raw["signals"]
            if not (isinstance(expected, dict) and expected and all(isinstance(k, str) for k in expected)):
                self.error(f"selection {name!r}: signals must be a non-empty mapping of signal: value", *where)
                return None
            for key, value in expected.items():
                if key not in KNOWN_SIGNALS:
                    self.error(unknown_signal(key), *where, "signals", key)
                elif not isinstance(value, str | bool | int | float | list):
                    self.error(f"signal {key!r} must be compared with a scalar or a list", *where, "signals", key)
            return SignalSelection(name, dict(expected))
        if "obfuscated" in keys:
            return _obfuscated_selection(self, name, raw, keys, where, allowed=allow_near)
        unknown = keys - _TERM_KEYS
        if unknown:
            self.error(
                f"selection {name!r}: unknown key(s) {sorted(unknown)}; use terms, regex, pinyin, "
                "min_distinct, near or signals",
                *where,
            )
            return None
        if "terms" not in keys and "regex" not in keys:
            self.error(f"selection {name!r} needs terms or regex", *where)
            return None
        terms = self._terms(raw.get("terms"), (*where, "terms")) if "terms" in raw else []
        patterns = self._regexes(raw.get("regex"), (*where, "regex")) if "regex" in raw else []
        pinyin = raw.get("pinyin", False)
        if not isinstance(pinyin, bool):
            self.error("pinyin must be true or false", *where, "pinyin")
        min_distinct = raw.get("min_distinct", 1)
        if isinstance(min_distinct, bool) or not isinstance(min_distinct, int) or min_distinct < 1:
            self.error("min_distinct must be a whole number >= 1", *where, "min_distinct")
            min_distinct = 1
        return TermSelection(name, tuple(terms), tuple(patterns), bool(pinyin), min_distinct)

    def _terms(self, terms: object, where: Path_) -> list[str]:
        if not (isinstance(terms, list) and terms):
            self.error("terms must be a non-empty list of strings", *where)
            return []
        out: list[str] = []
        for i, term in enumerate(terms):
            if not isinstance(term, str):
                self.error(f"term {term!r} must be a string (quote numbers)", *where, i)
            elif not normalise_term(term.rstrip("*") if len(term) > 1 else term):
                self.error(f"term {term!r} is empty after normalisation", *where, i)
            else:
                out.append(term)
        return out

    def _regexes(self, patterns: object, where: Path_) -> list[re.Pattern[str]]:
        if not (isinstance(patterns, list) and patterns):
            self.error("regex must be a non-empty list of patterns", *where)
            return []
        out: list[re.Pattern[str]] = []
        for i, pattern in enumerate(patterns):
            if not isinstance(pattern, str):
                self.error(f"regex {pattern!r} must be a string", *where, i)
                continue
            try:
                compiled = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                self.error(f"bad regex {pattern!r}: {exc}", *where, i)
                continue
            if compiled.search("") is not None:
                self.error(f"regex {pattern!r} matches empty text, so it would match everywhere", *where, i)
                continue
            # Regexes run on normalised text: traditional or full-width characters can never match.
            if unicodedata.normalize("NFKC", pattern) != pattern or t2s(pattern) != pattern:
                self.error(
                    f"regex {pattern!r} must be written in simplified Chinese with half-width "
                    "characters (it runs on normalised text)",
                    *where,
                    i,
                )
                continue
            out.append(compiled)
        return out

    def _near(self, name: str, near: object, where: Path_) -> NearSelection | None:
        if not isinstance(near, dict):
            self.error(f"selection {name!r}: near must be a mapping {{a, b, within, same_sentence}}", *where)
            return None
        unknown = set(near) - {"a", "b", "within", "same_sentence"}
        if unknown:
            self.error(f"selection {name!r}: unknown near key(s) {sorted(unknown)}", *where)
        a, b = near.get("a"), near.get("b")
        if not (isinstance(a, str) and isinstance(b, str)):
            self.error(f"selection {name!r}: near needs 'a' and 'b' naming two selections", *where)
            return None
        within = near.get("within")
        same_sentence = near.get("same_sentence", False)
        if within is not None and (isinstance(within, bool) or not isinstance(within, int) or within < 0):
            self.error("within must be a whole number of characters >= 0", *where, "within")
            return None
        if not isinstance(same_sentence, bool):
            self.error("same_sentence must be true or false", *where, "same_sentence")
            return None
        if within is None and not same_sentence:
            self.error(f"selection {name!r}: near needs 'within' and/or 'same_sentence: true'", *where)
            return None
        return NearSelection(name, a, b, within, same_sentence)

    def _check_near(self, selections: dict[str, Selection], declared: list[str]) -> None:
        for name, sel in selections.items():
            if not isinstance(sel, NearSelection):
                continue
            for side in (sel.a, sel.b):
                where = ("detection", name, "near")
                if side not in declared:
                    self.error(f"selection {name!r}: near refers to undefined selection {side!r}", *where)
                elif side == name:
                    self.error(f"selection {name!r}: near refers to itself", *where)
                elif isinstance(selections.get(side), SignalSelection):
                    self.error(f"selection {name!r}: near needs text matches; {side!r} is a signals test", *where)
        # Nested near selections must not form a loop.
        for start in selections:
            seen: set[str] = set()
            stack = [start]
            while stack:
                current = stack.pop()
                sel = selections.get(current)
                if not isinstance(sel, NearSelection):
                    continue
                for side in (sel.a, sel.b):
                    if side == start:
                        self.error(
                            f"selection {start!r}: near selections refer to each other in a loop", "detection", start
                        )
                        stack.clear()
                        break
                    if side not in seen:
                        seen.add(side)
                        stack.append(side)

    def _check_used(self, used_by_condition: set[str], selections: dict[str, Selection], declared: list[str]) -> None:
        used = set(used_by_condition)
        stack = list(used)
        while stack:
            sel = selections.get(stack.pop())
            if isinstance(sel, NearSelection):
                for side in (sel.a, sel.b):
                    if side not in used:
                        used.add(side)
                        stack.append(side)
        for name in declared:
            if name not in used:
                self.error(f"selection {name!r} is defined but never used by the condition", "detection", name)

    # -- claim scope ---------------------------------------------------------------------------------
    def _claim_scope(self, data: dict, category: str, selections: dict[str, Selection]) -> ClaimScope | None:
        """`claim_scope`: absent = every scope kind for claim categories; `off`; or {kinds, applies_to}."""
        try:
            defaults = load_scope_cues().default_categories
        except ScopeCueError as exc:
            self.error(str(exc), "claim_scope" if "claim_scope" in data else "category")
            return None
        if "claim_scope" not in data:
            return ClaimScope(frozenset(SCOPE_KINDS)) if category in defaults else None
        raw = data["claim_scope"]
        if raw is False or raw == "off":
            return None
        usage = f"claim_scope must be 'off' or a mapping {{kinds: [{', '.join(SCOPE_KINDS)}], applies_to: [...]}}"
        if not isinstance(raw, dict) or not raw or set(raw) - {"kinds", "applies_to"}:
            self.error(usage, "claim_scope")
            return None
        kinds = raw.get("kinds", list(SCOPE_KINDS))
        if not (isinstance(kinds, list) and kinds and all(k in SCOPE_KINDS for k in kinds)):
            self.error(f"claim_scope.kinds must be a non-empty list from: {', '.join(SCOPE_KINDS)}", "claim_scope")
            return None
        applies_to = raw.get("applies_to", [])
        if not (isinstance(applies_to, list) and all(isinstance(a, str) for a in applies_to)):
            self.error("claim_scope.applies_to must be a list of selection names", "claim_scope", "applies_to")
            return None
        unknown = [a for a in applies_to if not isinstance(selections.get(a), TermSelection)]
        if unknown:
            self.error(
                f"claim_scope.applies_to names {unknown}, which are not term/regex selections of this rule",
                "claim_scope",
                "applies_to",
            )
            return None
        return ClaimScope(frozenset(kinds), frozenset(applies_to))

    # -- exceptions and tests ------------------------------------------------------------------------
    def _exceptions(self, exceptions: object, selections: dict[str, Selection]) -> dict[str, ExceptionSelection]:
        if exceptions is None:
            return {}
        if not isinstance(exceptions, dict):
            self.error("exceptions must be a mapping of named selections", "exceptions")
            return {}
        out: dict[str, ExceptionSelection] = {}
        for name, raw in exceptions.items():
            if not self._check_name(name, "exceptions"):
                continue
            if name in selections:
                self.error(f"exception {name!r} has the same name as a detection selection", "exceptions", name)
                continue
            sel = self._selection(name, raw, ("exceptions", name), allow_near=False, extra_keys=_EXCEPTION_EXTRA_KEYS)
            if sel is None or isinstance(sel, NearSelection):
                continue
            if isinstance(sel, SignalSelection):
                if _EXCEPTION_EXTRA_KEYS & set(raw):
                    self.error(
                        "a signals exception applies to the whole page; drop within/same_sentence/side",
                        "exceptions",
                        name,
                    )
                    continue
                out[name] = ExceptionSelection(sel, None, False, "any")
                continue
            same_sentence = raw.get("same_sentence", False)
            # Neither distance nor sentence given: the default distance applies.
            within = raw.get("within", None if same_sentence is True else DEFAULT_EXCEPTION_WITHIN)
            side = raw.get("side", "any")
            if within is not None and (isinstance(within, bool) or not isinstance(within, int) or within < 0):
                self.error("within must be a whole number of characters >= 0", "exceptions", name, "within")
                continue
            if not isinstance(same_sentence, bool):
                self.error("same_sentence must be true or false", "exceptions", name, "same_sentence")
                continue
            if side not in EXCEPTION_SIDES:
                self.error(f"side {side!r} is not one of: {', '.join(EXCEPTION_SIDES)}", "exceptions", name, "side")
                continue
            applies_to = raw.get("applies_to", [])
            if not (isinstance(applies_to, list) and all(isinstance(a, str) for a in applies_to)):
                self.error("applies_to must be a list of selection names", "exceptions", name, "applies_to")
                continue
            unknown = [a for a in applies_to if not isinstance(selections.get(a), TermSelection)]
            if unknown:
                self.error(
                    f"applies_to names {unknown}, which are not term/regex selections of this rule",
                    "exceptions",
                    name,
                    "applies_to",
                )
                continue
            out[name] = ExceptionSelection(sel, within, same_sentence, side, frozenset(applies_to))
        return out

    def _tests(self, tests: object, scope: list[str]) -> tuple[list[RuleSample], list[RuleSample]]:
        if tests is None:
            return ([], [])
        if not isinstance(tests, dict):
            self.error("tests must be a mapping with 'match' and 'no_match' lists", "tests")
            return ([], [])
        for key in tests:
            if key not in ("match", "no_match"):
                self.error(f"unknown tests key {key!r}; use 'match' and 'no_match'", "tests", key)
        out: list[list[RuleSample]] = []
        for kind in ("match", "no_match"):
            samples = tests.get(kind)
            parsed: list[RuleSample] = []
            if not isinstance(samples, list) or len(samples) < MIN_TESTS:
                self.error(f"tests.{kind} needs at least {MIN_TESTS} samples", "tests", kind if kind in tests else "")
                out.append(parsed)
                continue
            for i, sample in enumerate(samples):
                sample_obj = self._sample(sample, ("tests", kind, i), scope)
                if sample_obj is not None:
                    parsed.append(sample_obj)
            out.append(parsed)
        return (out[0], out[1])

    def _sample(self, sample: object, where: Path_, scope: list[str]) -> RuleSample | None:
        if isinstance(sample, str) and sample.strip():
            return RuleSample(sample)
        if isinstance(sample, dict) and isinstance(sample.get("text"), str) and sample["text"].strip():
            unknown = set(sample) - {"text", "scope", "signals"}
            if unknown:
                self.error(f"unknown sample key(s) {sorted(unknown)}; use text, scope, signals", *where)
                return None
            sample_scope = sample.get("scope")
            if sample_scope is not None and sample_scope not in SCOPES:
                self.error(f"sample scope {sample_scope!r} is not one of: {', '.join(SCOPES)}", *where)
                return None
            signals = sample.get("signals", {})
            if not isinstance(signals, dict):
                self.error("sample signals must be a mapping", *where)
                return None
            unknown_signals = [key for key in signals if key not in KNOWN_SIGNALS]
            for key in unknown_signals:
                self.error(unknown_signal(key), *where, "signals", key)
            if unknown_signals:
                return None
            return RuleSample(sample["text"], sample_scope, dict(signals))
        self.error("a test sample must be a non-empty string or a mapping with 'text'", *where)
        return None


def _obfuscated_selection(
    builder: _RuleBuilder, name: str, raw: dict[str, Any], keys: set[str], where: Path_, *, allowed: bool
) -> ObfuscatedSelection | None:
    """`obfuscated: {lexicon: drugs_en, classes: [...], controlled: true}` (see `rules.obfuscation`)."""
    from rules.obfuscation import LEXICONS, load_lexicon

    if not allowed:
        builder.error(f"selection {name!r}: 'obfuscated' is not allowed here", *where)
        return None
    if keys != {"obfuscated"}:
        extra = sorted(keys - {"obfuscated"})
        builder.error(f"selection {name!r}: 'obfuscated' cannot be combined with {extra}", *where)
        return None
    spec = raw["obfuscated"]
    where = (*where, "obfuscated")
    if not isinstance(spec, dict) or set(spec) - {"lexicon", "classes", "controlled"}:
        builder.error(f"selection {name!r}: obfuscated must be a mapping of lexicon, classes, controlled", *where)
        return None
    lexicon = spec.get("lexicon")
    if lexicon not in LEXICONS:
        builder.error(f"obfuscated lexicon {lexicon!r} is not one of: {', '.join(LEXICONS)}", *where, "lexicon")
        return None
    classes = spec.get("classes", [])
    known = load_lexicon(lexicon).classes
    if not (isinstance(classes, list) and all(c in known for c in classes)):
        builder.error(f"obfuscated classes must be a list from: {', '.join(sorted(known))}", *where, "classes")
        return None
    controlled = spec.get("controlled")
    if controlled is not None and not isinstance(controlled, bool):
        builder.error("obfuscated controlled must be true or false", *where, "controlled")
        return None
    return ObfuscatedSelection(name, lexicon, frozenset(classes), controlled)


def load_rule_file(path: Path) -> tuple[Rule | None, list[RulePackError]]:
    """Parse and validate one rule file. Returns the rule (None if broken) and every problem found."""
    src = _Source(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return (None, [RulePackError(path, 1, f"cannot read rule file: {exc}")])
    data = _parse_yaml(path, text, src)
    if data is None:
        return (None, src.errors)
    rule = _RuleBuilder(src, data, raw).build()
    return (rule if not src.errors else None, src.errors)


def discover(paths: list[Path] | None) -> tuple[list[tuple[Path, str]], list[RulePackError]]:
    """Rule files under `paths` (files or folders; None = bundled packs) with a stable relative name."""
    roots = [BUNDLED_PACKS] if paths is None else [Path(p) for p in paths]
    found: list[tuple[Path, str]] = []
    errors: list[RulePackError] = []
    for root in roots:
        if root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml"))
            files = [p for p in files if DEPRECATED_DIR not in p.relative_to(root).parts[:-1]]
            if not files:
                errors.append(RulePackError(root, 0, "no rule files (*.yaml) found in this folder"))
            for file in files:
                if file.suffix == ".yml":
                    errors.append(RulePackError(file, 1, "rule files must end in .yaml"))
                else:
                    found.append((file, file.relative_to(root).as_posix()))
        elif root.is_file():
            found.append((root, root.name))
        else:
            errors.append(RulePackError(root, 0, "no such file or folder"))
    return (found, errors)


def pack_digest(files: list[tuple[Path, str]]) -> str:
    """SHA-256 over (relative name, file SHA-256) of every pack file, in name order, and of the
    scope cue vocabulary and the signal and claim vocabularies (they change what the rules find)."""
    digest = hashlib.sha256()
    for path, name in sorted(files, key=lambda item: item[1]):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).hexdigest().encode("ascii") + b"\n")
    if CUES_PATH.is_file():
        digest.update(b"scope_cues\0" + hashlib.sha256(CUES_PATH.read_bytes()).hexdigest().encode("ascii") + b"\n")
    for vocabulary in sorted(BUNDLED_VOCABULARIES):
        if vocabulary.is_file():
            name = vocabulary.stem.encode("utf-8")
            digest.update(name + b"\0" + hashlib.sha256(vocabulary.read_bytes()).hexdigest().encode("ascii") + b"\n")
    return digest.hexdigest()


def load_rules(paths: list[Path] | None = None) -> tuple[list[Rule], str]:
    """Load and validate every rule file, or raise one RulePackError listing every problem."""
    files, errors = discover(paths)
    rules: list[Rule] = []
    first_seen: dict[str, Rule] = {}
    for path, _name in files:
        rule, file_errors = load_rule_file(path)
        errors.extend(file_errors)
        if rule is None:
            continue
        if rule.id in first_seen:
            other = first_seen[rule.id]
            errors.append(RulePackError(path, rule.line, f"duplicate rule id {rule.id!r} (also in {other.path})"))
            continue
        first_seen[rule.id] = rule
        rules.append(rule)
    if errors:
        raise RulePackError.collect(errors)
    return (rules, pack_digest(files))
