"""Renders parsed result pages (`serp parse`) as a table, CSV or JSON.

JSON is the documented `serp parse --json` contract (README): one array, one object per file
(`file` plus `SerpPage.to_json()`, or `file` and `error`). CSV has one row per result (a file
with no results, or that failed, one row).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, TextIO

from crawler.serp.models import SerpPage

FORMATS = ("table", "csv", "json")
PAGE_COLUMNS = ["file", "engine", "query", "page", "blocked", "block_reason", "no_results", "parse_error", "error"]
RESULT_COLUMNS = ["rank", "is_ad", "ad_label", "advertiser", "title", "url", "displayed_url", "snippet"]


def parsed_file(path: Path, page: SerpPage) -> dict[str, Any]:
    return {"file": str(path), **page.to_json()}


def failed_file(path: Path, error: str) -> dict[str, Any]:
    return {"file": str(path), "error": error}


def render_serp_pages(output: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow([*PAGE_COLUMNS, *RESULT_COLUMNS])
        for item in output:
            head = [item.get(column, "") for column in PAGE_COLUMNS]
            for result in item.get("results") or [None]:
                cells = [result[c] for c in RESULT_COLUMNS] if result else [""] * len(RESULT_COLUMNS)
                writer.writerow([*head, *cells])
    elif fmt == "table":
        for item in output:
            if "error" in item:
                out.write(f"{item['file']}: ERROR {item['error']}\n")
                continue
            state = "BLOCKED" if item["blocked"] else f"{len(item['results'])} results"
            out.write(f"{item['file']}: {item['engine']} {item['query']!r}: {state}\n")
            for r in item["results"]:
                ad = f" [{r['ad_label']}: {r['advertiser'] or '?'}]" if r["is_ad"] else ""
                out.write(f"  {r['rank']:>2}{ad} {r['title']} -> {r['url']}\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
