"""Image step (off by default): read the text in a captured page's images, for the analysis step.

Owns which images of a page are read during a scan (its `<img>` in page order, at most
`OCR_MAX_IMAGES_PER_PAGE`), fetching them through Scrapy's downloader (so the address guard, the
egress proxy and the body limit apply as to pages), and the crawl's OCR time budget. The reading is
`crawler.ocr.OcrReader`: one worker process per crawl, called from a thread so the reactor never
waits on it. Stats: `ocr/images`, `ocr/cache_hits`, `ocr/skipped`, `ocr/errors`, `ocr/budget_exhausted`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.extract import image_sources
from crawler.items import CaptureItem
from crawler.ocr import OcrError, OcrReader, OcrResult, data_uri_bytes


class ImageTextPipeline:
    def __init__(self, crawler: Crawler, reader: OcrReader, *, max_images: int, budget: float,
                 max_bytes: int) -> None:
        self.crawler = crawler
        self.reader = reader
        self.max_images = max_images
        self.budget = budget
        self.max_bytes = max_bytes
        self.spent = 0.0
        self._lock = threading.Lock()  # one worker: images are read one at a time

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImageTextPipeline:
        settings = crawler.settings
        if not settings.getbool("OCR_ENABLED"):
            raise NotConfigured  # no message: Scrapy would log one as a warning on every scan
        cache = settings.get("OCR_CACHE_DIR") or ""
        reader = OcrReader(timeout=settings.getfloat("OCR_TIMEOUT_SECONDS"),
                           recycle_images=settings.getint("OCR_RECYCLE_IMAGES"),
                           recycle_mb=settings.getfloat("OCR_RECYCLE_MB"), cache_dir=Path(cache) if cache else None)
        return cls(crawler, reader, max_images=settings.getint("OCR_MAX_IMAGES_PER_PAGE"),
                   budget=settings.getfloat("OCR_TIME_BUDGET_SECONDS"),
                   max_bytes=settings.getint("OCR_MAX_IMAGE_BYTES"))

    def close_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        self.reader.close()

    async def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def]
        if not isinstance(item, CaptureItem) or item.html is None:
            return item
        base = item.final_url or item.url
        sources = [source if source.lower().startswith("data:") else urljoin(base, source)
                   for source in image_sources(item.html)][: self.max_images]
        item.ocr_blocks = []
        for source in sources:
            if self.spent >= self.budget:
                self._count("ocr/budget_exhausted")
                item.ocr_blocks.append({"image": source, "skipped": "the crawl's OCR time budget is spent"})
                continue
            started = time.monotonic()
            try:
                data = await self._image(source)
                if isinstance(data, str):
                    self._count("ocr/skipped")
                    item.ocr_blocks.append({"image": source, "skipped": data})
                    continue
                result = await asyncio.to_thread(self._read, data)
            except OcrError as exc:
                self._count("ocr/errors")
                item.ocr_blocks.append({"image": source, "error": str(exc)})
                continue
            finally:
                self.spent += time.monotonic() - started
            self._count("ocr/cache_hits" if result.cached else "ocr/images")
            item.ocr_blocks.append({"image": source, **result.as_json()})
            if result.sha256 not in item.ocr_images:
                item.ocr_images[result.sha256] = data
                item.ocr_results.append(result)
        return item

    def _read(self, data: bytes) -> OcrResult:
        with self._lock:
            return self.reader.read(data)

    async def _image(self, source: str) -> bytes | str:
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
