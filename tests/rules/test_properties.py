"""Property tests: normalisation and analysis never raise, and every span stays in bounds."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import TextDocument
from rules.engine import RuleSet
from rules.normalise import normalise

# Mix the alphabets evaders and real pages use: CJK, full-width forms, zero-width and format
# characters, fillers, emoji, surrogates and controls, plus the rule vocabulary itself.
ALPHABET = st.one_of(
    st.characters(),
    st.sampled_from(list("根治糖尿病告别胰岛素藥療痛風無效退款¥%！？。，、 .*·\u200b\ufeff\u3000ＡＢ１２\n\r\t㎎①")),
)
TEXT = st.text(alphabet=ALPHABET, max_size=300)
VOCAB = st.lists(
    st.sampled_from(
        [
            "根治",
            "糖尿病",
            "无需处方",
            "西地那非",
            "¥68",
            "加微信",
            "下单",
            "切勿轻信",
            "纯中药",
            "半小时起效",
            "no prescription",
            "bitcoin",
            "（浙）-经营性-2023-0012",
            " ",
            "。",
            "tang尿病",
        ]
    ),
    max_size=30,
).map("".join)


@given(TEXT)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_normalise_never_raises_and_maps_every_character(text: str) -> None:
    norm = normalise(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for start, end in zip(norm.starts, norm.ends, strict=True):
        assert 0 <= start < end <= len(text)
    assert list(norm.starts) == sorted(norm.starts)


@given(st.one_of(TEXT, VOCAB, st.tuples(TEXT, VOCAB, TEXT).map("".join)))
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
def test_analyse_never_raises_and_spans_are_in_bounds(bundled: RuleSet, text: str) -> None:
    analysis = bundled.analyse(TextDocument(text))
    assert analysis.risk in ("none", "low", "medium", "high", "critical")
    for hit in analysis.findings:
        for start, end in hit.spans:
            assert 0 <= start < end <= len(text)


@given(st.lists(st.tuples(st.sampled_from(["title", "meta", "body", "alt", "url", "ad", "ocr"]), VOCAB), max_size=5))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_analyse_with_sections_never_raises(bundled: RuleSet, parts: list[tuple[str, str]]) -> None:
    doc = TextDocument.from_parts(parts)
    for hit in bundled.analyse(doc).findings:
        for start, end in hit.spans:
            assert doc.scope_at(start, end) is not None


@given(st.one_of(VOCAB, st.tuples(TEXT, VOCAB, TEXT).map("".join)))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_candidate_prefilter_never_changes_a_result(bundled: RuleSet, text: str) -> None:
    # The engine skips rules whose condition needs a term selection without a hit; evaluating every
    # candidate must give the same findings.
    saved = bundled.compiled
    bundled.compiled = replace(saved, rules=tuple(replace(rule, required_uids=()) for rule in saved.rules))
    try:
        unfiltered = [(h.rule_id, h.spans) for h in bundled.analyse(TextDocument(text)).findings]
    finally:
        bundled.compiled = saved
    assert [(h.rule_id, h.spans) for h in bundled.analyse(TextDocument(text)).findings] == unfiltered


CLAIM_TEXT = st.lists(
    st.sampled_from(["三个月", "血糖", "降到了6", "，", "。", "吃了这个", "能根治吗", "“根治”等", "不能代替", "服用",
                     "两周", "血压就正常了", "无效", "全额退款", "痛风", "尿酸降了", "根治糖尿病", "骗局", " ", "药"]),
    max_size=40,
).map("".join)


@given(st.one_of(CLAIM_TEXT, st.tuples(TEXT, CLAIM_TEXT, TEXT).map("".join)))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_regexes_searched_around_their_literals_find_what_a_full_search_finds(bundled: RuleSet, text: str) -> None:
    saved = bundled.compiled
    bundled.compiled = replace(saved, regex_windows={})
    try:
        full = [(h.rule_id, h.spans) for h in bundled.analyse(TextDocument(text)).findings]
    finally:
        bundled.compiled = saved
    assert [(h.rule_id, h.spans) for h in bundled.analyse(TextDocument(text)).findings] == full
