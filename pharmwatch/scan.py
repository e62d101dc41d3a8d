"""One scan, wired from the top: lock, resume or start a ScanRun, crawl, count, open cases, mark tips.

Pending tips (cases.tips) join the crawl targets ahead of the watchlist; after the crawl, the tips
whose URL the run captured are marked scanned with the run's id (the others stay pending).

An interrupted scan (killed, crashed) is resumed by the next `pharmwatch scan`: the same run id,
search pages already stored are not asked again, and pages are re-fetched only where no capture
was stored; storage keys make the rest idempotent, so nothing is duplicated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cases.opening import open_cases_for_scan
from cases.tips import mark_tips_scanned, pending_tips
from crawler.run import CrawlParams, crawl
from pharmwatch.config import Settings
from pharmwatch.scan_lock import ScanLock
from rules import RuleSet
from rules.model import FLAGGING_SEVERITIES
from storage.db import session_factory, transaction
from storage.models import ScanRun
from storage.scans import (
    abandon_scan_run,
    done_search_pages,
    failure_reasons,
    finish_scan_run,
    interrupted_scan_run,
    start_scan_run,
)


@dataclass
class ScanOutcome:
    run: ScanRun
    resumed: bool
    open_cases: int
    problems: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    tips_scanned: list[int] = field(default_factory=list)  # ids of the tips this run crawled


def run_scan(settings: Settings, engine, ruleset: RuleSet, *,  # type: ignore[no-untyped-def]
             plan: list[tuple[str, str, int]], watchlist: list[str], tips: bool = True, new: bool = False,
             verbose: bool = False, announce=print) -> ScanOutcome:  # type: ignore[no-untyped-def]
    """Run one scan of `plan` and `watchlist`, plus the URLs of pending tips unless `tips` is false."""
    sessions = session_factory(engine)
    with ScanLock(settings.home):
        with transaction(sessions) as session:
            interrupted = interrupted_scan_run(session)
            if interrupted and new:
                abandon_scan_run(session, interrupted.id, flagging_severities=FLAGGING_SEVERITIES)
                interrupted = None
            run = interrupted or start_scan_run(session, ruleset.digest)
            run_id, resumed = run.id, interrupted is not None
            done = done_search_pages(session, run_id) if resumed else []
            tip_targets = pending_tips(session) if tips else []
        verb = "resuming interrupted" if resumed else "starting"
        announce(f"{verb} scan {run_id}: {len(plan)} searches (engine x query), "
                 f"{len(watchlist)} watched site(s), {len(ruleset.rules)} rules, {len(tip_targets)} tip(s)")
        # Tips first: a reported page gets its place before the site's page budget goes to followed links.
        targets = list(dict.fromkeys([*(url for _, url in tip_targets), *watchlist]))
        error = None
        try:
            crawl(crawl_params(settings, run_id, plan, targets, done, verbose), ruleset)
        except Exception as exc:  # noqa: BLE001 - recorded on the scan run and reported
            error = f"{type(exc).__name__}: {exc}"
        with transaction(sessions) as session:
            run = finish_scan_run(session, run_id, error, flagging_severities=FLAGGING_SEVERITIES)
            scanned = mark_tips_scanned(session, run_id, [tip_id for tip_id, _ in tip_targets])
            cases = open_cases_for_scan(session, run_id)
            problems = failure_reasons(session, run_id)
    return ScanOutcome(run=run, resumed=resumed, open_cases=len(cases), problems=problems, error=error,
                       tips_scanned=scanned)


def crawl_params(settings: Settings, run_id: int, plan: list[tuple[str, str, int]], watchlist: list[str],
                 done: list[tuple[str, str, int]], verbose: bool) -> CrawlParams:
    crawl_settings = settings.crawl
    return CrawlParams(
        database_url=settings.db_url, blob_dir=Path(settings.blob_dir), scan_run_id=run_id,
        watchlist=watchlist, search_plan=plan, done_search_pages=done, proxy=crawl_settings.proxy,
        block_retries=settings.search.block_retries, block_backoff_seconds=settings.search.block_backoff_seconds,
        engine_proxies=settings.search.proxies, engine_delays=settings.search.delays,
        render_engines=settings.search.render,
        allow_private=crawl_settings.allow_private, max_pages_per_site=crawl_settings.max_pages_per_site,
        max_depth=crawl_settings.max_depth, concurrency=crawl_settings.concurrency,
        download_timeout=crawl_settings.download_timeout, max_body_bytes=crawl_settings.max_body_bytes,
        retry_after_max_seconds=crawl_settings.retry_after_max_seconds,
        retry_after_times=crawl_settings.retry_after_times,
        render_first_page=crawl_settings.render_first_page, render_wait_ms=crawl_settings.render_wait_ms,
        host_addresses=crawl_settings.host_addresses,
        chromium_path=crawl_settings.chromium_path, user_agent=crawl_settings.user_agent,
        obey_robots_txt=crawl_settings.obey_robots_txt, rule_paths=settings.rule_paths,
        log_level="INFO" if verbose else "WARNING",
    )
