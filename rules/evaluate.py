"""The analysis of one document over compiled rules: findings with spans and excerpts, and the risk.

Owns `analyse_document()`. A document is normalised once; one automaton pass finds every term, page
signal word, evasive spelling (rewritten to its canonical term before a second pass) and regex
literal. A rule is evaluated only when a term of it occurred and every term selection its condition
cannot do without has a hit (plus the rules whose condition can be true without any term). Regexes
run only for those rules, only where a literal their matches start with starts (else around the
literals their matches must contain), and are cached per pattern; exceptions shared by several rules are
indexed once per document, per sentence when they must share the claim's. Claim matches that their
clause denies, asks, reports or warns against (`rules.scope`) are set aside for every rule with a
claim scope, and recorded with the cue in `Analysis.scoped`.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import replace
from itertools import repeat
from typing import Final

from rules.compiled import CompiledRule, CompiledRules, RegexWindow
from rules.document import Section, TextDocument
from rules.excerpts import EXCERPT_CONTEXT, excerpt_around
from rules.matcher import ScanResult
from rules.model import (
    FLAG_THRESHOLD,
    SEVERITY_RANK,
    Analysis,
    ExceptionSelection,
    NearSelection,
    ObfuscatedSelection,
    Rule,
    RuleHit,
    ScopedClaim,
    SignalSelection,
    Span,
    TermSelection,
)
from rules.normalise import NormalisedText, normalise, rewrite
from rules.obfuscation import selection_spans
from rules.regex_literals import anchored_matches
from rules.scope import ScopeReader
from rules.signals import signals_from_normalised

#: A document is analysed in windows of this many characters (memory is per window: analysis
#: costs a few hundred bytes per character) ...
MAX_ANALYSED_CHARS: Final = 500_000
#: ... overlapping by this many, so a claim across a window boundary is seen whole in one of them.
WINDOW_OVERLAP: Final = 2_000
#: Seconds the windows after the first may take; past it the rest is not analysed (signals
#: `text_cut_at` and `analysis_stopped` say where and why).
ANALYSIS_TIME_BUDGET: Final = 30.0
#: Keep at most this many matches per selection: a hostile page repeating a term a million times
#: must not make proximity checks quadratic. The first matches are enough evidence.
MAX_SPANS_PER_SELECTION: Final = 2000
#: Spans reported per finding.
MAX_REPORTED_SPANS: Final = 50
#: Characters after a window that a look-ahead may still need to see.
_LOOKAHEAD_MARGIN: Final = 32


def analyse_document(
    compiled: CompiledRules, doc: TextDocument, signals: Mapping[str, object] | None = None,
    *, time_budget: float = ANALYSIS_TIME_BUDGET,
) -> Analysis:
    """Run every compiled rule on `doc`; `signals` (e.g. licence checks) override the page signals.

    A long document is read whole, in overlapping windows of MAX_ANALYSED_CHARS, so filler before
    a claim is no way to hide it, while memory stays that of one window. The page signals are the
    first window's (where titles, menus and licences are), with a fact seen in a later window
    (`sells_drugs`, ...) set true; a later window adds the findings of rules that had not fired.
    Windows after the first stop when `time_budget` seconds are spent, and the signals say so.
    """
    analysis = _analyse_window(compiled, doc.head(MAX_ANALYSED_CHARS), signals)
    if len(doc.text) <= MAX_ANALYSED_CHARS:
        return analysis
    page = analysis.signals
    found = {hit.rule_id: hit for hit in analysis.findings}
    deadline = time.monotonic() + time_budget
    step = MAX_ANALYSED_CHARS - WINDOW_OVERLAP
    windows = 1
    for start in range(step, len(doc.text) - WINDOW_OVERLAP, step):
        if time.monotonic() > deadline:
            page["text_cut_at"] = start
            page["analysis_stopped"] = f"time budget of {time_budget:g} s spent; the rest of the text was not analysed"
            break
        part = _analyse_window(compiled, doc.window(start, start + MAX_ANALYSED_CHARS), signals)
        windows += 1
        for key, value in part.signals.items():
            if value is True and page.get(key) is False:
                page[key] = True
        for hit in part.findings:
            if hit.rule_id not in found:
                found[hit.rule_id] = replace(hit, spans=[(a + start, b + start) for a, b in hit.spans])
    page["analysed_windows"] = windows
    return _verdict(list(found.values()), page, analysis.scoped)


def _analyse_window(compiled: CompiledRules, doc: TextDocument, signals: Mapping[str, object] | None) -> Analysis:
    matcher = compiled.matcher
    norm = normalise(doc.text)
    scan = matcher.scan(norm.text)
    if scan.evasions:
        norm = rewrite(norm, _leftmost_longest(scan.evasions))
        scan = matcher.scan(norm.text)
    page = signals_from_normalised(norm, doc, scan=scan, matcher=matcher)
    if signals:
        page.update(signals)
    state = DocumentState(compiled, doc, norm, page, scan)

    candidates: set[int] = set()
    hit_uids: set[int] = set()
    key_rules, key_uids = compiled.key_rules, compiled.key_uids
    for key_id in scan.clean:
        candidates.update(key_rules[key_id])
        hit_uids.update(key_uids[key_id])
    key_prefix_rules, key_prefix_uids = compiled.key_prefix_rules, compiled.key_prefix_uids
    for key_id in scan.blocked:
        candidates.update(key_prefix_rules[key_id])
        hit_uids.update(key_prefix_uids[key_id])
    # A rule whose condition needs a term selection that had no hit cannot be true: skip it.
    rules = compiled.rules
    candidates = {
        i for i in candidates if all(not clause.isdisjoint(hit_uids) for clause in rules[i].required_uids)
    }
    candidates.update(compiled.always)

    findings = [hit for i in sorted(candidates) if (hit := evaluate_rule(rules[i], state)) is not None]
    return _verdict(findings, page, list(state.scoped.values()))


def _verdict(findings: list[RuleHit], page: dict[str, object], scoped: list[ScopedClaim] | None = None) -> Analysis:
    findings.sort(key=lambda h: (-SEVERITY_RANK[h.severity], h.rule_id))
    risk = findings[0].severity if findings else "none"
    flagged = SEVERITY_RANK[risk] >= SEVERITY_RANK[FLAG_THRESHOLD]
    return Analysis(findings=findings, signals=page, risk=risk, flagged=flagged, scoped=scoped or [])


def evaluate_rule(compiled_rule: CompiledRule, state: DocumentState) -> RuleHit | None:
    """The finding of one candidate rule on the document of `state`, or None."""
    evaluator = RuleEvaluator(compiled_rule, state)
    rule = compiled_rule.rule
    if compiled_rule.monotone:
        # Exceptions and scopes only take evidence away, so a condition that is false without them
        # stays false with them: most candidate rules stop here, before any of them is looked up.
        ok, spans = rule.condition.evaluate(evaluator.lookup)
        if not ok or not (rule.exceptions or compiled_rule.scope_kinds):
            return _finding(rule, spans, state.norm) if ok else None
    if rule.exceptions and not evaluator.apply_exceptions():
        return None
    evaluator.apply_scope()
    ok, spans = rule.condition.evaluate(evaluator.lookup)
    return _finding(rule, spans, state.norm) if ok else None


class DocumentState:
    """Per-document state shared by all rules: normalised text, term hits, regex cache, scopes."""

    def __init__(
        self,
        compiled: CompiledRules,
        doc: TextDocument,
        norm: NormalisedText,
        signals: dict[str, object],
        scan: ScanResult,
    ):
        self.doc = doc
        self.norm = norm
        self.signals = signals
        self.scan = scan
        self._key_uses = compiled.key_uses
        self._windows = compiled.regex_windows
        self._matcher = compiled.matcher
        #: Regex literals that occur (or, hint-only, may occur): a regex needing none of them cannot match.
        self._maybe_hints = scan.hints.keys() | scan.hint_only
        self._by_uid: dict[int, list[tuple[Span, int]]] | None = None
        self._capped: set[int] = set()
        self.regex_cache: dict[re.Pattern[str], list[Span]] = {}
        self.obfuscation_cache: dict[str, list] = {}  # lexicon → disguised names (rules.obfuscation)
        self._scope_cache: dict[Span, str | None] = {}
        self._scope_cues = compiled.scope_cues
        self._scope_reader: ScopeReader | None = None
        #: Claim matches set aside by scope, per (rule id, selection, span).
        self.scoped: dict[tuple[str, str, Span], ScopedClaim] = {}
        sections = sorted(doc.sections, key=lambda s: (s.start, s.end))
        self._sections = sections
        self._section_starts = [s.start for s in sections]
        # Exception indexes shared by every rule with the same exception selection and scope.
        self.exception_indexes: dict[tuple[object, frozenset[str]], ExceptionIndex | None] = {}
        # When the sections tile the text (separated by single line breaks, which no term contains),
        # a term match lies in one section whose scope is one of `scopes`: rules covering all of
        # them need no per-match scope lookup.
        self.scopes = frozenset(section.scope for section in sections) or frozenset({"body"})
        self.tiled = _tiles(doc.text, sections)

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

    def in_scope(self, rule_id: str, name: str, span: Span, kinds: frozenset[str]) -> bool:
        """Is the claim match `span` of selection `name` in one of the scopes `kinds`? Records why."""
        reader = self._scope_reader
        if reader is None:
            reader = self._scope_reader = ScopeReader(self._scope_cues, self.norm)
        verdict = reader.verdict(span, kinds)
        if verdict is None:
            return False
        key = (rule_id, name, span)
        if key not in self.scoped:
            self.scoped[key] = ScopedClaim(
                rule_id=rule_id,
                selection=name,
                span=self.norm.to_original(*span),
                kind=verdict.kind,
                cue=verdict.cue,
                why=verdict.explain(),
            )
        return True

    def claims_in_scope(self, rule_id: str, name: str, found: list[tuple[Span, object]],
                        kinds: frozenset[str]) -> list[tuple[Span, object]]:
        """The matches of `found` (selection `name`) that no scope among `kinds` takes; records why for
        the others. Matches in sentences without cues or frames are kept without a verdict each."""
        reader = self._scope_reader
        if reader is None:
            reader = self._scope_reader = ScopeReader(self._scope_cues, self.norm)
        undisputed = reader.undisputed([span for span, _ in found])
        return [item for item, sure in zip(found, undisputed, strict=True)
                if sure or not self.in_scope(rule_id, name, item[0], kinds)]

    def term_spans(self, uid: int) -> list[tuple[Span, int]]:
        """(span, term index) of every term occurrence of selection `uid` (at most the cap)."""
        by_uid = self._by_uid
        if by_uid is None:
            # Built once per document from the keys that occurred: cost follows the hits, not the
            # size of the selections.
            by_uid = self._by_uid = {}
            key_uses = self._key_uses
            for key_id, spans in self.scan.clean.items():
                for use_uid, term_index, _prefix in key_uses[key_id]:
                    by_uid.setdefault(use_uid, []).extend(zip(spans, repeat(term_index)))
            for key_id, spans in self.scan.blocked.items():
                for use_uid, term_index, prefix in key_uses[key_id]:
                    if prefix:
                        by_uid.setdefault(use_uid, []).extend(zip(spans, repeat(term_index)))
        found = by_uid.get(uid, [])
        if len(found) > MAX_SPANS_PER_SELECTION and uid not in self._capped:
            found.sort()
            del found[MAX_SPANS_PER_SELECTION:]
            self._capped.add(uid)
        return found

    def regex_spans(self, pattern: re.Pattern[str]) -> list[Span]:
        cached = self.regex_cache.get(pattern)
        if cached is None:
            window = self._windows.get(pattern)
            if window is not None and window.lead_keys:
                cached = self.regex_cache[pattern] = self._anchored_spans(pattern, window)
                return cached
            cached = []
            text = self.norm.text
            for lo, hi in self._regex_windows(pattern):
                for m in pattern.finditer(text, lo, hi):
                    if m.end() > m.start():
                        cached.append(m.span())
                if len(cached) >= MAX_SPANS_PER_SELECTION:
                    del cached[MAX_SPANS_PER_SELECTION:]
                    break
            self.regex_cache[pattern] = cached
        return cached

    def _anchored_spans(self, pattern: re.Pattern[str], window: RegexWindow) -> list[Span]:
        """The matches `finditer` over the whole text finds, found by trying `pattern` only where one of
        its lead literals starts: every match starts there, so no other position can start one."""
        maybe = self._maybe_hints
        if not any(key_id in maybe for key_id in window.hint_keys):
            return []  # a literal every match contains does not occur
        present = [key_id for key_id in window.lead_keys if key_id in maybe]
        if not present:
            return []
        if len(present) == 1:
            starts = [start for start, _ in self._hint_spans(present[0])]
        else:
            starts = sorted({start for key_id in present for start, _ in self._hint_spans(key_id)})
        return anchored_matches(pattern, self.norm.text, starts, MAX_SPANS_PER_SELECTION)

    def _hint_spans(self, key_id: int) -> list[Span]:
        """Occurrences of a regex literal: listed by the scan, or (a hint-only key that may occur)
        looked up once per document."""
        scan = self.scan
        found = scan.hints.get(key_id)
        if found is None:
            found = self._matcher.hint_spans(key_id, self.norm.text) if key_id in scan.hint_only else []
            scan.hints[key_id] = found
        return found

    def _regex_windows(self, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
        """Where `pattern` can match: around occurrences of its required literals (see `RegexWindow`)."""
        n = len(self.norm.text)
        window = self._windows.get(pattern)
        if window is None:
            return [(0, n)]
        maybe = self._maybe_hints
        present = [key_id for key_id in window.hint_keys if key_id in maybe]
        if not present:
            return []
        occurrences = sorted(span for key_id in present for span in self._hint_spans(key_id))
        if not occurrences:
            return []
        width = window.max_width
        if width is None:
            return [(0, n)]
        windows: list[tuple[int, int]] = []
        for start, end in occurrences:
            lo, hi = max(0, end - width), min(n, start + width + _LOOKAHEAD_MARGIN)
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], hi))
            else:
                windows.append((lo, hi))
        return windows


class RuleEvaluator:
    """Evaluates one rule's condition on one document."""

    def __init__(self, compiled_rule: CompiledRule, state: DocumentState):
        self.rule = compiled_rule.rule
        self.uids = compiled_rule.selection_uids
        self.positive = compiled_rule.positive
        self.near_order = compiled_rule.near_order
        self.state = state
        self.cache: dict[str, tuple[bool, list[Span]]] = {}
        self.raw: dict[str, list[tuple[Span, object]]] = {}
        self.exception_checks: list[tuple[ExceptionIndex, frozenset[str]]] = []
        self.exception_keys = compiled_rule.exception_keys
        self.scope_kinds = compiled_rule.scope_kinds
        self.scoping = False

    def _selection_matches(self, sel: TermSelection) -> list[tuple[Span, object]]:
        """(span, key) pairs in the rule's scope, sorted; the key tells distinct terms apart."""
        cached = self.raw.get(sel.name)
        if cached is not None:
            return cached
        state = self.state
        rule_scope = self.rule.scope
        found: list[tuple[Span, object]] = []
        uid = self.uids.get(sel.name)
        if uid is not None and sel.terms:
            if state.tiled and state.scopes <= rule_scope:
                found.extend(state.term_spans(uid))
            else:
                found.extend(item for item in state.term_spans(uid) if state.scope_of(item[0]) in rule_scope)
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
            key = (self.exception_keys[sel.name], self.rule.scope)
            indexes = self.state.exception_indexes
            if key in indexes:
                index = indexes[key]
            else:
                spans = [span for span, _ in self._selection_matches(sel)]
                index = indexes[key] = ExceptionIndex(spans, exc, self.state.norm) if spans else None
            if index is not None:
                self.exception_checks.append((index, exc.applies_to))
        self.cache.clear()
        return True

    def apply_scope(self) -> None:
        """From the next evaluation on, claim matches in scope (see `rules.scope`) are not evidence."""
        if self.scope_kinds:
            self.scoping = True
            self.cache.clear()

    def _unsuppressed(self, name: str, spans: list[Span]) -> list[bool]:
        """Per span of selection `name`: does no exception that applies to it excuse it?"""
        keep = [True] * len(spans)
        norm = self.state.norm
        for index, applies_to in self.exception_checks:
            if applies_to and name not in applies_to:
                continue
            for i, excused in enumerate(index.suppresses_all(spans, norm)):
                if excused:
                    keep[i] = False
        return keep

    def lookup(self, name: str) -> tuple[bool, list[Span]]:
        cached = self.cache.get(name)
        if cached is not None:
            return cached
        sel = self.rule.selections[name]
        result: tuple[bool, list[Span]]
        if isinstance(sel, SignalSelection):
            result = (_signals_match(sel, self.state.signals), [])
        elif isinstance(sel, ObfuscatedSelection):
            result = self._obfuscated(name, sel)
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
                keep = self._unsuppressed(name, [span for span, _ in found])
                found = [item for item, kept in zip(found, keep, strict=True) if kept]
            kinds = self.scope_kinds.get(name) if self.scoping else None
            if kinds:
                found = self.state.claims_in_scope(self.rule.id, name, found, kinds)
            found = found[:MAX_SPANS_PER_SELECTION]
            distinct = len({key for _, key in found})
            result = (bool(found) and distinct >= sel.min_distinct, [span for span, _ in found])
        self.cache[name] = result
        return result


    def _obfuscated(self, name: str, sel: ObfuscatedSelection) -> tuple[bool, list[Span]]:
        """Disguised drug names in the rule's scope, less those an exception excuses."""
        state = self.state
        spans = [
            span for span in selection_spans(sel, state.norm, state.obfuscation_cache)
            if state.scope_of(span) in self.rule.scope
        ]
        if self.exception_checks and name in self.positive:
            spans = [span for span, kept in zip(spans, self._unsuppressed(name, spans), strict=True) if kept]
        return (bool(spans), spans[:MAX_SPANS_PER_SELECTION])


class ExceptionIndex:
    """Matches of one exception selection, turned into zones for "is this claim excused?" queries.

    A claim span [s, e) is excused by an exception match [x, y) when (within W, if set; in the same
    sentence, if asked): side "before": x < s <= y + W; side "after": x - W <= e < y; side "any":
    the spans are at most W apart. Each exception match becomes one zone that a claim's start (or
    end, or span) is tested against with a single bisection, among the zones of the claim's sentence
    only when the exception must share it (without a distance every zone reaches every claim, so one
    list for the whole text made each query walk every zone before it).
    """

    def __init__(self, spans: list[Span], exc: ExceptionSelection, norm: NormalisedText):
        self.side = exc.side
        self.same_sentence = exc.same_sentence or exc.within is None
        within = exc.within
        zones: dict[int, list[tuple[int, int]]] = {}  # per sentence id (-1: any), (lo, hi) inclusive bounds
        far = len(norm.text) + 1
        for x, y in sorted(spans):
            sentence = norm.sentence_of(x) if self.same_sentence else -1
            w = far if within is None else within
            if self.side == "before":  # the claim starts after the exception starts: x < s <= y + W
                lo, hi = x + 1, y + w
            elif self.side == "after":  # the claim ends before the exception ends: x - W <= e < y
                lo, hi = x - w, y - 1
            else:  # at most W apart: e >= x - W and s <= y + W, tested as e - 1 >= x - W - 1
                lo, hi = x - w - 1, y + w
            zones.setdefault(sentence, []).append((lo, hi))
        # Per sentence: zone starts (sorted) and, for "any", the widest reach so far, so a claim
        # [s, e) meeting zone [lo, hi] (s <= hi and e - 1 >= lo) is found by walking back from the
        # last zone starting at or before e - 1 while the reach can still get to it.
        self.by_sentence: dict[int, tuple[list[int], list[int]]] = {}
        for sentence, found in zones.items():
            found.sort()
            reach, max_reach = -1, []
            for _lo, hi in found:
                reach = max(reach, hi)
                max_reach.append(reach)
            self.by_sentence[sentence] = ([lo for lo, _ in found], max_reach)

    def suppresses_all(self, spans: list[Span], norm: NormalisedText) -> list[bool]:
        """`suppresses` of each span, in one loop (a selection's matches are checked together)."""
        by_sentence, side = self.by_sentence, self.side
        if not self.same_sentence:
            entry = by_sentence.get(-1)
            if entry is None:
                return [False] * len(spans)
        ends = norm.sentence_ends if self.same_sentence else None
        out: list[bool] = []
        for s, e in spans:
            if ends is not None:
                entry = by_sentence.get(bisect_left(ends, s))
                if entry is None:
                    out.append(False)
                    continue
            los, max_reach = entry  # type: ignore[misc]
            if side == "before":
                point = limit = s
            elif side == "after":
                point = limit = e
            else:
                point, limit = e - 1, s
            i = bisect_right(los, point) - 1
            out.append(i >= 0 and max_reach[i] >= limit)
        return out

    def suppresses(self, span: Span, norm: NormalisedText) -> bool:
        s, e = span
        entry = self.by_sentence.get(norm.sentence_of(s) if self.same_sentence else -1)
        if entry is None:
            return False
        los, max_reach = entry
        if self.side == "before":
            point = limit = s
        elif self.side == "after":
            point = limit = e
        else:
            point, limit = e - 1, s
        i = bisect_right(los, point) - 1
        # Zones 0..i start at or before `point`; one of them reaches `limit` exactly when the widest does.
        return i >= 0 and max_reach[i] >= limit


def _tiles(text: str, sections: list[Section]) -> bool:
    """Do the sections cover `text` completely, apart from single line breaks between them?"""
    if not sections:
        return True
    if sections[0].start != 0:
        return False
    for before, after in zip(sections, sections[1:], strict=False):
        if after.start != before.end + 1 or text[before.end] != "\n":
            return False
    return sections[-1].end == len(text)


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




def _leftmost_longest(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping evasions, preferring the one that starts first, then the longest."""
    chosen: list[tuple[int, int, str]] = []
    last_end = -1
    for start, end, canonical in sorted(spans, key=lambda e: (e[0], e[0] - e[1])):
        if start >= last_end:
            chosen.append((start, end, canonical))
            last_end = end
    return chosen


def _finding(rule: Rule, spans: list[Span], norm: NormalisedText) -> RuleHit:
    original = sorted({norm.to_original(a, b) for a, b in spans if b > a})
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
        excerpt=excerpt_around(norm.original, original),
    )


__all__ = [
    "EXCERPT_CONTEXT",
    "MAX_ANALYSED_CHARS",
    "MAX_REPORTED_SPANS",
    "MAX_SPANS_PER_SELECTION",
    "DocumentState",
    "ExceptionIndex",
    "RuleEvaluator",
    "analyse_document",
    "evaluate_rule",
]
