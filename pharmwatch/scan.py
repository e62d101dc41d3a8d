"""One scan, wired from the top: lock, resume or start a ScanRun, crawl, count, open cases, mark tips, index
the pages' operator identifiers and update the operator networks (cases.networks).

Pending tips (cases.tips) join the crawl targets ahead of the watchlist; after the crawl, the tips
whose URL the run captured are marked scanned with the run's id (the others stay pending).

An interrupted scan (killed, crashed) is resumed by the next `pharmwatch scan`: the same run id,
search pages already stored are not asked again, and pages are re-fetched only where no capture
was stored; storage keys make the rest idempotent, so nothing is duplicated. A distributed scan
(`crawl_by_workers`) queues each search (engine x query), then each site, for `pharmwatch worker` processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cases.networks import NetworkChange
from cases.settle import settle_run
from cases.tips import pending_tips
from crawler import settings as crawl_defaults
from crawler.run import CrawlTargets, crawl, search_result_urls
from pharmwatch.config import Settings
from pharmwatch.scan_lock import ScanLock
from pharmwatch.work_queue import (
    queue_app,
    queue_searches,
    queue_sites,
    search_units,
    site_units,
    wait_for_searches,
    wait_for_sites,
)
from rules import RuleSet
from rules.model import FLAGGING_SEVERITIES
from storage.db import session_factory, transaction
from storage.models import ScanRun
from storage.scans import (
    abandon_scan_run,
    capture_counts,
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
    shortfall: str | None = None  # why the run captured too little to count as a scan (see `shortfall`)
    networks: NetworkChange | None = None  # operator networks created, grown or merged by this scan


def run_scan(settings: Settings, engine, ruleset: RuleSet, *,  # type: ignore[no-untyped-def]
             plan: list[tuple[str, str, int]], watchlist: list[str], tips: bool = True, new: bool = False,
             verbose: bool = False, distributed: bool = False,
             announce=print) -> ScanOutcome:  # type: ignore[no-untyped-def]
    """Run one scan of `plan` and `watchlist`, plus the URLs of pending tips unless `tips` is false.

    `distributed`: every search, then every site, is queued for `pharmwatch worker` processes
    (pharmwatch/work_queue.py) and the scan waits for its queue to drain (PostgreSQL only)."""
    sessions = session_factory(engine)
    with ScanLock(settings.home):
        with transaction(sessions) as session:
            interrupted = interrupted_scan_run(session)
            if interrupted and new:
                abandon_scan_run(session, interrupted.id, flagging_severities=FLAGGING_SEVERITIES)
                interrupted = None
            run = interrupted or start_scan_run(session, ruleset.digest)
            run_id, resumed = run.id, interrupted is not None
            tip_targets = pending_tips(session) if tips else []
        verb = "resuming interrupted" if resumed else "starting"
        announce(f"{verb} scan {run_id}: {len(plan)} searches (engine x query), "
                 f"{len(watchlist)} watched site(s), {len(ruleset.rules)} rules, {len(tip_targets)} tip(s)")
        # Tips first: a reported page gets its place before the site's page budget goes to followed links.
        targets = CrawlTargets(urls=list(dict.fromkeys([*(url for _, url in tip_targets), *watchlist])),
                               search_plan=plan)
        if distributed:
            run = crawl_by_workers(settings, engine, targets, run_id, verbose=verbose, announce=announce)
        else:
            run = crawl(targets, settings.crawl_overrides(verbose=verbose), run_id=run_id, ruleset=ruleset)
        with transaction(sessions) as session:
            settled = settle_run(session, run_id, [tip_id for tip_id, _ in tip_targets], blob_dir=settings.blob_dir)
            problems = failure_reasons(session, run_id)
            short = shortfall(*capture_counts(session, run_id), min_share=settings.scan.min_captured_share)
    return ScanOutcome(run=run, resumed=resumed, open_cases=len(settled.cases), problems=problems, error=run.error,
                       tips_scanned=settled.tips_scanned, shortfall=short, networks=settled.networks)


def crawl_by_workers(settings: Settings, engine, targets: CrawlTargets, run_id: int, *,  # type: ignore[no-untyped-def]
                     verbose: bool, announce) -> ScanRun:  # type: ignore[no-untyped-def]
    """The crawl of a distributed scan: each search (engine x query), then each site, by a worker; the run
    finished when its queue drains, failed (naming the searches and sites) if one of their jobs failed."""
    app = queue_app(settings.db_url)  # refuses SQLite first, before anything is crawled
    overrides = settings.crawl_overrides(verbose=verbose)
    error = None
    stalled_after = settings.scan.stalled_worker_seconds
    if targets.search_plan:
        searches = search_units(run_id, targets.search_plan)
        queued = queue_searches(app, engine, searches, per_job=settings.scan.searches_per_job)
        announce(f"scan {run_id}: {queued} search(es) queued for workers ({len(searches) - queued} queued "
                 "before); start workers with `pharmwatch worker`")
        # The sites come from the result pages: every search must be over before they are known.
        statuses = wait_for_searches(app, engine, run_id, stalled_after=stalled_after, announce=announce)
        failed_searches = sorted(f"{name}: {query}" for (name, query), status in statuses.items()
                                 if status != "succeeded")
        if failed_searches:
            error = (f"{len(failed_searches)} search(es) not run by a worker (see the workers' logs): "
                     f"{', '.join(failed_searches[:10])}")
    urls = [*targets.urls, *(search_result_urls(settings.db_url, run_id) if targets.follow_search_results else [])]
    units = site_units(run_id, urls, max_pages=int(overrides.get("CAPTURE_MAX_PAGES_PER_SITE",
                                                                   crawl_defaults.CAPTURE_MAX_PAGES_PER_SITE)))
    queued = queue_sites(app, engine, units, per_job=settings.scan.sites_per_job)
    announce(f"scan {run_id}: {queued} site(s) queued for workers ({len(units) - queued} queued before); "
             "start workers with `pharmwatch worker`")
    sites = wait_for_sites(app, engine, run_id, stalled_after=stalled_after, announce=announce)
    failed = sorted(site for site, status in sites.items() if status != "succeeded")
    if failed:
        error = "; ".join(filter(None, [error, f"{len(failed)} site(s) not crawled by a worker (see the "
                                               f"workers' logs): {', '.join(failed[:10])}"]))
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        run = finish_scan_run(session, run_id, error, flagging_severities=FLAGGING_SEVERITIES)
        session.flush()
        session.expunge(run)
    return run


def shortfall(pages: int, failed: int, searched: int, unread: int, *, min_share: float) -> str | None:
    """Why a run's captures cannot stand for a night's monitoring (nothing or too little captured,
    no result page read), or None. A proxy that is down must not look like a quiet night."""
    problems = []
    if pages + failed and pages < min_share * (pages + failed):
        problems.append(f"captured {pages} of {pages + failed} pages" + (" (nothing)" if not pages else "")
                        + f", below [scan] min_captured_share = {min_share:g}")
    if unread and not searched:
        problems.append(f"no search result page could be read ({unread} failed, blocked or unparsed)")
    if not (pages + failed + searched + unread):
        problems.append("nothing was crawled at all")
    return "; ".join(problems) or None
