"""Image step (off by default): read the text in a captured page's images, after the page's text was analysed.

Owns which images of a page are read during a scan (`crawler.ocr_choice`: pages whose text is
drug-related or suspicious, or whose site was flagged earlier in the crawl, or that are mostly images;
`<img>` in page order, at most `OCR_MAX_IMAGES_PER_PAGE`, none too small to hold a line; the full-page
screenshot of a page that is mostly images), fetching them through Scrapy's downloader (so the address
guard, the egress proxy and the body limit apply as to pages), and the crawl's OCR time budget. The
reading is `crawler.ocr.OcrReader`: one worker process per crawl, called from a thread so the reactor
never waits on it. The analysis is then run again with the text read (`ImageTextAnalysisPipeline`).
Stats: `ocr/images`, `ocr/cache_hits`, `ocr/skipped`, `ocr/skipped_small`, `ocr/pages_skipped`,
`ocr/screenshots`, `ocr/errors`, `ocr/budget_exhausted`.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.extract import extract_document, image_sources
from crawler.items import CaptureItem
from crawler.ocr import OcrError, OcrReader, data_uri_bytes
from crawler.ocr_choice import PAGE_NOT_CHOSEN, ImageChoice

#: The `image` of the block of a page's full-page screenshot (its bytes are the capture's screenshot).
SCREENSHOT = "screenshot"


class ImageTextPipeline:
    def __init__(self, crawler: Crawler, reader: OcrReader, *, max_images: int, budget: float,
                 max_bytes: int, choice: ImageChoice | None = None, screenshots: bool = True) -> None:
        self.crawler = crawler
        self.reader = reader
        self.max_images = max_images
        self.budget = budget
        self.max_bytes = max_bytes
        self.choice = choice or ImageChoice()
        self.screenshots = screenshots
        self.spent = 0.0
        self.flagged_sites: set[str] = set()  # sites a page of which was flagged in this crawl
        # One worker: images are read one at a time. The turn is taken on the event loop, so a page waiting
        # for it holds no thread of the loop's default executor (which the address guard resolves names in).
        self._turn = asyncio.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImageTextPipeline:
        settings = crawler.settings
        if not settings.getbool("OCR_ENABLED"):
            raise NotConfigured  # no message: Scrapy would log one as a warning on every scan
        cache = settings.get("OCR_CACHE_DIR") or ""
        reader = OcrReader(timeout=settings.getfloat("OCR_TIMEOUT_SECONDS"),
                           recycle_images=settings.getint("OCR_RECYCLE_IMAGES"),
                           recycle_mb=settings.getfloat("OCR_RECYCLE_MB"), cache_dir=Path(cache) if cache else None)
        choice = ImageChoice(min_bytes=settings.getint("OCR_MIN_IMAGE_BYTES"),
                             min_side=settings.getint("OCR_MIN_IMAGE_SIDE"),
                             min_pixels=settings.getint("OCR_MIN_IMAGE_PIXELS"),
                             mostly_images_text_chars=settings.getint("OCR_MOSTLY_IMAGES_TEXT_CHARS"))
        return cls(crawler, reader, max_images=settings.getint("OCR_MAX_IMAGES_PER_PAGE"),
                   budget=settings.getfloat("OCR_TIME_BUDGET_SECONDS"),
                   max_bytes=settings.getint("OCR_MAX_IMAGE_BYTES"), choice=choice,
                   screenshots=settings.getbool("OCR_READ_SCREENSHOTS"))

    def close_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        self.reader.close()

    async def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def]
        if not isinstance(item, CaptureItem) or item.html is None:
            return item
        base = item.final_url or item.url
        site = item.site
        sources = [source if source.lower().startswith("data:") else urljoin(base, source)
                   for source in image_sources(item.html)][: self.max_images]
        reason = self.choice.why_read(item.analysis, site_flagged=site in self.flagged_sites)
        if item.analysis is not None and item.analysis.flagged:
            self.flagged_sites.add(site)
        # The analysis step counted the body text; parsing a page again would hold up the reactor.
        body_chars = item.body_chars if item.body_chars is not None else \
            ImageChoice.body_chars(extract_document(item.html, base))
        little_text = self.choice.little_text(body_chars)
        if reason is None and not little_text:
            # Decided before fetching anything: an unrelated page with text of its own costs no OCR.
            if sources:
                self._count("ocr/pages_skipped")
            item.ocr_blocks = [{"image": source, "skipped": PAGE_NOT_CHOSEN} for source in sources]
            return item
        item.ocr_blocks = []
        large = 0  # images big enough to hold text: with little text, the page is "mostly images"
        for source in sources:
            data = await self._timed(item, source, self._fetch(source))
            if data is None:
                continue
            if isinstance(data, str):
                self._count("ocr/skipped")
                item.ocr_blocks.append({"image": source, "skipped": data})
                continue
            if small := self.choice.too_small(data):
                self._count("ocr/skipped_small")
                item.ocr_blocks.append({"image": source, "skipped": small})
                continue
            large += 1
            await self._timed(item, source, self._read_into(item, source, data))
        if little_text and large and self.screenshots and item.screenshot:
            self._count("ocr/screenshots")
            await self._timed(item, SCREENSHOT, self._read_into(item, SCREENSHOT, item.screenshot))
        return item

    async def _timed(self, item: CaptureItem, source: str, step: Any) -> Any:
        """Run one fetch or read within the crawl's budget (or record that the budget is spent)."""
        if self.spent >= self.budget:
            step.close()  # never awaited: the coroutine is dropped without running
            self._count("ocr/budget_exhausted")
            assert item.ocr_blocks is not None
            if not any(block.get("image") == source for block in item.ocr_blocks):
                item.ocr_blocks.append({"image": source, "skipped": "the crawl's OCR time budget is spent"})
            return None
        started = time.monotonic()
        try:
            return await step
        finally:
            self.spent += time.monotonic() - started

    async def _read_into(self, item: CaptureItem, source: str, data: bytes) -> None:
        assert item.ocr_blocks is not None
        try:
            async with self._turn:
                result = await asyncio.to_thread(self.reader.read, data)
        except OcrError as exc:
            self._count("ocr/errors")
            item.ocr_blocks.append({"image": source, "error": str(exc)})
            return
        self._count("ocr/cache_hits" if result.cached else "ocr/images")
        item.ocr_blocks.append({"image": source, **result.as_json()})
        if result.sha256 not in item.ocr_images:
            item.ocr_images[result.sha256] = data
            item.ocr_results.append(result)

    async def _fetch(self, source: str) -> bytes | str:
        """The image's bytes, or why not (refused by the guard, failed, not 200, too large)."""
        if source.lower().startswith("data:"):
            return data_uri_bytes(source, self.max_bytes)
        if not source.lower().startswith(("http://", "https://")):
            return "not an http(s) address"
        assert self.crawler.engine is not None
        try:
            response = await self.crawler.engine.download_async(Request(source, dont_filter=True))
        except Exception as exc:  # noqa: BLE001 - refused, timed out, reset: the page is read without it
            return f"fetch failed: {type(exc).__name__}: {exc}"
        if response.status != 200:
            return f"HTTP {response.status}"
        if len(response.body) > self.max_bytes:
            return f"larger than {self.max_bytes} bytes"
        return response.body

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
