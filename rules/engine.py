"""`RuleSet`: the loaded rules, the shared automaton, and the analysis of one document.

Owns matching and evaluation. A document is normalised once; one automaton pass finds every term
of every rule; only rules with a term hit (plus the few whose condition can be true without one,
e.g. pure signal rules) are evaluated. Regexes run only for those candidate rules and are cached
per pattern, so cost grows with the text, not with the number of rules.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rules.condition import And, Node, Not, Or
from rules.document import TextDocument
from rules.matcher import TermMatcher
from rules.model import (
    FLAG_THRESHOLD,
    SEVERITY_RANK,
    Analysis,
    ExceptionSelection,
    NearSelection,
    Rule,
    RuleHit,
    SignalSelection,
    Span,
    TermSelection,
)
from rules.normalise import NormalisedText, normalise
from rules.signals import signals_from_normalised

#: Keep at most this many matches per selection: a hostile page repeating a term a million times
#: must not make proximity checks quadratic. The first matches are enough evidence.
MAX_SPANS_PER_SELECTION = 2000
#: Spans reported per finding.
MAX_REPORTED_SPANS = 50
#: Characters of context on each side of the first span in a finding's excerpt.
EXCERPT_CONTEXT = 40
#: Above this many undetermined selections, a rule is simply evaluated on every document.
_MAX_ENUMERATED_ATOMS = 12

_WS_RE = re.compile(r"\s+")


@dataclass
class _Hits:
    spans: list[Span] = field(default_factory=list)
    keys: list[object] = field(default_factory=list)


class _Document:
    """Per-document state shared by all rules: normalised text, term hits, regex cache, scopes."""

    def __init__(self, doc: TextDocument, norm: NormalisedText, signals: dict[str, object]):
        self.doc = doc
        self.norm = norm
        self.signals = signals
        self.term_hits: dict[int, _Hits] = {}
        self.regex_cache: dict[re.Pattern[str], list[Span]] = {}
        self._scope_cache: dict[Span, str | None] = {}
        sections = sorted(doc.sections, key=lambda s: (s.start, s.end))
        self._sections = sections
        self._section_starts = [s.start for s in sections]

    def scope_of(self, span: Span) -> str | None:
        cached = self._scope_cache.get(span, "")
        if cached != "":
            return cached
        start, end = self.norm.to_original(*span)
        scope: str | None = None
        if not self._sections:
            scope = "body"
        else:
            last = bisect_right(self._section_starts, start) - 1
            # Sections normally do not overlap, so the one starting last before `start` decides;
            # a few more are checked in case a caller nested them.
            for i in range(last, max(-1, last - 8), -1):
                section = self._sections[i]
                if section.start <= start and end <= section.end:
                    scope = section.scope
                    break
        self._scope_cache[span] = scope
        return scope

    def regex_spans(self, pattern: re.Pattern[str]) -> list[Span]:
        cached = self.regex_cache.get(pattern)
        if cached is None:
            cached = []
            for m in pattern.finditer(self.norm.text):
                if m.end() > m.start():
                    cached.append(m.span())
                    if len(cached) >= MAX_SPANS_PER_SELECTION:
                        break
            self.regex_cache[pattern] = cached
        return cached


class _RuleEvaluator:
    """Evaluates one rule's condition on one document."""

    def __init__(self, ruleset: RuleSet, index: int, state: _Document):
        self.rule = ruleset.rules[index]
        self.uids = ruleset._uids[index]
        self.positive = ruleset._positive[index]
        self.near_order = ruleset._near_order[index]
        self.state = state
        self.cache: dict[str, tuple[bool, list[Span]]] = {}
        self.raw: dict[str, list[tuple[Span, object]]] = {}
        self.exception_checks: list[_ExceptionIndex] = []

    def _selection_matches(self, sel: TermSelection) -> list[tuple[Span, object]]:
        """(span, key) pairs in the rule's scope, sorted; the key tells distinct terms apart."""
        cached = self.raw.get(sel.name)
        if cached is not None:
            return cached
        state = self.state
        rule_scope = self.rule.scope
        found: list[tuple[Span, object]] = []
        hits = state.term_hits.get(self.uids[sel.name])
        if hits is not None:
            for span, key in zip(hits.spans, hits.keys, strict=True):
                if state.scope_of(span) in rule_scope:
                    found.append((span, key))
        for pattern in sel.regex:
            for span in state.regex_spans(pattern):
                if state.scope_of(span) in rule_scope:
                    found.append((span, state.norm.text[span[0] : span[1]]))
        found.sort(key=lambda item: item[0])
        self.raw[sel.name] = found
        return found

    def apply_exceptions(self) -> bool:
        """Collect exception matches for the next evaluation.

        Returns False when a page-level (signals) exception suppresses the whole rule.
        """
        for exc in self.rule.exceptions.values():
            sel = exc.selection
            if isinstance(sel, SignalSelection):
                if _signals_match(sel, self.state.signals):
                    return False
                continue
            spans = [span for span, _ in self._selection_matches(sel)]
            if spans:
                self.exception_checks.append(_ExceptionIndex(spans, exc, self.state.norm))
        self.cache.clear()
        return True

    def _suppressed(self, span: Span) -> bool:
        return any(index.suppresses(span, self.state.norm) for index in self.exception_checks)

    def lookup(self, name: str) -> tuple[bool, list[Span]]:
        cached = self.cache.get(name)
        if cached is not None:
            return cached
        sel = self.rule.selections[name]
        result: tuple[bool, list[Span]]
        if isinstance(sel, SignalSelection):
            result = (_signals_match(sel, self.state.signals), [])
        elif isinstance(sel, NearSelection):
            # The side without regexes goes first: when it has no match, the regex never runs.
            first, second = self.near_order[name]
            ok_first, spans_first = self.lookup(first)
            spans: list[Span] = []
            if ok_first:
                ok_second, spans_second = self.lookup(second)
                if ok_second:
                    spans_a, spans_b = (spans_first, spans_second) if first == sel.a else (spans_second, spans_first)
                    spans = _near(spans_a, spans_b, sel, self.state.norm)
            result = (bool(spans), spans)
        else:
            found = self._selection_matches(sel)
            if self.exception_checks and name in self.positive:
                found = [item for item in found if not self._suppressed(item[0])]
            found = found[:MAX_SPANS_PER_SELECTION]
            distinct = len({key for _, key in found})
            result = (bool(found) and distinct >= sel.min_distinct, [span for span, _ in found])
        self.cache[name] = result
        return result


class _ExceptionIndex:
    """Matches of one exception selection, indexed for "is there one near this claim?" queries."""

    def __init__(self, spans: list[Span], exc: ExceptionSelection, norm: NormalisedText):
        self.spans = sorted(spans)
        self.starts = [s[0] for s in self.spans]
        self.max_len = max(b - a for a, b in self.spans)
        self.within = exc.within
        self.same_sentence = exc.same_sentence
        self.side = exc.side
        self.by_sentence: dict[int, list[Span]] = {}
        if self.within is None:
            for span in self.spans:
                self.by_sentence.setdefault(norm.sentence_of(span[0]), []).append(span)

    def suppresses(self, span: Span, norm: NormalisedText) -> bool:
        if self.within is not None:
            lo = bisect_left(self.starts, span[0] - self.within - self.max_len)
            hi = bisect_right(self.starts, span[1] + self.within)
            candidates = self.spans[lo:hi]
        else:
            candidates = self.by_sentence.get(norm.sentence_of(span[0]), [])
        for ex in candidates:
            if self.within is not None and _distance(span, ex) > self.within:
                continue
            if self.same_sentence and norm.sentence_of(ex[0]) != norm.sentence_of(span[0]):
                continue
            if self.side == "before" and not ex[0] < span[0]:
                continue
            if self.side == "after" and not ex[1] > span[1]:
                continue
            return True
        return False


def _distance(x: Span, y: Span) -> int:
    return max(0, y[0] - x[1], x[0] - y[1])


def _near(spans_a: list[Span], spans_b: list[Span], sel: NearSelection, norm: NormalisedText) -> list[Span]:
    out: set[Span] = set()
    if sel.within is None:
        # Same sentence only: every match of either side in a sentence that has both qualifies.
        a_by_sentence: dict[int, list[Span]] = {}
        b_by_sentence: dict[int, list[Span]] = {}
        for span in spans_a:
            a_by_sentence.setdefault(norm.sentence_of(span[0]), []).append(span)
        for span in spans_b:
            b_by_sentence.setdefault(norm.sentence_of(span[0]), []).append(span)
        for sentence, a_spans in a_by_sentence.items():
            b_spans = b_by_sentence.get(sentence)
            if b_spans:
                out.update(a_spans)
                out.update(b_spans)
        return sorted(out)
    b_sorted = sorted(spans_b)
    b_starts = [s[0] for s in b_sorted]
    max_len = max(b - a for a, b in b_sorted)
    within = sel.within
    for span in spans_a:
        lo = bisect_left(b_starts, span[0] - within - max_len)
        hi = bisect_right(b_starts, span[1] + within)
        for other in b_sorted[lo:hi]:
            if _distance(span, other) > within:
                continue
            if sel.same_sentence and norm.sentence_of(span[0]) != norm.sentence_of(other[0]):
                continue
            out.add(span)
            out.add(other)
    return sorted(out)


def _signals_match(sel: SignalSelection, signals: Mapping[str, object]) -> bool:
    for key, expected in sel.expected.items():
        if key not in signals:
            return False
        actual = signals[key]
        if isinstance(expected, list):
            if actual not in expected:
                return False
        elif isinstance(expected, bool) or isinstance(actual, bool):
            # bool is an int in Python; compare truth values only with truth values.
            if not isinstance(actual, bool) or not isinstance(expected, bool) or actual != expected:
                return False
        elif actual != expected:
            return False
    return True


def _positive_names(rule: Rule) -> frozenset[str]:
    """Selections whose matches are evidence: positive in the condition, directly or through near."""
    names = set(rule.condition.positive_names())
    stack = list(names)
    while stack:
        sel = rule.selections.get(stack.pop())
        if isinstance(sel, NearSelection):
            for side in (sel.a, sel.b):
                if side not in names:
                    names.add(side)
                    stack.append(side)
    return frozenset(names)


def _negated_names(rule: Rule) -> frozenset[str]:
    """Selections read under a `not`, directly or through near."""
    names = _under_not(rule.condition)
    stack = list(names)
    while stack:
        sel = rule.selections.get(stack.pop())
        if isinstance(sel, NearSelection):
            for side in (sel.a, sel.b):
                if side not in names:
                    names.add(side)
                    stack.append(side)
    return frozenset(names)


def _under_not(node: Node, negated: bool = False) -> set[str]:
    if isinstance(node, Not):
        return _under_not(node.child, not negated)
    if isinstance(node, And | Or):
        return set().union(*(_under_not(c, negated) for c in node.children))
    return node.names() if negated else set()


def _has_regex(rule: Rule, name: str, seen: frozenset[str] = frozenset()) -> bool:
    sel = rule.selections[name]
    if isinstance(sel, TermSelection):
        return bool(sel.regex)
    if isinstance(sel, NearSelection) and name not in seen:
        return any(_has_regex(rule, side, seen | {name}) for side in (sel.a, sel.b))
    return False


def _near_order(rule: Rule) -> dict[str, tuple[str, str]]:
    order: dict[str, tuple[str, str]] = {}
    for name, sel in rule.selections.items():
        if isinstance(sel, NearSelection):
            regex_first = _has_regex(rule, sel.a) and not _has_regex(rule, sel.b)
            order[name] = (sel.b, sel.a) if regex_first else (sel.a, sel.b)
    return order


def _needs_evaluation_without_terms(rule: Rule) -> bool:
    """Can the condition be true on a document where no automaton term of this rule matched?"""
    fixed: dict[str, bool] = {}
    unknown: list[str] = []

    def settle(name: str) -> bool | None:
        if name in fixed:
            return fixed[name]
        sel = rule.selections[name]
        if isinstance(sel, TermSelection) and not sel.regex:
            fixed[name] = False
            return False
        if isinstance(sel, NearSelection) and (settle(sel.a) is False or settle(sel.b) is False):
            fixed[name] = False
            return False
        return None

    for name in sorted(rule.condition.names()):
        if settle(name) is None:
            unknown.append(name)
    if len(unknown) > _MAX_ENUMERATED_ATOMS:
        return True
    for values in itertools.product((False, True), repeat=len(unknown)):
        assignment = dict(fixed)
        assignment.update(zip(unknown, values, strict=True))
        ok, _ = rule.condition.evaluate(lambda n, a=assignment: (a.get(n, False), []))
        if ok:
            return True
    return False


class RuleSet:
    """A validated set of rules, ready to analyse documents. Build it with `load_ruleset()`."""

    def __init__(self, rules: list[Rule], digest: str):
        self.rules = list(rules)
        self.digest = digest
        self._matcher = TermMatcher()
        self._uids: list[dict[str, int]] = []
        self._uid_rule: list[int] = []
        self._detection_uids: list[set[int]] = []
        self._positive: list[frozenset[str]] = []
        self._monotone: list[bool] = []
        self._near_order: list[dict[str, tuple[str, str]]] = []
        self._always: list[int] = []
        for index, rule in enumerate(self.rules):
            uids: dict[str, int] = {}
            detection: set[int] = set()
            named: list[tuple[str, TermSelection, bool]] = [
                (n, s, True) for n, s in rule.selections.items() if isinstance(s, TermSelection)
            ]
            named += [
                (n, e.selection, False) for n, e in rule.exceptions.items() if isinstance(e.selection, TermSelection)
            ]
            for name, sel, is_detection in named:
                uid = len(self._uid_rule)
                self._uid_rule.append(index)
                uids[name] = uid
                if is_detection and sel.terms:
                    detection.add(uid)
                for term_index, term in enumerate(sel.terms):
                    self._matcher.add(term, uid, term_index, pinyin_evasions=sel.pinyin)
            self._uids.append(uids)
            self._detection_uids.append(detection)
            positive = _positive_names(rule)
            self._positive.append(positive)
            self._monotone.append(not (positive & _negated_names(rule)))
            self._near_order.append(_near_order(rule))
            if _needs_evaluation_without_terms(rule):
                self._always.append(index)
        self._matcher.build()
        self._by_id = {rule.id: rule for rule in self.rules}

    def __len__(self) -> int:
        return len(self.rules)

    def rule(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    @property
    def term_key_count(self) -> int:
        """Keys in the shared automaton (terms plus generated variants)."""
        return self._matcher.key_count

    def analyse(self, doc: TextDocument, signals: Mapping[str, object] | None = None) -> Analysis:
        """Run every rule on `doc`. `signals` (e.g. licence checks) override the computed page signals."""
        norm = normalise(doc.text)
        page = signals_from_normalised(norm, doc)
        if signals:
            page.update(signals)
        state = _Document(doc, norm, page)

        candidates: set[int] = set(self._always)
        for start, end, refs in self._matcher.scan(norm.text):
            for ref in refs:
                hits = state.term_hits.get(ref.selection_uid)
                if hits is None:
                    hits = state.term_hits[ref.selection_uid] = _Hits()
                if len(hits.spans) < MAX_SPANS_PER_SELECTION:
                    hits.spans.append((start, end))
                    hits.keys.append(ref.term_index)
                    rule_index = self._uid_rule[ref.selection_uid]
                    if ref.selection_uid in self._detection_uids[rule_index]:
                        candidates.add(rule_index)

        findings = [hit for i in sorted(candidates) if (hit := self._evaluate(i, state)) is not None]
        findings.sort(key=lambda h: (-SEVERITY_RANK[h.severity], h.rule_id))
        risk = findings[0].severity if findings else "none"
        flagged = SEVERITY_RANK[risk] >= SEVERITY_RANK[FLAG_THRESHOLD]
        return Analysis(findings=findings, signals=page, risk=risk, flagged=flagged)

    def _evaluate(self, index: int, state: _Document) -> RuleHit | None:
        evaluator = _RuleEvaluator(self, index, state)
        rule = evaluator.rule
        if self._monotone[index]:
            # Exceptions only take evidence away, so a condition that is false without them stays
            # false with them: most candidate rules stop here, before any exception is looked up.
            ok, spans = rule.condition.evaluate(evaluator.lookup)
            if not ok or not rule.exceptions:
                return _finding(rule, spans, state.norm) if ok else None
        if rule.exceptions and not evaluator.apply_exceptions():
            return None
        ok, spans = rule.condition.evaluate(evaluator.lookup)
        return _finding(rule, spans, state.norm) if ok else None


def _finding(rule: Rule, spans: list[Span], norm: NormalisedText) -> RuleHit:
    original = sorted({norm.to_original(a, b) for a, b in spans if b > a})
    text = norm.original
    if original:
        first_start, first_end = original[0]
        window = text[max(0, first_start - EXCERPT_CONTEXT) : first_end + EXCERPT_CONTEXT]
    else:
        window = text[: 2 * EXCERPT_CONTEXT]
    return RuleHit(
        rule_id=rule.id,
        rule_version=rule.version,
        rule_sha256=rule.sha256,
        title_zh=rule.title_zh,
        title_en=rule.title_en,
        category=rule.category,
        severity=rule.severity,
        diseases=list(rule.diseases),
        legal_basis=list(rule.legal_basis),
        spans=original[:MAX_REPORTED_SPANS],
        excerpt=_WS_RE.sub(" ", window).strip(),
    )


def load_ruleset(paths: list[Path] | None = None) -> RuleSet:
    """Load rule packs (None = the bundled packs) or raise one RulePackError listing every problem."""
    from rules.loader import load_rules

    rules, digest = load_rules(paths)
    return RuleSet(rules, digest)


__all__ = ["Node", "RuleSet", "load_ruleset"]
