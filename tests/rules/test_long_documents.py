"""A very long page is read whole in windows (filler hides nothing), within a time budget it reports."""

from __future__ import annotations

from rules import TextDocument, load_ruleset
from rules.engine import MAX_ANALYSED_CHARS

CLAIM = "降糖神丸，根治糖尿病，永不复发。"
FILLER = "本店经营各类日用商品，欢迎选购。\n"


def test_a_claim_at_the_start_of_a_long_page_is_found_and_the_page_read_to_its_end() -> None:
    text = CLAIM + "\n" + FILLER * (MAX_ANALYSED_CHARS // len(FILLER) + 10)
    analysis = load_ruleset().analyse(TextDocument.from_parts([("title", "店铺"), ("body", text)]))
    assert analysis.flagged
    assert analysis.signals["analysed_windows"] == 2 and "text_cut_at" not in analysis.signals


def test_filler_before_a_claim_does_not_hide_it() -> None:
    # A 5 MB page with the claim at its very end (issue #13: it used to pass as clean).
    text = FILLER * (5 * MAX_ANALYSED_CHARS // len(FILLER)) + CLAIM
    analysis = load_ruleset().analyse(TextDocument.from_parts([("title", "店铺"), ("body", text)]))
    assert analysis.flagged and "text_cut_at" not in analysis.signals
    (hit,) = [h for h in analysis.findings if h.category == "disease_cure_claim"][:1]
    start, end = hit.spans[0]
    full = "店铺\n" + text
    assert start > 4 * MAX_ANALYSED_CHARS and full[start:end] in CLAIM  # offsets into the whole text


def test_a_claim_across_a_window_boundary_is_seen_whole() -> None:
    head = FILLER * (MAX_ANALYSED_CHARS // len(FILLER))
    text = head[: MAX_ANALYSED_CHARS - 5] + CLAIM + FILLER * 100
    assert load_ruleset().analyse(TextDocument(text)).flagged


def test_the_time_budget_stops_the_reading_and_says_where() -> None:
    text = FILLER * (3 * MAX_ANALYSED_CHARS // len(FILLER)) + CLAIM
    analysis = load_ruleset().analyse(TextDocument(text), time_budget=0)
    assert not analysis.flagged
    assert 0 < analysis.signals["text_cut_at"] < len(text)
    assert "time budget" in analysis.signals["analysis_stopped"]


def test_a_normal_page_is_analysed_whole() -> None:
    analysis = load_ruleset().analyse(TextDocument(FILLER * 100 + CLAIM))
    assert analysis.flagged
    assert "text_cut_at" not in analysis.signals


def test_head_keeps_offsets_and_clips_sections() -> None:
    doc = TextDocument.from_parts([("title", "标题"), ("body", "正文" * 10), ("alt", "图片")])
    head = doc.head(8)
    assert head.text == doc.text[:8]
    assert [(s.scope, s.start, s.end) for s in head.sections] == [("title", 0, 2), ("body", 3, 8)]


def test_a_window_has_its_own_offsets_and_clipped_sections() -> None:
    doc = TextDocument.from_parts([("title", "标题"), ("body", "正文" * 10), ("alt", "图片")])
    window = doc.window(5, 25)
    assert window.text == doc.text[5:25]
    assert [(s.scope, s.start, s.end) for s in window.sections] == [("body", 0, 18), ("alt", 19, 20)]
