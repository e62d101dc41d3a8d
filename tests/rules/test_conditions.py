"""Rule logic: and/or/not, N of, near (distance, sentence), exceptions, signals, counts, scope."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from rules import Section, TextDocument, load_ruleset
from rules.condition import ConditionError, parse_condition


def fires(
    write_rule,
    detection: str,
    text: str | TextDocument,
    *,
    exceptions: str = "",  # type: ignore[no-untyped-def]
    signals: Mapping[str, object] | None = None,
    claim_scope: str = "",
) -> bool:
    path = write_rule(detection, exceptions=exceptions, claim_scope=claim_scope)
    ruleset = load_ruleset([path])
    doc = text if isinstance(text, TextDocument) else TextDocument(text)
    return bool(ruleset.analyse(doc, signals).findings)


AND_OR_NOT = """
cure:
  terms: [根治]
disease:
  terms: [糖尿病]
warning:
  terms: [虚假广告]
condition: (cure and disease) and not warning
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("根治糖尿病", True),
        ("根治", False),
        ("糖尿病", False),
        ("根治糖尿病是虚假广告", False),
    ],
)
def test_and_or_not(write_rule, text: str, expected: bool) -> None:  # type: ignore[no-untyped-def]
    assert fires(write_rule, AND_OR_NOT, text) is expected


def test_or_collects_evidence_from_every_true_branch(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule("a:\n  terms: [根治]\nb:\n  terms: [永不复发]\ncondition: a or b")
    (hit,) = load_ruleset([path]).analyse(TextDocument("根治，永不复发")).findings
    assert hit.spans == [(0, 2), (3, 7)]


@pytest.mark.parametrize(("text", "expected"), [("告别胰岛素，无需终生服药", True), ("告别胰岛素", False)])
def test_n_of_prefix(write_rule, text: str, expected: bool) -> None:  # type: ignore[no-untyped-def]
    detection = """
    sig_a:
      terms: [告别胰岛素]
    sig_b:
      terms: [无需终生服药]
    sig_c:
      terms: [治愈率]
    condition: 2 of sig_*
    """
    assert fires(write_rule, detection, text) is expected


NEAR = """
cure:
  terms: [根治]
disease:
  terms: [糖尿病]
claim:
  near: {a: cure, b: disease, within: 5}
condition: claim
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("根治糖尿病", True),
        ("糖尿病可以根治", True),  # order does not matter
        ("根治一二三四五糖尿病", True),  # 5 characters apart
        ("根治一二三四五六糖尿病", False),  # 6 characters apart
    ],
)
def test_near_within(write_rule, text: str, expected: bool) -> None:  # type: ignore[no-untyped-def]
    assert fires(write_rule, NEAR, text) is expected


def test_near_same_sentence(write_rule) -> None:  # type: ignore[no-untyped-def]
    detection = NEAR.replace("within: 5", "same_sentence: true")
    assert fires(write_rule, detection, "本方能够根治，对于多年的糖尿病也有效")
    assert not fires(write_rule, detection, "本方能够根治。糖尿病患者请咨询医生")
    assert not fires(write_rule, detection, "本方能够根治\n糖尿病患者请咨询医生")


def test_near_with_distance_and_sentence_needs_both(write_rule) -> None:  # type: ignore[no-untyped-def]
    detection = NEAR.replace("within: 5", "within: 5, same_sentence: true")
    assert fires(write_rule, detection, "根治，糖尿病")
    assert not fires(write_rule, detection, "根治。糖尿病")


EXCEPTION_DETECTION = """
claim:
  terms: [根治糖尿病]
condition: claim
"""


def test_exception_suppresses_only_the_claim_near_it(write_rule) -> None:  # type: ignore[no-untyped-def]
    exceptions = """
    warning:
      terms: [切勿轻信]
      within: 10
    """
    assert not fires(write_rule, EXCEPTION_DETECTION, "切勿轻信根治糖尿病的广告", exceptions=exceptions)
    # A warning elsewhere on the page does not excuse a real claim.
    text = "切勿轻信根治糖尿病的广告。" + "我们的产品经过多年研发，疗效确切。" + "本品根治糖尿病"
    assert fires(write_rule, EXCEPTION_DETECTION, text, exceptions=exceptions)


def test_exception_side_before_and_after(write_rule) -> None:  # type: ignore[no-untyped-def]
    before = """
    reported:
      terms: [宣称]
      same_sentence: true
      side: before
    """
    assert not fires(write_rule, EXCEPTION_DETECTION, "某网站宣称根治糖尿病", exceptions=before)
    assert fires(write_rule, EXCEPTION_DETECTION, "根治糖尿病，绝非宣称", exceptions=before)
    after = """
    debunk:
      terms: [骗局]
      same_sentence: true
      side: after
    """
    assert not fires(write_rule, EXCEPTION_DETECTION, "根治糖尿病是骗局", exceptions=after)
    assert fires(write_rule, EXCEPTION_DETECTION, "别管那些骗局，本品根治糖尿病", exceptions=after)


def test_exception_within_zero_means_overlapping_or_touching(write_rule) -> None:  # type: ignore[no-untyped-def]
    exceptions = """
    negation:
      regex: ['无法根治']
      within: 0
    """
    detection = "cure:\n  terms: [根治]\ncondition: cure"
    assert not fires(write_rule, detection, "糖尿病无法根治", exceptions=exceptions)
    assert fires(write_rule, detection, "都说无法根治，本品能根治", exceptions=exceptions)


def test_page_level_signal_exception(write_rule) -> None:  # type: ignore[no-untyped-def]
    exceptions = """
    editorial:
      signals: {warning_context: true}
    """
    assert fires(write_rule, EXCEPTION_DETECTION, "根治糖尿病", exceptions=exceptions)
    assert not fires(
        write_rule, EXCEPTION_DETECTION, "根治糖尿病", exceptions=exceptions, signals={"warning_context": True}
    )


def test_exceptions_do_not_rescue_negated_selections(write_rule) -> None:  # type: ignore[no-untyped-def]
    # An exception removes claim evidence; it must never remove the evidence a `not` relies on.
    detection = """
    offer:
      terms: [立即购买]
    warning:
      terms: [处方药须凭处方]
    condition: offer and not warning
    """
    exceptions = """
    near_warning:
      terms: [处方药须凭处方]
      within: 50
    """
    assert not fires(write_rule, detection, "处方药须凭处方购买 立即购买", exceptions=exceptions)


SIGNALS = """
seller:
  signals: {sells_drugs: true, shows_licence: false}
offer:
  terms: [立即购买]
condition: seller and offer
"""


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ({"sells_drugs": True, "shows_licence": False}, True),
        ({"sells_drugs": True, "shows_licence": True}, False),
        ({"sells_drugs": False, "shows_licence": False}, False),
    ],
)
def test_signal_conditions_use_given_signals_over_computed_ones(  # type: ignore[no-untyped-def]
    write_rule, signals: dict[str, object], expected: bool
) -> None:
    assert fires(write_rule, SIGNALS, "立即购买", signals=signals) is expected


def test_signal_lists_and_missing_signals(write_rule) -> None:  # type: ignore[no-untyped-def]
    detection = """
    lang:
      signals: {language: [zh, en]}
    hosting:
      signals: {overseas_hosting: true}
    offer:
      terms: [立即购买]
    condition: offer and lang and not hosting
    """
    assert fires(write_rule, detection, "立即购买")
    assert not fires(write_rule, detection, "立即购买", signals={"overseas_hosting": True})
    # A signal nobody computed (no hosting check ran) is simply false: the rule does not crash.
    assert fires(write_rule, detection, "立即购买", signals={"overseas_hosting": None})


def test_min_distinct_counts_different_terms(write_rule) -> None:  # type: ignore[no-untyped-def]
    detection = """
    rogue:
      terms: [no prescription, bitcoin, discreet shipping]
      min_distinct: 2
    condition: rogue
    """
    assert fires(write_rule, detection, "No prescription. Pay with Bitcoin.")
    assert not fires(write_rule, detection, "No prescription! no prescription! NO PRESCRIPTION!")


def test_ascii_terms_respect_word_boundaries(write_rule) -> None:  # type: ignore[no-untyped-def]
    detection = "cure:\n  terms: [cure, cures*]\ncondition: cure"
    assert fires(write_rule, detection, "It will cure you")
    assert fires(write_rule, detection, "It curesall")  # `cures*` is a prefix term
    assert not fires(write_rule, detection, "A secure site")
    assert not fires(write_rule, detection, "Cured.")
    digits = "days:\n  terms: [7天]\ncondition: days"
    assert fires(write_rule, digits, "7天见效")
    assert not fires(write_rule, digits, "17天见效")


def test_pinyin_variants_are_matched_when_asked_for(write_rule) -> None:  # type: ignore[no-untyped-def]
    detection = "disease:\n  terms: [糖尿病, 降糖]\n  pinyin: true\ncondition: disease"
    for text in ("tang尿病", "糖niao病", "TANG尿病", "降tang", "tangniaobing"):
        assert fires(write_rule, detection, text), text
    assert not fires(write_rule, detection, "tangerine")
    plain = "disease:\n  terms: [糖尿病]\ncondition: disease"
    assert not fires(write_rule, plain, "tang尿病")


def test_hits_only_count_in_the_rule_scopes(write_rule) -> None:  # type: ignore[no-untyped-def]
    # The test rule's scope is [body, title].
    doc = TextDocument.from_parts([("url", "genzhi-tangniaobing"), ("alt", "根治糖尿病"), ("body", "正文")])
    assert not fires(write_rule, EXCEPTION_DETECTION, doc)
    doc = TextDocument.from_parts([("title", "根治糖尿病"), ("body", "正文")])
    assert fires(write_rule, EXCEPTION_DETECTION, doc)
    doc = TextDocument("xx根治糖尿病", [Section("ocr", 0, 8)])
    assert not fires(write_rule, EXCEPTION_DETECTION, doc)


def test_a_match_across_two_sections_does_not_count(write_rule) -> None:  # type: ignore[no-untyped-def]
    doc = TextDocument("根治糖尿病", [Section("title", 0, 2), Section("body", 2, 5)])
    assert not fires(write_rule, EXCEPTION_DETECTION, doc)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("a and", "ends too early"),
        ("a b", "unexpected 'b'"),
        ("(a or b", "expected ')'"),
        ("a & b", "unexpected character"),
        ("c", "undefined selection 'c'"),
        ("3 of x*", "matches no selection"),
        ("3 of them", "can never be true"),
        ("x*", "only allowed after 'N of'"),
    ],
)
def test_condition_syntax_errors(condition: str, message: str) -> None:
    with pytest.raises(ConditionError, match=re.escape(message)):
        parse_condition(condition, ["a", "b"])


def test_condition_precedence_not_binds_tighter_than_and_than_or() -> None:
    node = parse_condition("a or b and not c", ["a", "b", "c"])
    values = {"a": False, "b": True, "c": True}
    ok, _ = node.evaluate(lambda name: (values[name], []))
    assert ok is False  # a or (b and (not c))
    values["a"] = True
    ok, _ = node.evaluate(lambda name: (values[name], []))
    assert ok is True


def test_applies_to_limits_an_exception_to_the_named_selections(write_rule) -> None:  # type: ignore[no-untyped-def]
    detection = """
    cure:
      terms: [根治]
    disease:
      terms: [早泄]
    claim:
      near: {a: cure, b: disease, within: 40}
    condition: claim
    """
    question = """
    question:
      regex: ['吗']
      within: 8
      side: after
    """
    text = "早泄怎么治疗吗？男科专家：三个月根治"
    # (The claim scope, which would also see the question, is switched off to test the exception alone.)
    # Unlimited, the question also erases the disease word of the heading and the claim is lost ...
    assert fires(write_rule, detection, text, exceptions=question, claim_scope="off") is False
    # ... limited to the claim word, the heading still supplies the disease.
    limited = question + "  applies_to: [cure]\n"
    assert fires(write_rule, detection, text, exceptions=limited, claim_scope="off") is True
    assert fires(write_rule, detection, "早泄能根治吗", exceptions=limited, claim_scope="off") is False
