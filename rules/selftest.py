"""Runs the examples embedded in rule files (`tests.match` / `tests.no_match`).

Owns `run_embedded_tests()`, the library side of `pharmwatch rules test`: every match sample must
make its rule fire and every no_match sample must not. All failures are returned at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rules.document import Section, TextDocument
from rules.engine import RuleSet
from rules.model import Rule, RuleSample


@dataclass(frozen=True)
class TestFailure:
    """One embedded example that did not behave as its rule file says."""

    __test__ = False  # not a pytest test class, despite the name

    rule_id: str
    path: Path
    kind: str  # "match" or "no_match"
    sample: str
    reason: str


def _document(rule: Rule, sample: RuleSample) -> TextDocument:
    scope = sample.scope or ("body" if "body" in rule.scope else sorted(rule.scope)[0])
    return TextDocument(sample.text, [Section(scope, 0, len(sample.text))])


def run_embedded_tests(ruleset: RuleSet) -> list[TestFailure]:
    """Check every rule's embedded samples against the whole rule set; return every failure."""
    failures: list[TestFailure] = []
    for rule in ruleset.rules:
        for kind, samples in (("match", rule.tests_match), ("no_match", rule.tests_no_match)):
            for sample in samples:
                analysis = ruleset.analyse(_document(rule, sample), dict(sample.signals) or None)
                fired = any(hit.rule_id == rule.id for hit in analysis.findings)
                if kind == "match" and not fired:
                    failures.append(
                        TestFailure(rule.id, rule.path, kind, sample.text, "expected the rule to match, but it did not")
                    )
                elif kind == "no_match" and fired:
                    failures.append(
                        TestFailure(rule.id, rule.path, kind, sample.text, "expected no match, but the rule matched")
                    )
    return failures
