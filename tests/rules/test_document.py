"""TextDocument and Section: how page parts become one text with scoped sections."""

from __future__ import annotations

import pytest

from rules import Section, TextDocument


def test_from_parts_joins_with_newlines_and_records_sections() -> None:
    doc = TextDocument.from_parts([("title", "降糖神药"), ("body", "根治糖尿病"), ("alt", "产品图")])
    assert doc.text == "降糖神药\n根治糖尿病\n产品图"
    assert doc.sections == [Section("title", 0, 4), Section("body", 5, 10), Section("alt", 11, 14)]
    for section, expected in zip(doc.sections, ["降糖神药", "根治糖尿病", "产品图"], strict=True):
        assert doc.text[section.start : section.end] == expected


def test_from_parts_skips_empty_parts() -> None:
    doc = TextDocument.from_parts([("title", ""), ("body", "正文"), ("meta", "")])
    assert doc.text == "正文"
    assert doc.sections == [Section("body", 0, 2)]


def test_no_sections_means_everything_is_body() -> None:
    doc = TextDocument("任何文字")
    assert doc.scope_at(0, 4) == "body"


def test_scope_at_requires_one_section_to_hold_the_whole_span() -> None:
    doc = TextDocument.from_parts([("title", "标题"), ("body", "正文")])
    assert doc.scope_at(0, 2) == "title"
    assert doc.scope_at(3, 5) == "body"
    assert doc.scope_at(1, 4) is None


def test_unknown_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        Section("footer", 0, 1)
