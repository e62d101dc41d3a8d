"""The crawl entry point: `crawl(targets, settings) -> ScanRun`, for a full scan, a re-check and "check now";
`crawl_part` for one site of a distributed scan (a `pharmwatch worker`: the run stays open).

Runs the `search` spider (when there is a search plan), then the `site` spider over the target
URLs plus every site the search found. A Twisted reactor runs once per process, so each crawl
runs in a child process of its own (spawned, so the caller may hold threads: a scheduler, a web
server) and `crawl` can be called any number of times from one long-lived process. The child
dies with its parent. Rows are written as the crawl goes, so a crawl that dies is resumed by
calling `crawl` again with its `run_id`.

`settings` are overrides of the defaults in `crawler/settings.py` (plain values, Scrapy names);
`scrapy_settings` derives the rest (Chromium's launch options, per-engine download slots).
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import Settings as ScrapySettings
from sqlalchemy import select

from crawler import settings as defaults
from crawler.child_process import die_with_parent
from crawler.serp import load_engines
from rules import RuleSet, load_ruleset
from rules.model import FLAGGING_SEVERITIES
from storage.db import make_engine, session_factory, transaction
from storage.models import ScanRun, SerpObservation
from storage.scans import done_search_pages, finish_scan_run, start_scan_run

SearchPlan = list[tuple[str, str, int]]  # (engine, query, result pages)


@dataclass
class CrawlTargets:
    """What one crawl visits: pages and sites (in priority order) and searches."""

    urls: list[str] = field(default_factory=list)  # tips, watchlist, re-checked URLs; each a site's entry page
    search_plan: SearchPlan = field(default_factory=list)
    follow_search_results: bool = True  # also crawl the sites this crawl's searches found


def crawl(targets: CrawlTargets, settings: Mapping[str, Any], *, run_id: int | None = None,
          ruleset: RuleSet | None = None, kind: str = "scan") -> ScanRun:
    """Crawl `targets` into scan run `run_id` (None: a new run) and return the finished run.

    `settings` must name STORE_DATABASE_URL and STORE_BLOB_DIR. A resumed run does not ask again
    for the search pages it already stored. `ruleset`: the packs the caller loaded (for the run's
    digest; the child loads RULES_PATHS itself); otherwise they are loaded here, so a broken pack
    raises `RulePackError` before anything starts. A crawl that fails or dies still returns its
    run, marked failed with the reason; whatever it stored stays. `kind` (storage.scans.RUN_KINDS) says
    what started a new run: only a "scan" is resumed by the next `pharmwatch scan`.
    """
    overrides = _store_overrides(settings)
    if ruleset is None:
        ruleset = load_ruleset([Path(p) for p in overrides.get("RULES_PATHS", [])] or None,
                               cache_dir=rules_cache_dir(overrides.get("RULES_CACHE_DIR")))
    engine = make_engine(overrides["STORE_DATABASE_URL"])
    sessions = session_factory(engine)
    try:
        with transaction(sessions) as session:
            run = start_scan_run(session, ruleset.digest, kind) if run_id is None else session.get_one(ScanRun, run_id)
            run_id = run.id
            done = done_search_pages(session, run_id)
        overrides.update(STORE_SCAN_RUN_ID=run_id, SERP_DONE_PAGES=[list(page) for page in done])
        error = _run_child(targets, overrides)
        with transaction(sessions) as session:
            run = finish_scan_run(session, run_id, error, flagging_severities=FLAGGING_SEVERITIES)
            session.flush()
            session.expunge(run)
        return run
    finally:
        engine.dispose()


def crawl_part(targets: CrawlTargets, settings: Mapping[str, Any], *, run_id: int) -> str | None:
    """Crawl `targets` into the running scan run `run_id` without starting or finishing it; the reason
    the crawl failed, or None.

    For a `pharmwatch worker` crawling one site of a distributed scan: the scan that queued the site
    starts the run and finishes it when its queue drains. Writes are keyed as a resumed run's are
    (a page already stored for the run is not stored again), so a part crawled twice stores once.
    """
    overrides = _store_overrides(settings)
    engine = make_engine(overrides["STORE_DATABASE_URL"])
    try:
        with session_factory(engine)() as session:
            done = done_search_pages(session, run_id)
    finally:
        engine.dispose()
    overrides.update(STORE_SCAN_RUN_ID=run_id, SERP_DONE_PAGES=[list(page) for page in done])
    return _run_child(targets, overrides)


def _store_overrides(settings: Mapping[str, Any]) -> dict[str, Any]:
    overrides = dict(settings)
    if not overrides.get("STORE_DATABASE_URL") or not overrides.get("STORE_BLOB_DIR"):
        raise ValueError("crawl settings must name STORE_DATABASE_URL and STORE_BLOB_DIR")
    return overrides


def _run_child(targets: CrawlTargets, overrides: dict[str, Any]) -> str | None:
    """Run the spiders in a child process; the reason it failed, or None."""
    context = multiprocessing.get_context("spawn")
    outcome = context.Queue()
    child = context.Process(target=_crawl_in_child, args=(targets, overrides, outcome), name="pharmwatch-crawl")
    child.start()
    try:
        child.join()
    except BaseException:
        # The caller is going away (Ctrl-C, SIGTERM): the crawl goes with it and is resumed later.
        child.terminate()
        child.join(15)
        raise
    error = outcome.get(timeout=5) if not outcome.empty() else None
    if child.exitcode != 0:
        code = child.exitcode or 0
        died = f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        return error or f"the crawl process died ({died})"
    return error


def _crawl_in_child(targets: CrawlTargets, overrides: dict[str, Any], outcome: Any) -> None:
    die_with_parent()
    try:
        run_spiders(targets, scrapy_settings(overrides))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which records it on the run
        outcome.put(f"{type(exc).__name__}: {exc}")
        outcome.close()
        outcome.join_thread()
        sys.exit(1)


def scrapy_settings(overrides: Mapping[str, Any]) -> ScrapySettings:
    """The defaults module, the overrides, and the settings derived from them."""
    settings = ScrapySettings()
    settings.setmodule(defaults, priority="project")
    settings.setdict(dict(overrides), priority="cmdline")
    launch: dict[str, Any] = dict(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"),
                                  executable_path=settings.get("CAPTURE_CHROMIUM_PATH"))
    proxy = settings.get("EGRESS_PROXY")
    if proxy:
        # Chromium ignores meta["proxy"]; it gets the proxy at launch. Reaching a real local
        # service must not go through the proxy.
        launch["proxy"] = {"server": proxy, "bypass": "localhost,127.0.0.1"}
    concurrency = settings.getint("CONCURRENT_REQUESTS")
    settings.setdict({
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": int(settings.getfloat("DOWNLOAD_TIMEOUT") * 1000),
        "CONCURRENT_REQUESTS_PER_DOMAIN": max(1, concurrency // 2),
        # Per-engine rate limits: every engine's requests share one download slot with its delay.
        "DOWNLOAD_SLOTS": {
            f"serp-{engine}": {"delay": delay, "concurrency": 1, "jitter": 0.5}
            for engine, delay in settings.getdict("SERP_DELAYS").items()
        },
    }, priority="cmdline")
    return settings


def run_spiders(targets: CrawlTargets, settings: ScrapySettings) -> None:
    """Run the search then the site spider in this process's reactor (once per process: see `crawl`)."""
    from scrapy.crawler import AsyncCrawlerRunner
    from scrapy.utils.defer import deferred_f_from_coro_f
    from scrapy.utils.log import configure_logging
    from scrapy.utils.reactor import install_reactor

    from crawler.spiders.search import SearchSpider
    from crawler.spiders.site import SiteSpider

    # The scan loaded (so validated) these packs already; with RULES_CACHE_DIR this load reads its compiled
    # automata instead of compiling them again.
    ruleset = load_ruleset([Path(p) for p in settings.getlist("RULES_PATHS")] or None,
                           cache_dir=rules_cache_dir(settings.get("RULES_CACHE_DIR")))
    settings.set("SERP_PLAN", [list(entry) for entry in targets.search_plan], priority="cmdline")
    install_reactor(settings["TWISTED_REACTOR"])
    configure_logging(settings)
    runner = AsyncCrawlerRunner(settings)

    async def both() -> None:
        if targets.search_plan:
            await runner.crawl(SearchSpider, ruleset=ruleset)
        found = search_result_urls(settings["STORE_DATABASE_URL"], settings.getint("STORE_SCAN_RUN_ID")) \
            if targets.follow_search_results else []
        urls = list(dict.fromkeys([*targets.urls, *found]))
        if urls:
            await runner.crawl(SiteSpider, targets=urls, ruleset=ruleset)

    from twisted.internet import reactor  # only after install_reactor (see ENVIRONMENT.md)

    errors: list[BaseException] = []
    deferred = deferred_f_from_coro_f(both)()
    deferred.addErrback(lambda failure: errors.append(failure.value))
    deferred.addBoth(lambda _: reactor.stop())  # type: ignore[attr-defined]
    reactor.run(installSignalHandlers=True)  # type: ignore[attr-defined]
    if errors:
        raise errors[0]


def rules_cache_dir(setting: object) -> Path | None:
    """RULES_CACHE_DIR as a folder, or None when it is empty."""
    return Path(str(setting)) if setting else None


def search_result_urls(database_url: str, run_id: int) -> list[str]:
    """Result and ad target URLs of this run, minus links back into the engines themselves."""
    engine_hosts = {host for spec in load_engines().values() for host in spec.hosts}
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            urls = session.scalars(
                select(SerpObservation.url).where(SerpObservation.scan_run_id == run_id)
                .order_by(SerpObservation.id)
            ).all()
    finally:
        engine.dispose()
    return [u for u in urls if u.startswith(("http://", "https://")) and urlsplit(u).hostname not in engine_hosts]
