"""The crawl entry point: `crawl(params) -> scan run id`, used by a full scan and by re-checks.

Runs the `search` spider (when engines are configured), then the `site` spider over the
watchlist plus every site the search found, inside one Twisted reactor. A reactor runs once
per process, so call `crawl` once per process (the CLI does; the scheduler runs a process).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import AsyncCrawlerRunner
from scrapy.settings import Settings as ScrapySettings
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.log import configure_logging
from scrapy.utils.reactor import install_reactor
from sqlalchemy import select

from crawler import settings as defaults
from crawler.serp import load_engines
from rules import RuleSet
from storage.db import make_engine, session_factory
from storage.models import SerpObservation


@dataclass
class CrawlParams:
    """Everything one crawl needs, as plain values (the CLI builds it from the user's settings)."""

    database_url: str
    blob_dir: Path
    scan_run_id: int
    watchlist: list[str] = field(default_factory=list)
    search_plan: list[tuple[str, str, int]] = field(default_factory=list)  # (engine, query, pages)
    done_search_pages: list[tuple[str, str, int]] = field(default_factory=list)  # resumed scans skip these
    block_retries: int = 2
    block_backoff_seconds: float = 60.0
    engine_proxies: dict[str, str] = field(default_factory=dict)
    engine_delays: dict[str, float] = field(default_factory=dict)
    render_engines: list[str] = field(default_factory=list)
    proxy: str = ""
    allow_private: list[str] = field(default_factory=list)
    max_pages_per_site: int = 20
    max_depth: int = 2
    concurrency: int = 8
    download_timeout: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    retry_after_max_seconds: float = 30.0
    retry_after_times: int = 2
    render_first_page: bool = True
    render_wait_ms: int = 1500
    host_addresses: dict[str, str] = field(default_factory=dict)
    chromium_path: str = "/usr/bin/chromium"
    user_agent: str = defaults.USER_AGENT
    obey_robots_txt: bool = False
    rule_paths: list[str] = field(default_factory=list)
    log_level: str = "WARNING"


def scrapy_settings(params: CrawlParams) -> ScrapySettings:
    settings = ScrapySettings()
    settings.setmodule(defaults, priority="project")
    launch: dict[str, Any] = dict(defaults.PLAYWRIGHT_LAUNCH_OPTIONS, executable_path=params.chromium_path)
    if params.proxy:
        # Chromium ignores meta["proxy"]; it gets the proxy at launch. Reaching a real local
        # service must not go through the proxy.
        launch["proxy"] = {"server": params.proxy, "bypass": "localhost,127.0.0.1"}
    settings.setdict({
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": int(params.download_timeout * 1000),
        "CONCURRENT_REQUESTS": params.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": max(1, params.concurrency // 2),
        "DOWNLOAD_TIMEOUT": params.download_timeout,
        "CAPTURE_MAX_BODY_BYTES": params.max_body_bytes,
        "CAPTURE_RETRY_AFTER_MAX_SECONDS": params.retry_after_max_seconds,
        "CAPTURE_RETRY_AFTER_TIMES": params.retry_after_times,
        "USER_AGENT": params.user_agent,
        "ROBOTSTXT_OBEY": params.obey_robots_txt,
        "LOG_LEVEL": params.log_level,
        "EGRESS_PROXY": params.proxy,
        "GUARD_ALLOW": params.allow_private,
        "CAPTURE_MAX_PAGES_PER_SITE": params.max_pages_per_site,
        "CAPTURE_MAX_DEPTH": params.max_depth,
        "CAPTURE_RENDER_FIRST_PAGE": params.render_first_page,
        "CAPTURE_RENDER_WAIT_MS": params.render_wait_ms,
        "CAPTURE_HOST_ADDRESSES": params.host_addresses,
        "SERP_PLAN": [list(entry) for entry in params.search_plan],
        "SERP_DONE_PAGES": [list(done) for done in params.done_search_pages],
        "SERP_BLOCK_RETRIES": params.block_retries,
        "SERP_PROXIES": params.engine_proxies,
        "SERP_DELAYS": params.engine_delays,
        "SERP_RENDER": params.render_engines,
        # Per-engine rate limits: every engine's requests share one download slot with its delay.
        "DOWNLOAD_SLOTS": {
            f"serp-{engine}": {"delay": delay, "concurrency": 1, "jitter": 0.5}
            for engine, delay in params.engine_delays.items()
        },
        "SERP_BLOCK_BACKOFF_SECONDS": params.block_backoff_seconds,
        "STORE_DATABASE_URL": params.database_url,
        "STORE_BLOB_DIR": str(params.blob_dir),
        "STORE_SCAN_RUN_ID": params.scan_run_id,
        "RULES_PATHS": params.rule_paths,
    }, priority="cmdline")
    return settings


def crawl(params: CrawlParams, ruleset: RuleSet | None = None) -> int:
    """Run search monitoring then the site crawl for one scan run; returns the scan run id.

    `ruleset`: packs the caller already loaded (handed to the spiders); otherwise each spider's
    pipeline loads `params.rule_paths` itself.
    """
    from crawler.spiders.search import SearchSpider
    from crawler.spiders.site import SiteSpider

    settings = scrapy_settings(params)
    install_reactor(settings["TWISTED_REACTOR"])
    configure_logging(settings)
    runner = AsyncCrawlerRunner(settings)

    async def run_spiders() -> None:
        if params.search_plan:
            await runner.crawl(SearchSpider, ruleset=ruleset)
        targets = list(dict.fromkeys([*params.watchlist, *search_result_urls(params)]))
        if targets:
            await runner.crawl(SiteSpider, targets=targets, ruleset=ruleset)

    from twisted.internet import reactor  # only after install_reactor (see ENVIRONMENT.md)

    errors: list[BaseException] = []
    deferred = deferred_f_from_coro_f(run_spiders)()
    deferred.addErrback(lambda failure: errors.append(failure.value))
    deferred.addBoth(lambda _: reactor.stop())  # type: ignore[attr-defined]
    reactor.run(installSignalHandlers=True)  # type: ignore[attr-defined]
    if errors:
        raise errors[0]
    return params.scan_run_id


def search_result_urls(params: CrawlParams) -> list[str]:
    """Result and ad target URLs of this scan, minus links back into the engines themselves."""
    engine_hosts = {host for spec in load_engines().values() for host in spec.hosts}
    engine = make_engine(params.database_url)
    try:
        with session_factory(engine)() as session:
            urls = session.scalars(
                select(SerpObservation.url).where(SerpObservation.scan_run_id == params.scan_run_id)
                .order_by(SerpObservation.id)
            ).all()
    finally:
        engine.dispose()
    return [u for u in urls if u.startswith(("http://", "https://")) and urlsplit(u).hostname not in engine_hosts]
