"""RuleSet.analyse: what a finding carries, how risk is summarised, and what it costs."""

from __future__ import annotations

import hashlib

from rules import Analysis, RuleHit, TextDocument, load_ruleset
from rules.engine import RuleSet


def test_a_finding_carries_rule_identity_legal_basis_and_evidence(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule("claim:\n  terms: [根治糖尿病]\ncondition: claim")
    ruleset = load_ruleset([path])
    text = "前言" * 30 + "本品根治糖尿病，" + "后记" * 30
    analysis = ruleset.analyse(TextDocument(text))
    assert isinstance(analysis, Analysis)
    (hit,) = analysis.findings
    assert isinstance(hit, RuleHit)
    assert hit.rule_id == "pw-zh-test-rule-001"
    assert hit.rule_version == 1
    assert hit.rule_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (hit.title_zh, hit.title_en) == ("测试规则", "Test rule")
    assert (hit.category, hit.severity) == ("disease_cure_claim", "high")
    assert hit.diseases == ["diabetes"]
    assert hit.legal_basis == ["广告法 第十六条"]
    start = text.index("根治糖尿病")
    assert hit.spans == [(start, start + 5)]
    # About 40 characters either side of the first span, from the original text.
    assert hit.excerpt == text[start - 40 : start + 5 + 40]


def test_excerpt_collapses_whitespace(write_rule) -> None:  # type: ignore[no-untyped-def]
    ruleset = load_ruleset([write_rule("claim:\n  terms: [根治糖尿病]\ncondition: claim")])
    (hit,) = ruleset.analyse(TextDocument("第一行\n\n   根治糖尿病\t\t结束")).findings
    assert hit.excerpt == "第一行 根治糖尿病 结束"


def test_risk_is_the_highest_severity_and_medium_or_above_flags(write_rule) -> None:  # type: ignore[no-untyped-def]
    low = write_rule(
        "claim:\n  terms: [秘方]\ncondition: claim",
        name="a_low.yaml",
        rule_id="pw-zh-test-low-001",
        severity="low",
        match="[秘方, 祖传秘方]",
    )
    critical = write_rule(
        "claim:\n  terms: [西地那非]\ncondition: claim",
        name="b_crit.yaml",
        rule_id="pw-zh-test-crit-001",
        severity="critical",
        match="[西地那非, 含西地那非]",
    )
    ruleset = load_ruleset([low, critical])
    assert ruleset.analyse(TextDocument("天气晴")).risk == "none"
    only_low = ruleset.analyse(TextDocument("祖传秘方"))
    assert (only_low.risk, only_low.flagged) == ("low", False)
    both = ruleset.analyse(TextDocument("祖传秘方，含西地那非"))
    assert (both.risk, both.flagged) == ("critical", True)
    assert [h.severity for h in both.findings] == ["critical", "low"]


def test_given_signals_are_overlaid_on_computed_ones(bundled: RuleSet) -> None:
    doc = TextDocument("阿莫西林胶囊 ¥12 立即购买")
    computed = bundled.analyse(doc).signals
    assert computed["sells_drugs"] is True and computed["shows_licence"] is False
    overlaid = bundled.analyse(doc, {"shows_licence": True, "licence_valid": True}).signals
    assert overlaid["shows_licence"] is True
    assert overlaid["licence_valid"] is True
    assert overlaid["sells_drugs"] is True


def test_only_rules_with_a_term_hit_are_evaluated(write_rule, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Cost must follow the text, not the number of rules: rules whose terms do not occur in the
    # text are never evaluated.
    paths = [
        write_rule(
            f"claim:\n  terms: [词语{i}号]\ncondition: claim",
            name=f"r_{i:03d}.yaml",
            rule_id=f"pw-zh-test-many-{i:03d}",
            match=f"[词语{i}号, 有词语{i}号]",
        )
        for i in range(200)
    ]
    ruleset = load_ruleset(paths)
    evaluated: list[int] = []
    original = RuleSet._evaluate

    def counting(self, index, state):  # type: ignore[no-untyped-def]
        evaluated.append(index)
        return original(self, index, state)

    monkeypatch.setattr(RuleSet, "_evaluate", counting)
    analysis = ruleset.analyse(TextDocument("这里只有词语7号和词语42号" * 50))
    assert sorted({h.rule_id for h in analysis.findings}) == ["pw-zh-test-many-007", "pw-zh-test-many-042"]
    assert sorted(set(evaluated)) == [7, 42]


def test_one_automaton_holds_every_term_of_every_rule(bundled: RuleSet) -> None:
    term_count = sum(
        len(sel.terms)
        for rule in bundled.rules
        for sel in [*rule.selections.values(), *(e.selection for e in rule.exceptions.values())]
        if hasattr(sel, "terms")
    )
    # Duplicates share a key, pinyin variants add keys: the automaton is of that order.
    assert bundled.term_key_count > term_count / 4
