"""Progress on the terminal: one line per result page and per captured page, as the scan runs."""

from __future__ import annotations

import sys
from typing import TextIO

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.items import CaptureItem, SerpPageItem


class ProgressLog:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressLog:
        extension = cls(sys.stderr)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        return extension

    def item_scraped(self, item: object, response=None, spider=None) -> None:  # type: ignore[no-untyped-def]
        self.count += 1
        if isinstance(item, SerpPageItem):
            ads = sum(1 for r in item.results if r.is_ad)
            detail = f"{len(item.results) - ads} results + {ads} ads" if item.status == "ok" else (
                f"{item.status}: {item.reason or ''}".strip())
            line = f"[search {item.engine}] {item.query} p{item.page}: {detail}"
        elif isinstance(item, CaptureItem):
            if item.error:
                detail = f"FAILED {item.error}"
            else:
                found = len(item.analysis.findings) if item.analysis else 0
                detail = f"{item.status_code} risk={item.analysis.risk if item.analysis else 'none'}"
                detail += f" findings={found}" + (" [chromium]" if item.rendered else "")
            line = f"[page] {item.url} {detail}"
        else:
            return
        print(f"{self.count:5d} {line}", file=self.stream, flush=True)
