"""Normalisation defeats evasions and keeps a map back to the original characters."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import TextDocument
from rules.engine import RuleSet
from rules.normalise import normalise, normalise_term


@pytest.mark.parametrize(
    ("original", "normalised"),
    [
        ("ＡＢＣ１２３％", "abc123%"),  # full-width → half-width, case folded
        ("根治糖尿病！", "根治糖尿病!"),
        ("藥品療效", "药品疗效"),  # traditional → simplified
        ("痛風腎病", "痛风肾病"),
        ("根.治.糖.尿.病", "根治糖尿病"),  # fillers between CJK characters
        ("降 糖", "降糖"),
        ("根*治", "根治"),
        ("根 · 治", "根治"),
        ("根❤治", "根治"),
        ("糖\u200b尿\u200d病\ufeff", "糖尿病"),  # zero-width characters
        ("降　糖", "降糖"),  # ideographic space
        ("①天见效", "1天见效"),
    ],
)
def test_evasions_normalise_to_the_plain_term(original: str, normalised: str) -> None:
    assert normalise(original).text == normalised


def test_fillers_are_kept_where_they_separate_words() -> None:
    # Sentence and list punctuation separate words; removing it would fuse 痛 and 风湿 into 痛风.
    assert normalise("头痛、风湿").text == "头痛、风湿"
    assert normalise("降糖。血压").text == "降糖。血压"
    # Spaces between Latin words are not touched.
    assert normalise("no  prescription").text == "no  prescription"
    # Long runs of symbols are a real gap, not an evasion.
    assert normalise("根....治").text == "根....治"


def test_every_normalised_character_maps_back_to_its_original_characters() -> None:
    original = "本品根.治ＴＡＮＧ尿病，藥到病除"
    norm = normalise(original)
    assert norm.text == "本品根治tang尿病,药到病除"
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    start = norm.text.index("根治")
    assert norm.to_original(start, start + 2) == (2, 5)
    assert original[slice(*norm.to_original(start, start + 2))] == "根.治"
    start = norm.text.index("tang")
    assert original[slice(*norm.to_original(start, start + 4))] == "ＴＡＮＧ"
    start = norm.text.index("药到病除")
    assert original[slice(*norm.to_original(start, start + 4))] == "藥到病除"


def test_a_character_that_expands_maps_every_piece_to_itself() -> None:
    norm = normalise("a㎎b")  # ㎎ → "mg"
    assert norm.text == "amgb"
    assert [norm.to_original(i, i + 1) for i in range(4)] == [(0, 1), (1, 2), (1, 2), (2, 3)]


def test_terms_are_normalised_like_text() -> None:
    assert normalise_term(" 根治糖尿病 ") == "根治糖尿病"
    assert normalise_term("無效退款") == "无效退款"
    assert normalise_term("ＦＤＡ認證") == "fda认证"


def test_sentence_ids_split_on_sentence_ends_and_line_breaks() -> None:
    norm = normalise("第一句，还是第一句。第二句！第三句\n第四句")
    first = norm.sentence_of(0)
    assert norm.sentence_of(norm.text.index("还是")) == first
    ids = [norm.sentence_of(norm.text.index(w)) for w in ("第二句", "第三句", "第四句")]
    assert len({first, *ids}) == 4


def test_hit_spans_point_at_the_original_characters(write_rule) -> None:  # type: ignore[no-untyped-def]
    path: Path = write_rule(
        """
        claim:
          terms: [根治糖尿病, 药到病除]
        condition: claim
        """
    )
    from rules import load_ruleset

    ruleset: RuleSet = load_ruleset([path])
    text = "好消息：根 . 治 糖\u200b尿 病，藥到病除"
    (hit,) = ruleset.analyse(TextDocument(text)).findings
    assert [text[a:b] for a, b in hit.spans] == ["根 . 治 糖\u200b尿 病", "藥到病除"]
    assert "根 . 治" in hit.excerpt


def _reference(text: str) -> tuple[str, list[int], list[int]]:
    """The slow, obviously correct normalisation: character by character, then t2s, then fillers."""
    from rules.normalise import _FILLER_RUN_RE, _map_char, _to_simplified, t2s

    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        mapped = _map_char(ch)
        out.append(mapped)
        starts += [i] * len(mapped)
        ends += [i + 1] * len(mapped)
    folded = "".join(out)
    # OpenCC runs only on text holding a character that is traditional on its own: a simplified
    # page is left alone even where a phrase rule would touch it (瞭解 → 了解 needs a traditional page).
    if any(t2s(c) != c for c in folded):
        folded = _to_simplified(folded)
    keep = [True] * len(folded)
    for m in _FILLER_RUN_RE.finditer(folded):
        for j in range(m.start(1), m.end(1)):
            keep[j] = False
    final = "".join(c for c, k in zip(folded, keep, strict=True) if k)
    kept_starts = [s for s, k in zip(starts, keep, strict=True) if k]
    return (final, kept_starts, [e for e, k in zip(ends, keep, strict=True) if k])


@given(
    st.text(
        alphabet=st.one_of(
            st.characters(),
            st.sampled_from(list("根治糖尿病藥療痛風無效ＡＢａ１２ABC ，。！\u200b\ufeff\u3000㎎①ﬁİß.*·🔥\n\r\t")),
        ),
        max_size=200,
    )
)
@settings(max_examples=400)
def test_the_fast_paths_equal_the_character_by_character_reference(text: str) -> None:
    norm = normalise(text)
    expected_text, expected_starts, expected_ends = _reference(text)
    assert norm.text == expected_text
    assert list(norm.starts) == expected_starts
    assert list(norm.ends) == expected_ends


@pytest.mark.slow
def test_every_basic_plane_character_normalises_like_the_reference() -> None:
    # Character by character: catches a table built from the wrong mapping.
    from rules.normalise import _map_char

    mismatched = []
    for cp in range(0x20, 0x10000):
        ch = chr(cp)
        if 0xD800 <= cp < 0xE000:
            continue
        expected = _reference(ch)[0]
        if normalise(ch).text != expected:
            mismatched.append((hex(cp), _map_char(ch), normalise(ch).text, expected))
    assert mismatched == []


def test_chinese_quotation_marks_are_kept_ascii_quotes_are_fillers() -> None:
    assert normalise("宣称“根治糖尿病”的广告").text == "宣称“根治糖尿病”的广告"
    assert normalise('根"治').text == "根治"


def test_rewrite_maps_a_replacement_to_the_whole_original_spelling() -> None:
    from rules.normalise import rewrite

    original = "根治 Ｔａｎｇ尿病 永不复发"
    norm = normalise(original)
    start = norm.text.index("tang尿病")
    rewritten = rewrite(norm, [(start, start + len("tang尿病"), "糖尿病")])
    assert rewritten.text == norm.text.replace("tang尿病", "糖尿病")
    i = rewritten.text.index("糖尿病")
    assert original[slice(*rewritten.to_original(i, i + 3))] == "Ｔａｎｇ尿病"
    j = rewritten.text.index("永不复发")
    assert original[slice(*rewritten.to_original(j, j + 4))] == "永不复发"
    assert len(rewritten.starts) == len(rewritten.text)


def test_corner_brackets_are_folded_to_chinese_quotation_marks() -> None:
    # Traditional-Chinese pages quote with 「」: a quoted claim must read the same as with “”.
    norm = normalise("宣稱可「再生胰島」、『根治』")
    assert norm.text == "宣称可“再生胰岛”、‘根治’"
    assert len(norm.text) == len("宣稱可「再生胰島」、『根治』")


def test_han_variants_opencc_leaves_alone_are_folded() -> None:
    # A traditional case report writes 療傚 for 疗效; OpenCC t2s keeps 傚, so it is folded here.
    norm = normalise("具有天然滋補等療傚")
    assert norm.text == "具有天然滋补等疗效"
    assert len(norm.text) == len("具有天然滋補等療傚")


def test_a_claim_quoted_with_corner_brackets_in_a_report_is_not_flagged() -> None:
    from rules import load_ruleset

    ruleset = load_ruleset()
    report = "街頭巷尾散發的廣告傳單中宣稱，其產品可「再生胰島」、「治癒糖尿病」，都是騙人的。"
    assert not ruleset.analyse(TextDocument.from_parts([("body", report)])).flagged


@given(st.text(alphabet=st.sampled_from(list("根治。!?;\n. x")), max_size=40))
@settings(max_examples=200, deadline=None)
def test_sentence_bounds_are_the_positions_of_one_sentence(text: str) -> None:
    norm = normalise(text)
    for sentence in {norm.sentence_of(pos) for pos in range(len(norm.text))}:
        lo, hi = norm.sentence_bounds(sentence)
        assert [p for p in range(len(norm.text)) if norm.sentence_of(p) == sentence] == list(range(lo, hi))
