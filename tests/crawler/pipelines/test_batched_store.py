"""BatchedStorePipeline: pages wait for one writer thread, which stores every page waiting in one
transaction; what it stores is what the one-transaction-per-page store writes (rows, blobs, audit
events in one chain); a crawl killed while a batch is being written loses that batch whole, and the
resumed crawl stores every page exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import Request
from sqlalchemy import func, select
from warcio.archiveiterator import ArchiveIterator

from crawler.items import CaptureItem
from crawler.pipelines.analyse import PageAnalysisPipeline
from crawler.pipelines.batched_store import BatchedStorePipeline
from crawler.pipelines.store import StorePipeline
from crawler.run import CrawlTargets, crawl
from crawler.spiders.site import SiteSpider
from demo.server import load_manifest
from pharmwatch.config import Settings
from rules import RuleSet
from storage.audit import verify_chain
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory, transaction, upgrade
from storage.models import AuditEvent, Capture, Finding
from storage.scans import start_scan_run
from tests.conftest import ROOT
from tests.crawler.in_process import fetch, project_crawler, with_spider
from tests.crawler.pipelines.conftest import Store
from tests.databases import database_url

SITES = [site.domain for site in load_manifest()][:8]


@contextmanager
def writers_held(url: str) -> Iterator[None]:
    """Another writer holds the database (the web UI, a second tool): our writes wait until it lets go."""
    connection = make_engine(url).raw_connection()
    cursor = connection.cursor()
    if url.startswith("sqlite"):
        cursor.execute("BEGIN EXCLUSIVE")
    else:
        cursor.execute("LOCK TABLE audit_event IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


def analysed_pages(ruleset: RuleSet, store: Store, demo_web: str) -> list[CaptureItem]:
    crawler = project_crawler(SiteSpider, **store.settings())
    with_spider(crawler, ruleset=ruleset)
    analyse = PageAnalysisPipeline.from_crawler(crawler)
    analyse.open_spider()
    spider = with_spider(project_crawler(SiteSpider))
    items = []
    for domain in SITES:
        url = f"http://{domain}/"
        response = fetch(demo_web, url, Request(url, meta={"site": domain, "site_depth": 0, "rendered": False}))
        items.append(analyse.process_item(next(iter(spider.parse_page(response)))))
    analyse.close_spider()
    return items


def stored(store: Store) -> dict[str, Any]:
    """Everything the store step wrote, without the row ids' and times' accidents; WARC files by their
    records (a record's id is a fresh UUID each time it is written)."""
    blobs = BlobStore(store.blob_dir)
    with store.session() as session:
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
        warcs = {}
        for capture in captures:
            with blobs.path(capture.warc_sha256, ".warc.gz").open("rb") as warc:
                warcs[capture.url] = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                                       r.content_stream().read()) for r in ArchiveIterator(warc)]
        return {
            "captures": [(c.url, c.rendered, c.status_code, c.title, c.risk, c.body_sha256, c.text_sha256, c.signals)
                         for c in captures],
            "findings": sorted((f.capture.url, f.rule_id, f.severity, str(f.spans), f.excerpt)
                               for f in session.scalars(select(Finding))),
            "events": [(e.actor, e.action, e.subject, {k: v for k, v in e.details.items() if k != "warc_sha256"})
                       for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))],
            "chain": verify_chain(session),
            "warc": warcs,
        }


def test_pages_waiting_are_stored_in_one_transaction_exactly_as_page_by_page(
        ruleset: RuleSet, store: Store, demo_web: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    items = analysed_pages(ruleset, store, demo_web)
    # The same pages, one transaction each, into a second database: what the store step always wrote.
    home = tmp_path_factory.mktemp("page-by-page")
    alone = Store(url=database_url(home), blob_dir=home / "blobs", scan_run_id=0)
    upgrade(alone.url)
    with transaction(session_factory(make_engine(alone.url))) as session:
        alone.scan_run_id = start_scan_run(session, ruleset.digest).id
    assert alone.scan_run_id == store.scan_run_id
    one_by_one = StorePipeline.from_crawler(project_crawler(**alone.settings()))
    for item in items:
        one_by_one.process_item(item)
    one_by_one.close_spider()

    batched = BatchedStorePipeline.from_crawler(project_crawler(**store.settings()))
    batched.open_spider()

    async def store_all() -> list[object]:
        with writers_held(store.url):  # the writer's first batch waits, so every other page queues behind it
            waiting = [asyncio.ensure_future(batched.process_item(item)) for item in items]
            await asyncio.sleep(0.5)
            assert not any(task.done() for task in waiting), "no page leaves before its batch committed"
        return await asyncio.gather(*waiting)

    assert asyncio.run(store_all()) == items
    batched.close_spider()
    assert batched.transactions <= 2 and batched.stored == len(items)  # not one per page
    assert stored(store) == stored(alone)
    assert stored(store)["chain"] == [] and len(stored(store)["events"]) == len(items)


def test_a_page_the_database_refuses_fails_alone_and_its_batch_is_stored(
        ruleset: RuleSet, store: Store, demo_web: str) -> None:
    items = analysed_pages(ruleset, store, demo_web)[:4]
    items[1].url = None  # type: ignore[assignment]  # the database refuses a capture without its URL
    batched = BatchedStorePipeline.from_crawler(project_crawler(**store.settings()))
    batched.open_spider()

    async def store_all() -> list[object]:
        with writers_held(store.url):
            waiting = [asyncio.ensure_future(batched.process_item(item)) for item in items]
            await asyncio.sleep(0.5)
        return await asyncio.gather(*waiting, return_exceptions=True)

    outcome = asyncio.run(store_all())
    batched.close_spider()
    assert [isinstance(result, Exception) for result in outcome] == [False, True, False, False]
    with store.session() as session:
        assert sorted(session.scalars(select(Capture.url))) == sorted(item.url for item in items if item.url)
        assert verify_chain(session) == []


CRAWL_IN_CHILD = r'''
import json, sys
from crawler.run import CrawlTargets, crawl
urls, overrides, run_id = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
crawl(CrawlTargets(urls=urls), overrides, run_id=run_id)
'''


@pytest.mark.slow
@pytest.mark.e2e
def test_a_crawl_killed_while_a_batch_is_written_loses_the_batch_whole_and_resume_stores_each_page_once(
        demo_web: str, tmp_path: Path, ruleset: RuleSet) -> None:
    settings = Settings(home=tmp_path)
    settings.crawl.proxy = demo_web
    settings.crawl.allow_private = ["127.0.0.0/8"]
    settings.crawl.render_first_page = False
    upgrade(settings.db_url)
    # Chromium off altogether; small batches, so that pages are still to come after the first commit however
    # fast the crawl runs (with batches of 50 the whole demo web can land in the first one), one page at a time
    # with a pause, so that the writers are held before the crawl can end
    overrides = {**settings.crawl_overrides(), "CAPTURE_JS_TEXT_THRESHOLD": 0, "STORE_BATCH_PAGES": 3,
                 "CONCURRENT_REQUESTS": 1, "DOWNLOAD_DELAY": 0.2}
    urls = [f"http://{domain}/" for domain in SITES]
    sessions = session_factory(make_engine(settings.db_url))
    with transaction(sessions) as session:
        run_id = start_scan_run(session, ruleset.digest).id

    def captures(run: int) -> int:
        with sessions() as session:
            return session.scalar(select(func.count()).select_from(Capture).where(Capture.scan_run_id == run)) or 0

    child = subprocess.Popen([sys.executable, "-c", CRAWL_IN_CHILD, json.dumps(urls), json.dumps(overrides),
                              str(run_id)], cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while captures(run_id) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        with writers_held(settings.db_url):
            time.sleep(3)  # the crawl goes on; its writer waits inside a batch's transaction
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        at_kill = captures(run_id)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert at_kill > 0
    with sessions() as session:  # nothing half-written: each capture has its "captured" event, one chain
        assert verify_chain(session) == []
        subjects = set(session.scalars(select(AuditEvent.subject).where(AuditEvent.action == "captured")))
        assert {f"capture:{i}" for i in session.scalars(select(Capture.id))} == subjects

    resumed = crawl(CrawlTargets(urls=urls), overrides, run_id=run_id)
    control = crawl(CrawlTargets(urls=urls), overrides)  # the same crawl, never killed
    assert (resumed.status, control.status) == ("finished", "finished")
    with sessions() as session:
        def pages(run: int) -> list[tuple[str, bool]]:
            return sorted(tuple(row) for row in session.execute(
                select(Capture.url, Capture.rendered).where(Capture.scan_run_id == run)))
        assert pages(run_id) == pages(control.id), "every page once: the lost batch was fetched again"
        assert at_kill < len(pages(run_id))
        assert verify_chain(session) == []
