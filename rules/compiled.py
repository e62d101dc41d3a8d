"""Rules compiled for analysis: one `CompiledRule` record per rule and the shared automaton.

Owns `compile_rules()`. Every term of every rule, every evasive spelling and page-signal word and
every literal some regex needs goes into one `TermMatcher`; per automaton key, the tables say which
selections it feeds and which rules it makes candidates, so a scan's cost follows its hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rules.evasions import evasion_table
from rules.matcher import TermMatcher
from rules.model import Rule, TermSelection
from rules.regex_literals import regex_hint, regex_leads
from rules.scope import PASSAGE_KINDS, ScopeCues, load_scope_cues
from rules.signals import register_signal_words
from rules.static_analysis import (
    is_monotone,
    near_order,
    needs_evaluation_without_terms,
    positive_names,
    required_clauses,
)

#: An automaton key's use: (selection uid, term index within the selection, is a prefix term).
KeyUse = tuple[int, int, bool]


@dataclass(frozen=True)
class CompiledRule:
    """What the evaluator needs of one rule, computed once when the rule set is built."""

    rule: Rule
    #: Selection name → uid, for term selections of the detection and of the exceptions.
    selection_uids: dict[str, int]
    #: Uids of detection selections with terms: a hit on one makes the rule a candidate.
    detection_uids: frozenset[int]
    #: Selections whose matches are evidence (see `static_analysis.positive_names`).
    positive: frozenset[str]
    #: Exceptions only take evidence away, so the condition may be tried before them.
    monotone: bool
    #: Per near selection, its sides in lookup order.
    near_order: dict[str, tuple[str, str]]
    #: The condition can be true without a term hit: the rule is evaluated on every document.
    always_evaluated: bool
    #: Clauses of selection uids of which one per clause must have a term hit.
    required_uids: tuple[frozenset[int], ...]
    #: Per exception selection, a key shared by every rule with the same exception content, so
    #: one index per document serves them all.
    exception_keys: dict[str, object]
    #: Per selection whose matches a scope may take away, the scope kinds that apply to it.
    scope_kinds: dict[str, frozenset[str]]


@dataclass(frozen=True)
class RegexWindow:
    """Automaton keys of the literals one of which every match of a regex contains, and its width;
    and the keys of the literals one of which every match starts with (`regex_leads`), if known."""

    hint_keys: tuple[int, ...]
    max_width: int | None
    lead_keys: tuple[int, ...] = ()


@dataclass(frozen=True)
class CompiledRules:
    """The compiled rules of a rule set and the automaton with its per-key tables."""

    rules: tuple[CompiledRule, ...]
    matcher: TermMatcher
    #: Per automaton key: its uses, the rules it makes candidates, those it does as a prefix match.
    key_uses: tuple[tuple[KeyUse, ...], ...]
    key_rules: tuple[tuple[int, ...], ...]
    key_prefix_rules: tuple[tuple[int, ...], ...]
    #: Per automaton key: the selection uids it feeds, and those it feeds as a prefix term.
    key_uids: tuple[tuple[int, ...], ...]
    key_prefix_uids: tuple[tuple[int, ...], ...]
    #: Regexes tried only where one of their lead literals starts, or else searched only around their
    #: required literals; others are searched everywhere.
    regex_windows: dict[re.Pattern[str], RegexWindow]
    #: Indexes of rules evaluated on every document.
    always: tuple[int, ...]
    #: The scope cue vocabulary (see `rules.scope`).
    scope_cues: ScopeCues


def _exception_keys(rule: Rule) -> dict[str, object]:
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
    return keys


def _scope_kinds(rule: Rule, positive: frozenset[str]) -> dict[str, frozenset[str]]:
    """Scope kinds per positive term selection: all of the rule's kinds for the claim selections
    (`applies_to`, default all), and only those that make a whole passage someone else's words
    (reported, warning) for the others (topic words such as the disease)."""
    scope = rule.claim_scope
    if scope is None:
        return {}
    out: dict[str, frozenset[str]] = {}
    for name, sel in rule.selections.items():
        if not isinstance(sel, TermSelection) or name not in positive:
            continue
        kinds = scope.kinds if not scope.applies_to or name in scope.applies_to else scope.kinds & PASSAGE_KINDS
        if kinds:
            out[name] = kinds
    return out


def compile_rules(rules: list[Rule]) -> CompiledRules:
    """Compile `rules` (in this order) and build the shared automaton."""
    matcher = TermMatcher()
    uid_rule: list[int] = []
    pinyin_terms: set[str] = set()
    compiled: list[CompiledRule] = []
    for index, rule in enumerate(rules):
        uids: dict[str, int] = {}
        detection: set[int] = set()
        named: list[tuple[str, TermSelection, bool]] = [
            (n, s, True) for n, s in rule.selections.items() if isinstance(s, TermSelection)
        ]
        named += [(n, e.selection, False) for n, e in rule.exceptions.items() if isinstance(e.selection, TermSelection)]
        for name, sel, is_detection in named:
            uid = len(uid_rule)
            uid_rule.append(index)
            uids[name] = uid
            if is_detection and sel.terms:
                detection.add(uid)
            for term_index, term in enumerate(sel.terms):
                matcher.add(term, uid, term_index)
                if sel.pinyin:
                    pinyin_terms.add(term)
        positive = positive_names(rule)
        compiled.append(
            CompiledRule(
                rule=rule,
                selection_uids=uids,
                detection_uids=frozenset(detection),
                positive=positive,
                monotone=is_monotone(rule),
                near_order=near_order(rule),
                always_evaluated=needs_evaluation_without_terms(rule),
                required_uids=tuple(frozenset(uids[n] for n in clause) for clause in required_clauses(rule)),
                exception_keys=_exception_keys(rule),
                scope_kinds=_scope_kinds(rule, positive),
            )
        )
    for variant, canonical in sorted(evasion_table(pinyin_terms).items()):  # sorted: see the regexes below
        matcher.add_evasion(variant, canonical)
    register_signal_words(matcher)
    # Every regex runs only where a literal its matches must start with starts, or else around the
    # literals its matches must contain (both found by the scan).
    regex_windows: dict[re.Pattern[str], RegexWindow] = {}
    patterns = {
        p
        for rule in rules
        for sel in [*rule.selections.values(), *(e.selection for e in rule.exceptions.values())]
        if isinstance(sel, TermSelection)
        for p in sel.regex
    }
    # In a fixed order, so the automaton's keys (and its cache key, rules.database_cache) do not depend on
    # the process's hash seed.
    for pattern in sorted(patterns, key=lambda p: (p.pattern, p.flags)):
        hint = regex_hint(pattern)
        if hint is not None:
            keys = tuple(matcher.add_hint(lit) for lit in sorted(hint.literals))
            leads = regex_leads(pattern) or frozenset()
            lead_keys = tuple(matcher.add_hint(lit) for lit in sorted(leads))
            regex_windows[pattern] = RegexWindow(keys, hint.max_width, lead_keys)
    matcher.build()
    key_uses: list[tuple[KeyUse, ...]] = []
    key_rules: list[tuple[int, ...]] = []
    key_prefix_rules: list[tuple[int, ...]] = []
    for key in matcher.keys:
        candidates: set[int] = set()
        prefix_candidates: set[int] = set()
        key_uses.append(tuple((ref.selection_uid, ref.term_index, ref.prefix) for ref in key.refs))
        for ref in key.refs:
            rule_index = uid_rule[ref.selection_uid]
            if ref.selection_uid in compiled[rule_index].detection_uids:
                candidates.add(rule_index)
                if ref.prefix:
                    prefix_candidates.add(rule_index)
        key_rules.append(tuple(sorted(candidates)))
        key_prefix_rules.append(tuple(sorted(prefix_candidates)))
    return CompiledRules(
        rules=tuple(compiled),
        matcher=matcher,
        key_uses=tuple(key_uses),
        key_rules=tuple(key_rules),
        key_prefix_rules=tuple(key_prefix_rules),
        key_uids=tuple(tuple(use[0] for use in uses) for uses in key_uses),
        key_prefix_uids=tuple(tuple(use[0] for use in uses if use[2]) for uses in key_uses),
        regex_windows=regex_windows,
        always=tuple(i for i, c in enumerate(compiled) if c.always_evaluated),
        scope_cues=load_scope_cues(),
    )


__all__ = ["CompiledRule", "CompiledRules", "KeyUse", "RegexWindow", "compile_rules"]
