"""`pharmwatch worker`: runs the searches and crawls the sites that distributed scans queued
(pharmwatch/work_queue.py), one job at a time.

A search job runs its queries (one engine, one query by default) into its scan run, a site job crawls its
sites (one by default), both with `crawler.run.crawl_part` (a child process per crawl, as every crawl)
under this machine's settings (proxy, Chromium, blob folder, engines' delays) and, for sites, the job's
page budget. The worker tells the queue it is alive every `[scan] worker_heartbeat_seconds`; a worker
silent for `stalled_worker_seconds` is taken for dead and its job given to another one. Workers put
such jobs back too, so recovery does not depend on the waiting scan's process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

from crawler.run import CrawlTargets, crawl_part
from pharmwatch.config import Settings
from pharmwatch.work_queue import CRAWL_SITE_TASK, QUEUE, SEARCH_TASK, queue_app, recover_stalled
from storage.db import make_engine, session_factory
from storage.models import ScanRun

log = logging.getLogger("pharmwatch.worker")


class CrawlJobFailed(Exception):
    """A job's crawl (its sites or its searches) died or could not start (the reason); the queue retries
    it, then gives up."""


def _run_is_open(settings: Settings, rules_digest: str, run_id: int, what: str) -> bool:
    """Whether the job's run still runs (a job of a finished or abandoned run does nothing); raises when
    the run applies other rule packs than this worker's."""
    engine = make_engine(settings.db_url)
    try:
        with session_factory(engine)() as session:
            run = session.get(ScanRun, run_id)
            status, digest = (run.status, run.rules_digest) if run else ("missing", "")
    finally:
        engine.dispose()
    if status != "running":
        log.warning("scan %s is %s: %s not done", run_id, status, what)
        return False
    if digest != rules_digest:
        # One run, one set of rules: findings of other packs would not be what the run says it applied.
        raise CrawlJobFailed(f"scan {run_id} runs rule packs {digest[:12]}, this worker has "
                              f"{rules_digest[:12]}: give every machine the same packs")
    return True


def searcher(settings: Settings, rules_digest: str, *, verbose: bool = False) -> Callable[..., None]:
    """A search job's body: its queries on its engine (one crawl of the search spider) into a running scan
    run. The result pages the run already stored are not asked again (a job run twice stores once); the
    sites found are not crawled here: the scan queues them once every search is done."""
    def search(run_id: int, engine: str, queries: list[list]) -> None:  # type: ignore[type-arg]
        names = ", ".join(f"{engine}: {query}" for query, _ in queries)
        if not _run_is_open(settings, rules_digest, run_id, names):
            return
        plan = [(engine, query, int(pages)) for query, pages in queries]
        log.info("scan %s: searching %s", run_id, names)
        error = crawl_part(CrawlTargets(search_plan=plan, follow_search_results=False),
                           settings.crawl_overrides(verbose=verbose), run_id=run_id)
        if error:
            raise CrawlJobFailed(f"{names}: {error}")
        log.info("scan %s: %s searched", run_id, names)

    return search


def site_crawler(settings: Settings, rules_digest: str, *, verbose: bool = False) -> Callable[..., None]:
    """A site job's body: crawl its sites (one crawl) into a running scan run (a job of a finished or
    abandoned run does nothing)."""
    def crawl_sites(run_id: int, sites: list[list], max_pages: int) -> None:  # type: ignore[type-arg]
        names = ", ".join(site for site, _ in sites)
        if not _run_is_open(settings, rules_digest, run_id, names):
            return
        overrides = {**settings.crawl_overrides(verbose=verbose), "CAPTURE_MAX_PAGES_PER_SITE": max_pages}
        urls = [url for _, site_urls in sites for url in site_urls]
        log.info("scan %s: crawling %s (%d entry page(s), budget %d per site)", run_id, names, len(urls), max_pages)
        error = crawl_part(CrawlTargets(urls=urls, follow_search_results=False), overrides, run_id=run_id)
        if error:
            raise CrawlJobFailed(f"{names}: {error}")
        log.info("scan %s: %s done", run_id, names)

    return crawl_sites


def run_worker(settings: Settings, rules_digest: str, *, name: str | None = None, verbose: bool = False) -> None:
    """Take search and site jobs until stopped (SIGINT/SIGTERM: the job in hand is finished first)."""
    app = queue_app(settings.db_url)
    # The engine's lock is given when a search job is queued (work_queue.queue_searches), not here.
    app.task(name=SEARCH_TASK, queue=QUEUE, retry=2, pass_context=False)(
        searcher(settings, rules_digest, verbose=verbose))
    app.task(name=CRAWL_SITE_TASK, queue=QUEUE, retry=2, pass_context=False)(
        site_crawler(settings, rules_digest, verbose=verbose))
    heartbeat, stalled_after = settings.scan.worker_heartbeat_seconds, settings.scan.stalled_worker_seconds

    async def recover_forever() -> None:
        while True:
            for job_id in await recover_stalled(app, stalled_after=stalled_after):
                log.warning("job %s: its worker stopped answering; queued again", job_id)
            await asyncio.sleep(heartbeat)

    async def main() -> None:
        async with app.open_async():
            recovering = asyncio.create_task(recover_forever())
            try:
                await app.run_worker_async(
                    queues=[QUEUE], name=name or f"{socket.gethostname()}:{os.getpid()}", concurrency=1,
                    update_heartbeat_interval=heartbeat, stalled_worker_timeout=stalled_after,
                    fetch_job_polling_interval=min(5.0, heartbeat), delete_jobs="never")
            finally:
                recovering.cancel()

    asyncio.run(main())
