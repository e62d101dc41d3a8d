"""Renders parsed result pages (`serp parse`) as a table, CSV or JSON.

JSON is the documented `serp parse --json` contract (README): one array, one object per file
(`file` plus `SerpPage.to_json()`, or `file` and `error`). CSV has one row per result (a file
with no results, or that failed, one row).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from crawler.serp.models import SerpPage
from outputs import SafeCsvWriter, terminal_line

FORMATS = ("table", "csv", "json")
PAGE_COLUMNS = ["file", "engine", "query", "page", "blocked", "block_reason", "no_results", "parse_error", "error"]
RESULT_COLUMNS = ["rank", "is_ad", "ad_label", "advertiser", "title", "url", "displayed_url", "snippet"]


def parsed_file(path: Path, page: SerpPage) -> dict[str, Any]:
    return {"file": str(path), **page.to_json()}


def failed_file(path: Path, error: str) -> dict[str, Any]:
    return {"file": str(path), "error": error}


def page_state(item: dict[str, Any]) -> str:
    """What a parsed page is, in one phrase: an empty parse never reads as "0 results"."""
    if item["blocked"]:
        return f"BLOCKED ({terminal_line(item.get('block_reason') or 'no reason given')})"
    if item.get("parse_error"):
        return f"PARSE ERROR: {terminal_line(item['parse_error'])}"
    if item.get("no_results"):
        return "no results (the engine says so)"
    return f"{len(item['results'])} results"


def render_serp_pages(output: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = SafeCsvWriter(out)
        writer.writerow([*PAGE_COLUMNS, *RESULT_COLUMNS])
        for item in output:
            head = [item.get(column, "") for column in PAGE_COLUMNS]
            for result in item.get("results") or [None]:
                cells = [result[c] for c in RESULT_COLUMNS] if result else [""] * len(RESULT_COLUMNS)
                writer.writerow([*head, *cells])
    elif fmt == "table":
        for item in output:
            if "error" in item:
                out.write(f"{terminal_line(item['file'])}: ERROR {terminal_line(item['error'])}\n")
                continue
            out.write(f"{terminal_line(item['file'])}: {item['engine']} {terminal_line(repr(item['query']))}: "
                      f"{page_state(item)}\n")
            for r in item["results"]:
                ad = f" [{r['ad_label']}: {r['advertiser'] or '?'}]" if r["is_ad"] else ""
                out.write(terminal_line(f"  {r['rank']:>2}{ad} {r['title']} -> {r['url']}") + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
