"""`RuleSet`: the loaded rules, the shared automaton, and the analysis of one document.

Owns matching and evaluation. A document is normalised once; one automaton pass finds every term
of every rule, every page-signal word, every evasive spelling (which, when present, is rewritten
to its canonical term before a second pass) and every literal some regex needs. A rule is evaluated
only when a term of it occurred and every term selection its condition cannot do without has a hit
(plus the few rules whose condition can be true without any term). Regexes run only for those
rules, only around the literals their matches must contain, and are cached per pattern; exceptions
shared by several rules are indexed once per document. Cost grows with the text and its hits, not
with the number of rules.

Rule attributes other layers may read (e.g. for `pharmwatch rules list`): `RuleSet.rules` is a list
of `rules.model.Rule` with `id`, `version`, `status`, `category`, `severity`, `title_zh`,
`title_en`, `diseases`, `legal_basis`, `scope`, `path` and `sha256`; `RuleSet.digest` identifies
the whole pack.
"""

from __future__ import annotations

import itertools
import re
import re._constants as _sre_constants
import re._parser as _sre_parser
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rules.condition import And, Name, Node, Not, OfQuantifier, Or
from rules.document import TextDocument
from rules.evasions import evasion_table
from rules.matcher import ScanResult, TermMatcher
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
from rules.normalise import NormalisedText, normalise, rewrite
from rules.signals import register_signal_words, signals_from_normalised

#: Characters of a document that are analysed; the rest is not (page signal `text_cut_at`).
MAX_ANALYSED_CHARS = 500_000
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
#: A regex whose longest match is longer than this is searched in the whole text.
_MAX_WINDOWED_WIDTH = 400
#: Characters after a window that a look-ahead may still need to see.
_LOOKAHEAD_MARGIN = 32


@dataclass(frozen=True)
class _RegexHint:
    """Literals one of which every match of a regex contains, and the regex's longest match."""

    literals: frozenset[str]
    max_width: int | None  # None: unbounded, so only the presence of a literal can be used


#: An unbounded repeat (\s*, \d+) counts as at most this many characters when sizing windows.
_UNBOUNDED_REPEAT = 64


def _required_literals(items: list) -> list[frozenset[str]]:  # type: ignore[type-arg]
    """Sets of literal strings such that every match of `items` contains one of each set."""
    found: list[frozenset[str]] = []
    run = ""
    for op, av in items:
        if op is _sre_constants.LITERAL:
            run += chr(av)
            continue
        if run:
            found.append(frozenset({run}))
            run = ""
        if op is _sre_constants.SUBPATTERN:
            found += _required_literals(list(av[3]))
        elif op is _sre_constants.BRANCH:
            alternatives = [_required_literals(list(alt)) for alt in av[1]]
            if alternatives and all(alternatives):
                # Each alternative contributes its most selective set; a match holds one of the union.
                found.append(frozenset().union(*(max(alt, key=_selectivity) for alt in alternatives)))
        elif op in (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT) and av[0] >= 1:
            found += _required_literals(list(av[2]))
    if run:
        found.append(frozenset({run}))
    return found


def _selectivity(literals: frozenset[str]) -> tuple[int, int]:
    return (min(map(len, literals)), -len(literals))


def _max_width(items: list) -> int | None:  # type: ignore[type-arg]
    """Longest match of `items`, unbounded repeats counted as `_UNBOUNDED_REPEAT`; None if unknown."""
    total = 0
    for op, av in items:
        if op in (_sre_constants.LITERAL, _sre_constants.NOT_LITERAL, _sre_constants.ANY, _sre_constants.IN):
            total += 1
        elif op is _sre_constants.SUBPATTERN:
            inner = _max_width(list(av[3]))
            if inner is None:
                return None
            total += inner
        elif op is _sre_constants.BRANCH:
            widths = [_max_width(list(alt)) for alt in av[1]]
            if any(w is None for w in widths):
                return None
            total += max(w for w in widths if w is not None)
        elif op in (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT):
            inner = _max_width(list(av[2]))
            if inner is None:
                return None
            count = _UNBOUNDED_REPEAT if av[1] is _sre_constants.MAXREPEAT else av[1]
            total += inner * count
        elif op in (_sre_constants.AT, _sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            continue  # zero width; look-aheads get `_LOOKAHEAD_MARGIN`, look-behinds see the whole text
        else:
            return None
    return total


def _regex_hint(pattern: re.Pattern[str]) -> _RegexHint | None:
    """The most selective literal set of `pattern`, or None if its matches need no literal."""
    try:
        parsed = _sre_parser.parse(pattern.pattern, pattern.flags)
    except (re.error, TypeError, ValueError):  # pragma: no cover - compiled patterns parse
        return None
    options = [s for s in _required_literals(list(parsed)) if s and all(s)]
    if not options:
        return None
    width = _max_width(list(parsed))
    if width is not None and width > _MAX_WINDOWED_WIDTH:
        width = None
    return _RegexHint(frozenset(lit.lower() for lit in max(options, key=_selectivity)), width)


class _Document:
    """Per-document state shared by all rules: normalised text, term hits, regex cache, scopes."""

    def __init__(
        self,
        ruleset: RuleSet,
        doc: TextDocument,
        norm: NormalisedText,
        signals: dict[str, object],
        scan: ScanResult,
    ):
        self.doc = doc
        self.norm = norm
        self.signals = signals
        self.scan = scan
        self._key_uses = ruleset._key_uses
        self._hints = ruleset._regex_hint_keys
        self._hint_width = ruleset._regex_hint_width
        self._by_uid: dict[int, list[tuple[Span, int]]] | None = None
        self._capped: set[int] = set()
        self.regex_cache: dict[re.Pattern[str], list[Span]] = {}
        self._scope_cache: dict[Span, str | None] = {}
        sections = sorted(doc.sections, key=lambda s: (s.start, s.end))
        self._sections = sections
        self._section_starts = [s.start for s in sections]
        # Exception indexes shared by every rule with the same exception selection and scope.
        self.exception_indexes: dict[tuple[object, frozenset[str]], _ExceptionIndex | None] = {}
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
                    by_uid.setdefault(use_uid, []).extend((span, term_index) for span in spans)
            for key_id, spans in self.scan.blocked.items():
                for use_uid, term_index, prefix in key_uses[key_id]:
                    if prefix:
                        by_uid.setdefault(use_uid, []).extend((span, term_index) for span in spans)
        found = by_uid.get(uid, [])
        if len(found) > MAX_SPANS_PER_SELECTION and uid not in self._capped:
            found.sort()
            del found[MAX_SPANS_PER_SELECTION:]
            self._capped.add(uid)
        return found

    def regex_spans(self, pattern: re.Pattern[str]) -> list[Span]:
        cached = self.regex_cache.get(pattern)
        if cached is None:
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

    def _regex_windows(self, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
        """Where `pattern` can match: around occurrences of its required literals (see `_RegexHint`)."""
        n = len(self.norm.text)
        hint = self._hints.get(pattern)
        if hint is None:
            return [(0, n)]
        occurrences = sorted(span for key_id in hint for span in self.scan.hints.get(key_id, ()))
        if not occurrences:
            return []
        width = self._hint_width[pattern]
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
        self.exception_checks: list[tuple[_ExceptionIndex, frozenset[str]]] = []
        self.exception_keys = ruleset._exception_keys[index]

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
                index = indexes[key] = _ExceptionIndex(spans, exc, self.state.norm) if spans else None
            if index is not None:
                self.exception_checks.append((index, exc.applies_to))
        self.cache.clear()
        return True

    def _suppressed(self, name: str, span: Span) -> bool:
        norm = self.state.norm
        for index, applies_to in self.exception_checks:
            if applies_to and name not in applies_to:
                continue
            verdict = index.memo.get(span)
            if verdict is None:
                verdict = index.memo[span] = index.suppresses(span, norm)
            if verdict:
                return True
        return False

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
                found = [item for item in found if not self._suppressed(name, item[0])]
            found = found[:MAX_SPANS_PER_SELECTION]
            distinct = len({key for _, key in found})
            result = (bool(found) and distinct >= sel.min_distinct, [span for span, _ in found])
        self.cache[name] = result
        return result


class _ExceptionIndex:
    """Matches of one exception selection, turned into zones for "is this claim excused?" queries.

    A claim span [s, e) is excused by an exception match [x, y) when (within W, if set; in the same
    sentence, if asked): side "before": x < s <= y + W; side "after": x - W <= e < y; side "any":
    the spans are at most W apart. Each exception match becomes one zone that a claim's start (or
    end, or span) is tested against with a single bisection.
    """

    def __init__(self, spans: list[Span], exc: ExceptionSelection, norm: NormalisedText):
        self.side = exc.side
        self.same_sentence = exc.same_sentence or exc.within is None
        self.memo: dict[Span, bool] = {}
        within = exc.within
        zones: list[tuple[int, int, int]] = []  # (lo, hi, sentence id), inclusive bounds
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
            zones.append((lo, hi, sentence))
        zones.sort()
        self.los = [z[0] for z in zones]
        self.zones = zones
        # For "any", a claim [s, e) meets zone [lo, hi] when s <= hi and e - 1 >= lo: the zones
        # starting at or before e - 1 are candidates, and the widest reach decides quickly.
        self.max_reach: list[int] = []
        reach = -1
        for _lo, hi, _sentence in zones:
            reach = max(reach, hi)
            self.max_reach.append(reach)

    def suppresses(self, span: Span, norm: NormalisedText) -> bool:
        s, e = span
        if self.side == "before":
            point, needs_overlap = s, False
        elif self.side == "after":
            point, needs_overlap = e, False
        else:
            point, needs_overlap = e - 1, True
        i = bisect_right(self.los, point) - 1
        if i < 0:
            return False
        sentence = norm.sentence_of(s) if self.same_sentence else -1
        limit = s if needs_overlap else point
        # Zones are sorted by start; walk back while a zone could still reach the claim.
        while i >= 0 and self.max_reach[i] >= limit:
            lo, hi, zone_sentence = self.zones[i]
            if hi >= limit and zone_sentence == sentence:
                return True
            i -= 1
        return False


def _tiles(text: str, sections: list) -> bool:  # type: ignore[type-arg]
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


def _positive_names(rule: Rule) -> frozenset[str]:
    """Selections whose matches are evidence: positive in the condition, directly or through near."""
    return _with_near_sides(rule, set(rule.condition.positive_names()))


def _negated_names(rule: Rule) -> frozenset[str]:
    """Selections read under a `not`, directly or through near."""
    return _with_near_sides(rule, set(_under_not(rule.condition)))


def _with_near_sides(rule: Rule, names: set[str]) -> frozenset[str]:
    """`names` plus, transitively, both sides of every near selection among them."""
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


def _required_clauses(rule: Rule) -> list[frozenset[str]]:
    """Term-only selections the condition cannot do without, as clauses: in each, one must match.

    Sound, not complete: a selection with regexes (which can match without a term), a signal test
    or anything under `not` adds no clause, and `or` keeps only what all its branches share
    (relaxed to one clause holding every branch's selections).
    """

    def base(name: str, seen: frozenset[str] = frozenset()) -> list[frozenset[str]]:
        sel = rule.selections[name]
        if isinstance(sel, TermSelection):
            return [frozenset({name})] if sel.terms and not sel.regex else []
        if isinstance(sel, NearSelection) and name not in seen:
            return base(sel.a, seen | {name}) + base(sel.b, seen | {name})
        return []

    def clauses(node: Node) -> list[frozenset[str]]:
        if isinstance(node, Name):
            return base(node.name)
        if isinstance(node, And):
            return [c for child in node.children for c in clauses(child)]
        if isinstance(node, Or):
            branches = [clauses(child) for child in node.children]
            if any(not b for b in branches):
                return []
            return [frozenset().union(*(c for b in branches for c in b))]
        if isinstance(node, OfQuantifier):
            if node.count is None:  # all of them
                return [c for name in node.members for c in base(name)]
            branches = [base(name) for name in node.members]
            if any(not b for b in branches):
                return []
            return [frozenset().union(*(c for b in branches for c in b))]
        return []  # Not: no requirement

    return clauses(rule.condition)


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
        pinyin_terms: set[str] = set()
        self._positive: list[frozenset[str]] = []
        self._monotone: list[bool] = []
        self._near_order: list[dict[str, tuple[str, str]]] = []
        self._always: list[int] = []
        # Per rule: clauses of selection uids of which one per clause must have a term hit.
        self._required: list[list[frozenset[int]]] = []
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
                    self._matcher.add(term, uid, term_index)
                    if sel.pinyin:
                        pinyin_terms.add(term)
            self._uids.append(uids)
            self._detection_uids.append(detection)
            positive = _positive_names(rule)
            self._positive.append(positive)
            self._monotone.append(not (positive & _negated_names(rule)))
            self._near_order.append(_near_order(rule))
            if _needs_evaluation_without_terms(rule):
                self._always.append(index)
            self._required.append([frozenset(uids[n] for n in clause) for clause in _required_clauses(rule)])
        for variant, canonical in evasion_table(pinyin_terms).items():
            self._matcher.add_evasion(variant, canonical)
        register_signal_words(self._matcher)
        # Every regex runs only around the literals its matches must contain (found by the scan).
        self._regex_hint_keys: dict[re.Pattern[str], tuple[int, ...]] = {}
        self._regex_hint_width: dict[re.Pattern[str], int | None] = {}
        patterns = {
            p
            for rule in self.rules
            for sel in [*rule.selections.values(), *(e.selection for e in rule.exceptions.values())]
            if isinstance(sel, TermSelection)
            for p in sel.regex
        }
        for pattern in patterns:
            hint = _regex_hint(pattern)
            if hint is not None:
                self._regex_hint_keys[pattern] = tuple(self._matcher.add_hint(lit) for lit in sorted(hint.literals))
                self._regex_hint_width[pattern] = hint.max_width
        self._matcher.build()
        # Per key: the (selection, term index, prefix) uses, and the rules it makes candidates.
        self._key_rules: list[tuple[int, ...]] = []
        self._key_prefix_rules: list[tuple[int, ...]] = []
        self._key_uses: list[tuple[tuple[int, int, bool], ...]] = []
        for key in self._matcher.keys:
            rules: set[int] = set()
            prefix_rules: set[int] = set()
            self._key_uses.append(tuple((ref.selection_uid, ref.term_index, ref.prefix) for ref in key.refs))
            for ref in key.refs:
                rule_index = self._uid_rule[ref.selection_uid]
                if ref.selection_uid in self._detection_uids[rule_index]:
                    rules.add(rule_index)
                    if ref.prefix:
                        prefix_rules.add(rule_index)
            self._key_rules.append(tuple(sorted(rules)))
            self._key_prefix_rules.append(tuple(sorted(prefix_rules)))
        # Exceptions with the same content share one index per document (most rules carry the same
        # warning/enforcement lists), keyed by what they match and how they apply.
        self._exception_keys: list[dict[str, object]] = []
        for rule in self.rules:
            keys: dict[str, object] = {}
            for exc in rule.exceptions.values():
                sel = exc.selection
                if isinstance(sel, TermSelection):
                    keys[sel.name] = (
                        sel.terms,
                        tuple((p.pattern, p.flags) for p in sel.regex),
                        exc.within,
                        exc.same_sentence,
                        exc.side,
                    )
            self._exception_keys.append(keys)
        self._by_id = {rule.id: rule for rule in self.rules}

    def __len__(self) -> int:
        return len(self.rules)

    def rule(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    @property
    def term_key_count(self) -> int:
        """Keys in the shared automaton (terms, evasive spellings and page-signal words)."""
        return self._matcher.key_count

    @property
    def matcher_backend(self) -> str:
        """"hyperscan" or "ahocorasick" (see rules.matcher)."""
        return self._matcher.backend

    def analyse(self, doc: TextDocument, signals: Mapping[str, object] | None = None) -> Analysis:
        """Run every rule on `doc`. `signals` (e.g. licence checks) override the computed page signals.

        Only the first MAX_ANALYSED_CHARS characters are analysed (signal `text_cut_at` says so):
        analysis costs a few hundred bytes per character, and a 10 MB page of repeated claims
        would otherwise take over a gigabyte. Claims that matter are never that far down a real page.
        """
        cut_at = MAX_ANALYSED_CHARS if len(doc.text) > MAX_ANALYSED_CHARS else None
        doc = doc.head(MAX_ANALYSED_CHARS)
        norm = normalise(doc.text)
        scan = self._matcher.scan(norm.text)
        if scan.evasions:
            norm = rewrite(norm, _leftmost_longest(scan.evasions))
            scan = self._matcher.scan(norm.text)
        page = signals_from_normalised(norm, doc, scan=scan, matcher=self._matcher)
        if signals:
            page.update(signals)
        if cut_at:
            page["text_cut_at"] = cut_at
        state = _Document(self, doc, norm, page, scan)

        candidates: set[int] = set()
        hit_uids: set[int] = set()
        key_rules, key_uses = self._key_rules, self._key_uses
        for key_id in scan.clean:
            candidates.update(key_rules[key_id])
            hit_uids.update(use[0] for use in key_uses[key_id])
        for key_id in scan.blocked:
            candidates.update(self._key_prefix_rules[key_id])
            hit_uids.update(use[0] for use in key_uses[key_id] if use[2])
        # A rule whose condition needs a term selection that had no hit cannot be true: skip it.
        required = self._required
        candidates = {i for i in candidates if all(not clause.isdisjoint(hit_uids) for clause in required[i])}
        candidates.update(self._always)

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
