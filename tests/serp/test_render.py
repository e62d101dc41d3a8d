"""`serp parse` output: a page read as nothing never shows as "0 results"; result titles stay text."""

from __future__ import annotations

import io

from crawler.serp.render import render_serp_pages

PAGE = {"file": "a.html", "engine": "baidu", "query": None, "page": 1, "blocked": False, "block_reason": None,
        "no_results": False, "parse_error": "0 results found with selectors of baidu", "results": []}


def table(item: dict) -> str:  # type: ignore[type-arg]
    out = io.StringIO()
    render_serp_pages([item], "table", out)
    return out.getvalue()


def test_an_empty_parse_is_shown_as_a_parse_error() -> None:
    text = table(PAGE)
    assert "PARSE ERROR" in text and "0 results" not in text.replace("0 results found", "")


def test_blocked_and_no_results_pages_say_what_they_are() -> None:
    assert "BLOCKED (captcha)" in table({**PAGE, "parse_error": None, "blocked": True, "block_reason": "captcha"})
    assert "no results" in table({**PAGE, "parse_error": None, "no_results": True})


def test_result_titles_carry_no_escape_sequences() -> None:
    result = {"rank": 1, "is_ad": True, "ad_label": "广告", "advertiser": "x\x1b[31m", "title": "降糖\x1b]0;t\x07",
              "url": "http://a.test/", "displayed_url": "", "snippet": ""}
    text = table({**PAGE, "parse_error": None, "results": [result]})
    assert "\x1b" not in text and "降糖" in text
