"""A finding's excerpt shows every span it rests on, never cuts a word, and says where text was left out."""

from __future__ import annotations

from rules import TextDocument, load_ruleset
from rules.excerpts import MAX_WINDOWS, excerpt_around

FILLER = "本店所有商品均为正品，欢迎选购，详情请咨询在线客服人员。" * 6


def test_every_span_is_visible_with_ellipses_between_far_apart_spans() -> None:
    text = f"西地那非片 100mg{FILLER}无需处方，当天发货"
    first, second = (0, 5), (text.index("无需处方"), text.index("无需处方") + 4)
    excerpt = excerpt_around(text, [first, second])
    assert "西地那非片" in excerpt and "无需处方" in excerpt
    assert " … " in excerpt  # the filler between them is left out, and says so
    assert len(excerpt) < len(text)


def test_close_spans_share_one_window_and_cut_ends_are_marked() -> None:
    text = f"{FILLER}根治糖尿病，告别胰岛素{FILLER}"
    start = text.index("根治")
    excerpt = excerpt_around(text, [(start, start + 5), (start + 6, start + 11)])
    assert "根治糖尿病，告别胰岛素" in excerpt and " … " not in excerpt
    assert excerpt.startswith("…") and excerpt.endswith("…")


def test_latin_words_and_numbers_are_never_cut() -> None:
    text = ("Our licensed pharmacists answer questions about dosage every day " * 2
            + "buy viagra without prescription " + "overnight shipping worldwide with discreet packaging " * 2)
    start = text.index("without prescription")
    excerpt = excerpt_around(text, [(start, start + 20)])
    words = set(text.split())
    inner = excerpt.strip("…").split()
    assert all(word in words for word in inner), inner


def test_a_page_repeating_a_claim_gets_a_bounded_excerpt() -> None:
    text = ("根治糖尿病" + "。" * 200) * 100
    spans = [(i, i + 5) for i in range(0, len(text), 205)]
    excerpt = excerpt_around(text, spans)
    assert excerpt.count("根治糖尿病") == MAX_WINDOWS and excerpt.endswith(f"(+{100 - MAX_WINDOWS})")


def test_a_findings_excerpt_holds_the_decisive_phrase_of_a_real_shop_listing() -> None:
    # As on a pill shop: the product line first, the no-prescription promise a paragraph later.
    text = ("西地那非片 100mg*10片 原装进口 规格：每盒10片，铝塑包装，密封保存，避光阴凉处，儿童勿近，"
            "开封后请尽快服用。无需处方，隐私包装")
    analysis = load_ruleset().analyse(TextDocument(text))
    hits = [hit for hit in analysis.findings if hit.rule_id == "pw-zh-rx-no-prescription-001"]
    assert hits, [hit.rule_id for hit in analysis.findings]
    for hit in hits:
        assert len(hit.spans) > 1
        for start, end in hit.spans:
            assert " ".join(text[start:end].split()) in hit.excerpt
