"""A very long page is analysed up to MAX_ANALYSED_CHARS, and says so; memory stays bounded."""

from __future__ import annotations

from rules import TextDocument, load_ruleset
from rules.engine import MAX_ANALYSED_CHARS

CLAIM = "降糖神丸，根治糖尿病，永不复发。"
FILLER = "本店经营各类日用商品，欢迎选购。\n"


def test_a_claim_within_the_analysed_head_is_found_and_the_cut_is_reported() -> None:
    text = CLAIM + "\n" + FILLER * (MAX_ANALYSED_CHARS // len(FILLER) + 10)
    analysis = load_ruleset().analyse(TextDocument.from_parts([("title", "店铺"), ("body", text)]))
    assert analysis.flagged
    assert analysis.signals["text_cut_at"] == MAX_ANALYSED_CHARS


def test_a_claim_beyond_the_cut_is_not_analysed() -> None:
    text = FILLER * (MAX_ANALYSED_CHARS // len(FILLER) + 10) + CLAIM
    analysis = load_ruleset().analyse(TextDocument(text))
    assert not analysis.flagged
    assert analysis.signals["text_cut_at"] == MAX_ANALYSED_CHARS


def test_a_normal_page_is_analysed_whole() -> None:
    analysis = load_ruleset().analyse(TextDocument(FILLER * 100 + CLAIM))
    assert analysis.flagged
    assert "text_cut_at" not in analysis.signals


def test_head_keeps_offsets_and_clips_sections() -> None:
    doc = TextDocument.from_parts([("title", "标题"), ("body", "正文" * 10), ("alt", "图片")])
    head = doc.head(8)
    assert head.text == doc.text[:8]
    assert [(s.scope, s.start, s.end) for s in head.sections] == [("title", 0, 2), ("body", 3, 8)]
