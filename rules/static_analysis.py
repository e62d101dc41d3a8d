"""Static facts about one rule's condition, read without any document.

Owns what the engine needs to skip rules cheaply and what `rules lint` checks: which selections are
evidence (positive) or read under `not`, which near side to look up first, which term selections a
condition cannot do without, and whether a condition can be true without any term match.
"""

from __future__ import annotations

import itertools
from typing import Final

from rules.condition import And, Name, Node, Not, OfQuantifier, Or
from rules.model import NearSelection, ObfuscatedSelection, Rule, TermSelection

#: Above this many undetermined selections, a rule is simply evaluated on every document.
MAX_ENUMERATED_ATOMS: Final = 12


def positive_names(rule: Rule) -> frozenset[str]:
    """Selections whose matches are evidence: positive in the condition, directly or through near."""
    return _with_near_sides(rule, set(rule.condition.positive_names()))


def negated_names(rule: Rule) -> frozenset[str]:
    """Selections read under a `not`, directly or through near."""
    return _with_near_sides(rule, set(_under_not(rule.condition)))


def is_monotone(rule: Rule) -> bool:
    """No selection is both evidence and read under `not`: more matches never make it false."""
    return not (positive_names(rule) & negated_names(rule))


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


def _costly(rule: Rule, name: str, seen: frozenset[str] = frozenset()) -> bool:
    """Does looking up `name` run more than the term index: a regex, or a pass over the text for disguised names?"""
    sel = rule.selections[name]
    if isinstance(sel, TermSelection):
        return bool(sel.regex)
    if isinstance(sel, ObfuscatedSelection):
        return True
    if isinstance(sel, NearSelection) and name not in seen:
        return any(_costly(rule, side, seen | {name}) for side in (sel.a, sel.b))
    return False


def near_order(rule: Rule) -> dict[str, tuple[str, str]]:
    """Per near selection, its two sides in lookup order: the cheap side first (no regex, no disguised names),
    so that when it has no match the costly side is never looked up."""
    order: dict[str, tuple[str, str]] = {}
    for name, sel in rule.selections.items():
        if isinstance(sel, NearSelection):
            costly_first = _costly(rule, sel.a) and not _costly(rule, sel.b)
            order[name] = (sel.b, sel.a) if costly_first else (sel.a, sel.b)
    return order


def required_clauses(rule: Rule) -> list[frozenset[str]]:
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


def needs_evaluation_without_terms(rule: Rule) -> bool:
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
    if len(unknown) > MAX_ENUMERATED_ATOMS:
        return True
    for values in itertools.product((False, True), repeat=len(unknown)):
        assignment = dict(fixed)
        assignment.update(zip(unknown, values, strict=True))
        ok, _ = rule.condition.evaluate(lambda n, a=assignment: (a.get(n, False), []))
        if ok:
            return True
    return False


__all__ = [
    "MAX_ENUMERATED_ATOMS",
    "is_monotone",
    "near_order",
    "needs_evaluation_without_terms",
    "negated_names",
    "positive_names",
    "required_clauses",
]
