"""RuleSet.analyse: what a finding carries, how risk is summarised, and what it costs."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

import rules.evaluate
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
    # About 40 characters either side of the span, from the original text; ellipses where it was cut.
    assert hit.excerpt.strip("…") == text[start - 40 : start + 5 + 40]
    assert hit.excerpt.startswith("…") == (start > 40) and hit.excerpt.endswith("…") == (start + 45 < len(text))


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
    original = rules.evaluate.evaluate_rule

    def counting(compiled_rule, state):  # type: ignore[no-untyped-def]
        evaluated.append(ruleset.compiled.rules.index(compiled_rule))
        return original(compiled_rule, state)

    monkeypatch.setattr(rules.evaluate, "evaluate_rule", counting)
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


def test_required_clauses_follow_the_condition(write_rule) -> None:  # type: ignore[no-untyped-def]
    from rules import load_ruleset
    from rules.static_analysis import required_clauses as _required_clauses

    path = write_rule(
        """
        cure:
          terms: [根治]
        disease:
          terms: [糖尿病]
        time_boxed:
          regex: ['三天降糖']
        warning:
          terms: [虚假]
        claim:
          near: {a: cure, b: disease, within: 20}
        condition: (claim or (time_boxed and disease)) and not warning
        """
    )
    (rule,) = load_ruleset([path]).rules
    # claim needs cure and disease; the other branch needs disease (time_boxed has a regex): the or
    # keeps one relaxed clause; `not warning` adds nothing.
    assert _required_clauses(rule) == [frozenset({"cure", "disease"})]


def test_regex_hints_name_the_literals_every_match_needs() -> None:
    import re

    from rules.regex_literals import regex_hint as _regex_hint

    hint = _regex_hint(re.compile("(能不能|可不可以)[^,。]{0,15}\\?"))
    assert hint is not None and hint.literals == {"能不能", "可不可以"} and hint.max_width == 4 + 15 + 1
    # A branch keeps each alternative's whole "one of" set: a match may hold 疼痛, 痛 or 麻木. The
    # most selective set of the pattern wins (here the second group's two-character words).
    branch = _regex_hint(re.compile("(疼痛|(酸)?痛|麻木)(消失|不见)"))
    assert branch is not None and branch.literals == {"消失", "不见"}
    first = _regex_hint(re.compile("(疼痛|(酸)?痛|麻木)好了"))
    assert first is not None and first.literals == {"好了"}
    assert _regex_hint(re.compile("[0-9]+元?")) is None  # no literal every match needs
    # Unbounded repeats count as 64 characters; beyond 400 the whole text is searched.
    assert _regex_hint(re.compile("根治(.*)")).max_width == 2 + 64  # type: ignore[union-attr]
    assert _regex_hint(re.compile("根治(.*)(.*)(.*)(.*)(.*)(.*)(.*)")).max_width is None  # type: ignore[union-attr]


def _reference_suppresses(span, spans, within, same_sentence, side, norm) -> bool:  # type: ignore[no-untyped-def]
    """The definition: some exception match within `within` (if set), same sentence (if asked), on `side`."""
    for ex in spans:
        if within is not None and max(0, ex[0] - span[1], span[0] - ex[1]) > within:
            continue
        if (same_sentence or within is None) and norm.sentence_of(ex[0]) != norm.sentence_of(span[0]):
            continue
        if side == "before" and not ex[0] < span[0]:
            continue
        if side == "after" and not ex[1] > span[1]:
            continue
        return True
    return False


_SPAN = st.tuples(st.integers(0, 58), st.integers(1, 6)).map(lambda t: (t[0], min(60, t[0] + t[1])))


@given(
    st.lists(_SPAN, min_size=1, max_size=6),
    st.lists(_SPAN, min_size=1, max_size=10),
    st.one_of(st.none(), st.integers(0, 12)),
    st.booleans(),
    st.sampled_from(["any", "before", "after"]),
    st.lists(st.integers(0, 59), max_size=4),
)
@settings(max_examples=500, deadline=None)  # the first example imports the engine: no timing here
def test_exception_zones_equal_the_pairwise_definition(  # type: ignore[no-untyped-def]
    exceptions, claims, within, same_sentence, side, breaks
) -> None:
    from rules.evaluate import ExceptionIndex as _ExceptionIndex
    from rules.model import ExceptionSelection, TermSelection
    from rules.normalise import normalise

    chars = ["字"] * 60
    for b in breaks:
        chars[b] = "。"
    norm = normalise("".join(chars))
    exc = ExceptionSelection(TermSelection("x", ("x",)), within, same_sentence, side)
    index = _ExceptionIndex(exceptions, exc, norm)
    expected = [_reference_suppresses(claim, exceptions, within, same_sentence, side, norm) for claim in claims]
    for claim, excused in zip(claims, expected, strict=True):
        assert index.suppresses(claim, norm) is excused, (claim, exceptions, within, same_sentence, side)
    assert index.suppresses_all(claims, norm) == expected
