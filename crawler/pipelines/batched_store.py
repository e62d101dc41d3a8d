"""The store step on a thread of its own: `StorePipeline` writing several pages per transaction, so
downloads and analysis go on while pages are stored.

ONE writer thread, so the audit log's "captured" events stay one chain in the order they are written. An
item waits in a queue; the writer takes every item waiting (up to STORE_BATCH_PAGES) and stores them in
one transaction (`StorePipeline.store`); each item leaves the pipeline (and is counted as scraped) only
once its transaction committed. A page's capture, findings and audit event still commit together or not
at all: a killed crawl loses at most the batch it was writing, which a resumed scan fetches again (it
stores only what its run does not hold). A batch that fails is stored again page by page, so one bad page
fails alone, as with one transaction per page.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from pathlib import Path

from scrapy.crawler import Crawler

from crawler.items import CaptureItem, SerpPageItem
from crawler.pipelines.store import StorePipeline

Waiting = tuple[object, "Future[None]"]


class BatchedStorePipeline(StorePipeline):
    def __init__(self, database_url: str, blob_dir: Path, scan_run_id: int, user_agent: str = "",
                 proxy: str = "", batch_pages: int = 50) -> None:
        super().__init__(database_url, blob_dir, scan_run_id, user_agent, proxy)
        self.batch_pages = max(1, batch_pages)
        self.waiting: queue.SimpleQueue[Waiting | None] = queue.SimpleQueue()
        self.writer: threading.Thread | None = None
        self.transactions = 0  # committed by the writer

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BatchedStorePipeline:
        store = super().from_crawler(crawler)
        store.batch_pages = max(1, crawler.settings.getint("STORE_BATCH_PAGES"))
        return store  # type: ignore[return-value]

    def open_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        self.writer = threading.Thread(target=self._write, name="pharmwatch-store", daemon=True)
        self.writer.start()

    def close_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        # Scrapy closes the pipelines once no item is in flight: the queue holds nothing but the stop.
        if self.writer is not None:
            self.waiting.put(None)
            self.writer.join()
            self.writer = None
        super().close_spider(spider)

    async def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def,override]
        if not isinstance(item, CaptureItem | SerpPageItem):
            return item
        if self.writer is None:  # not opened by a crawl (a caller storing items itself)
            return super().process_item(item, spider)
        stored: Future[None] = Future()
        self.waiting.put((item, stored))
        await asyncio.wrap_future(stored)
        return item

    def _write(self) -> None:
        """The writer thread: a batch of whatever waits, stored in one transaction, until the stop."""
        stopping = False
        while not stopping:
            first = self.waiting.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.batch_pages:
                try:
                    more = self.waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._store_batch(batch)

    def _store_batch(self, batch: list[Waiting]) -> None:
        try:
            self.store([item for item, _ in batch])
        except Exception as error:  # rolled back whole: each page again alone, so only a bad one fails
            if len(batch) == 1:
                batch[0][1].set_exception(error)
            else:
                for waiting in batch:
                    self._store_batch([waiting])
            return
        self.transactions += 1
        for _, stored in batch:
            stored.set_result(None)
