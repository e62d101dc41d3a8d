"""Analysis off the reactor's thread: `PageAnalysisPipeline` with each page analysed in a pool of worker
processes (ANALYSE_WORKERS), so downloads go on while pages are analysed, on every CPU.

The workers are forked from the crawl process once the rule packs are loaded, so each holds the same
RuleSet (its compiled matchers cannot be pickled) and opens its own database session for the reference
lookups; a page goes to a worker as its HTML and comes back as a `PageAnalysis` (text, title, analysis).
The result is the same `PageAnalyser` call as on the reactor's thread: what is stored does not change.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler

from crawler.child_process import die_with_parent
from crawler.items import CaptureItem, SerpPageItem
from crawler.pipelines.analyse import PageAnalyser, PageAnalysis, PageAnalysisPipeline, open_analyser
from rules import RuleSet
from rules.model import Analysis
from storage.db import make_engine

logger = logging.getLogger(__name__)

#: The worker process's analyser (set by `_start_worker`, in the worker only).
_worker: PageAnalyser | None = None


def _start_worker(ruleset: RuleSet, database_url: str) -> None:
    """In a freshly forked worker: die with the crawl, leave Ctrl-C to the crawl (which stops the pool), and
    open a session of its own (the crawl's connections are never used across the fork)."""
    global _worker
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The analyser's registry and blacklist hold its session, which lives as long as the worker (the pool
    # ends it with the crawl).
    _worker, _session = open_analyser(ruleset, make_engine(database_url) if database_url else None)


def _analyse_page(html: str, url: str, server_ip: str | None, ocr_results: list[Any]) -> PageAnalysis:
    assert _worker is not None, "the pool's initializer makes the analyser"
    return _worker.page(html, url, server_ip, ocr_results)


def _analyse_ads(results: list[Any]) -> dict[int, Analysis]:
    assert _worker is not None, "the pool's initializer makes the analyser"
    return _worker.ads(results)


def _ready() -> bool:
    return _worker is not None


class PooledPageAnalysisPipeline(PageAnalysisPipeline):
    """Each page analysed by a worker process; with ANALYSE_WORKERS = 0 (or no `fork` on this system), on
    the reactor's thread as `PageAnalysisPipeline` does."""

    def __init__(self, crawler: Crawler, paths: list[Path], database_url: str, workers: int) -> None:
        super().__init__(crawler, paths, database_url)
        self.workers = workers if "fork" in multiprocessing.get_all_start_methods() else 0
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PooledPageAnalysisPipeline:
        settings = crawler.settings
        return cls(crawler, [Path(p) for p in settings.getlist("RULES_PATHS")],
                   settings.get("STORE_DATABASE_URL", ""), settings.getint("ANALYSE_WORKERS"))

    def open_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        self.ruleset = self._load_ruleset()
        if self.workers > 0:
            # Forked before this process opens a connection: a child never shares the crawl's sockets or
            # SQLite handles. With `fork` the initializer's arguments are inherited, not pickled.
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_start_worker, initargs=(self.ruleset, self.database_url))
            self.pool.submit(_ready).result()  # with fork, every worker starts at the first task: now
        self.analyser = self._open_analyser()

    def close_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        super().close_spider(spider)

    async def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def,override]
        if self.pool is None:
            return super().process_item(item, spider)
        try:
            if isinstance(item, CaptureItem) and item.html is not None:
                analysed: PageAnalysis = await asyncio.wrap_future(self.pool.submit(
                    _analyse_page, item.html, item.final_url or item.url, item.server_ip, item.ocr_results))
                analysed.apply_to(item)
            elif isinstance(item, SerpPageItem):
                item.ad_analyses = await asyncio.wrap_future(self.pool.submit(_analyse_ads, item.results))
            return item
        except BrokenProcessPool:
            # A worker died (the OOM killer, a crash in a C extension): the rest of the crawl is analysed here.
            logger.warning("an analysis worker died: pages are analysed in the crawl process from now on")
            pool, self.pool = self.pool, None
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            return super().process_item(item, spider)
