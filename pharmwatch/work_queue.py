"""The distributed scan's queue: procrastinate jobs of a scan run's searches and sites, in our own PostgreSQL.

Two kinds of unit. A search unit is one engine x one query with its result pages (`SearchUnit`): the
pages of a query depend on each other (page 2 is asked only if page 1 was read and had a "next"
link), so the query, not the page, is what can be handed out. A job holds `[scan] searches_per_job`
queries of one engine and carries the engine's lock: procrastinate runs jobs sharing a lock one at
a time, so however many workers there are, one engine is asked by one crawl at a time, as one
machine would. A site unit is one site with its page budget (`SiteUnit`); a job holds
`[scan] sites_per_job` of them, crawled in one crawl.

`pharmwatch scan --distributed` queues its run's searches (`queue_searches`), waits for them
(`wait_for_searches`), then queues the sites they found with the watched ones (`queue_sites`) and
waits again (`wait_for_sites`); while it waits it gives the jobs of workers that stopped sending
heartbeats to other workers (`recover_stalled`). Then it finishes the run as an in-process scan
does. `pharmwatch worker` (pharmwatch/worker.py) runs the jobs. Procrastinate's tables come from
migration 0015.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import ProcrastinateException
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from crawler.domains import site_of

QUEUE = "pharmwatch-crawl"
CRAWL_SITE_TASK = "pharmwatch.crawl_site"
SEARCH_TASK = "pharmwatch.search"
FINAL_STATUSES = ("succeeded", "failed", "cancelled", "aborted")

K = TypeVar("K")  # what a job status is reported by: a site, an (engine, query)


class NeedsPostgres(Exception):
    """Distributed scans and workers share a PostgreSQL database; SQLite cannot be shared."""


@dataclass(frozen=True)
class SiteUnit:
    """One site of a scan run with its entry pages and page budget: what one worker crawls at a time."""

    run_id: int
    site: str
    urls: tuple[str, ...]
    max_pages: int



@dataclass(frozen=True)
class SearchUnit:
    """One query on one engine of a scan run, with its result pages: what one worker searches at a time."""

    run_id: int
    engine: str
    query: str
    pages: int


def search_units(run_id: int, plan: Iterable[tuple[str, str, int]]) -> list[SearchUnit]:
    """The run's search plan (engine, query, pages), one unit per engine x query, in plan order."""
    pages: dict[tuple[str, str], int] = {}
    for engine, query, wanted in plan:
        pages[(engine, query)] = max(wanted, pages.get((engine, query), 0))
    return [SearchUnit(run_id, engine, query, wanted) for (engine, query), wanted in pages.items()]


def search_job_args(units: list[SearchUnit]) -> dict[str, object]:
    """One search job's arguments: queries of one engine of one run (`[scan] searches_per_job`)."""
    if len({unit.engine for unit in units}) != 1:
        raise ValueError("a search job holds the queries of one engine (it holds that engine's lock)")
    return {"run_id": units[0].run_id, "engine": units[0].engine,
            "queries": [[unit.query, unit.pages] for unit in units]}


def engine_lock(engine: str) -> str:
    """The procrastinate lock of an engine's search jobs: the jobs sharing it run one at a time, in
    the order queued, whichever worker takes them (and across runs: one engine, one crawl at a time)."""
    return f"pharmwatch-search:{engine}"


def job_args(units: list[SiteUnit]) -> dict[str, object]:
    """One job's arguments: its sites (one or more of one run, `[scan] sites_per_job`) with their URLs."""
    return {"run_id": units[0].run_id, "max_pages": units[0].max_pages,
            "sites": [[unit.site, list(unit.urls)] for unit in units]}


def require_postgres(database_url: str) -> None:
    if make_url(database_url).get_backend_name() != "postgresql":
        raise NeedsPostgres(
            "distributed scans and `pharmwatch worker` need a PostgreSQL database shared by every machine "
            f"(this one is {make_url(database_url).get_backend_name()}): set database_url = "
            '"postgresql+psycopg://user@host/db" in the settings file (docs/scaling.md)')


def queue_app(database_url: str) -> App:
    """A procrastinate app on our database (SQLAlchemy's URL turned into libpq's)."""
    require_postgres(database_url)
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return App(connector=PsycopgConnector(conninfo=conninfo))


def site_units(run_id: int, urls: Iterable[str], *, max_pages: int) -> list[SiteUnit]:
    """The run's target URLs grouped by site, in the order the sites first appear (tips come first)."""
    by_site: dict[str, list[str]] = {}
    for url in dict.fromkeys(urls):
        site = site_of(url)
        if site:
            by_site.setdefault(site, []).append(url)
    return [SiteUnit(run_id, site, tuple(site_urls), max_pages) for site, site_urls in by_site.items()]


def job_statuses(engine: Engine, run_id: int) -> dict[str, str]:
    """site → status of its job in this run's queue (a resumed scan does not queue a site twice)."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT site.value->>0, job.status::text "
            "FROM procrastinate_jobs job, jsonb_array_elements(job.args->'sites') AS site "
            "WHERE job.queue_name = :queue AND job.task_name = :task AND (job.args->>'run_id')::bigint = :run "
            "ORDER BY job.id"),
            {"queue": QUEUE, "task": CRAWL_SITE_TASK, "run": run_id}).all()
    return {site: status for site, status in rows}


def search_statuses(engine: Engine, run_id: int) -> dict[tuple[str, str], str]:
    """(engine, query) → status of its newest search job in this run (a resumed scan does not queue a
    search twice)."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT job.args->>'engine', query.value->>0, job.status::text "
            "FROM procrastinate_jobs job, jsonb_array_elements(job.args->'queries') AS query "
            "WHERE job.queue_name = :queue AND job.task_name = :task AND (job.args->>'run_id')::bigint = :run "
            "ORDER BY job.id"),
            {"queue": QUEUE, "task": SEARCH_TASK, "run": run_id}).all()
    return {(search_engine, query): status for search_engine, query, status in rows}


def queue_searches(app: App, engine: Engine, units: list[SearchUnit], *, per_job: int = 1) -> int:
    """Queue the search units with no job in this run yet, or only a failed one, up to `per_job` queries
    of one engine to a job, each job under its engine's lock; how many units were queued."""
    if not units:
        return 0
    known = search_statuses(engine, units[0].run_id)
    fresh = [u for u in units if known.get((u.engine, u.query)) in (None, "failed", "cancelled", "aborted")]
    by_engine: dict[str, list[SearchUnit]] = {}
    for unit in fresh:
        by_engine.setdefault(unit.engine, []).append(unit)

    async def defer() -> None:
        async with app.open_async():
            for search_engine, engine_units in by_engine.items():
                task = app.configure_task(SEARCH_TASK, queue=QUEUE, lock=engine_lock(search_engine))
                for start in range(0, len(engine_units), per_job):
                    await task.defer_async(**search_job_args(engine_units[start:start + per_job]))

    asyncio.run(defer())
    return len(fresh)


def queue_sites(app: App, engine: Engine, units: list[SiteUnit], *, per_job: int = 1) -> int:
    """Queue the units whose site has no job in this run yet, or only a failed one, `per_job` sites to a
    job (each job is one crawl: its start is paid once); how many sites were queued."""
    if not units:
        return 0
    known = job_statuses(engine, units[0].run_id)
    fresh = [u for u in units if known.get(u.site) in (None, "failed", "cancelled", "aborted")]

    async def defer() -> None:
        async with app.open_async():
            for start in range(0, len(fresh), per_job):
                await app.configure_task(CRAWL_SITE_TASK, queue=QUEUE).defer_async(
                    **job_args(fresh[start:start + per_job]))

    asyncio.run(defer())
    return len(fresh)


async def recover_stalled(app: App, *, stalled_after: float) -> list[int]:
    """Put back in the queue every job (search or site) held by a worker silent for `stalled_after`
    seconds (killed, machine lost); ids of the jobs put back. Safe to run from several processes at once: a job another
    one put back first is skipped."""
    recovered = []
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after):
        try:
            await app.job_manager.retry_job(job)
        except ProcrastinateException:
            continue  # put back (or finished) meanwhile
        recovered.append(job.id or 0)
    return recovered


def wait_for_jobs(app: App, statuses: Callable[[], dict[K, str]], what: str, *, stalled_after: float,
                  poll: float = 2.0, announce: Callable[[str], None] = print) -> dict[K, str]:
    """Wait until every job `statuses()` reports is final, recovering stalled ones meanwhile; unit → status.
    `what` names the units in the progress lines ("scan 7: searches 3 doing, 9 succeeded")."""
    async def drain() -> dict[K, str]:
        said = ""
        async with app.open_async():
            while True:
                for job_id in await recover_stalled(app, stalled_after=stalled_after):
                    announce(f"job {job_id}: its worker stopped answering; queued again for another worker")
                now = statuses()
                counts = {s: list(now.values()).count(s) for s in sorted(set(now.values()))}
                progress = ", ".join(f"{n} {s}" for s, n in counts.items())
                if progress != said:
                    announce(f"{what} {progress}")
                    said = progress
                if all(status in FINAL_STATUSES for status in now.values()):
                    return now
                await asyncio.sleep(poll)

    return asyncio.run(drain())


def wait_for_searches(app: App, engine: Engine, run_id: int, *, stalled_after: float, poll: float = 2.0,
                      announce: Callable[[str], None] = print) -> dict[tuple[str, str], str]:
    """Wait until every search job of the run is final; (engine, query) → status."""
    started = time.monotonic()
    statuses = wait_for_jobs(app, lambda: search_statuses(engine, run_id), f"scan {run_id}: searches",
                             stalled_after=stalled_after, poll=poll, announce=announce)
    announce(f"scan {run_id}: {len(statuses)} search(es) run by workers in {time.monotonic() - started:.0f} s")
    return statuses


def wait_for_sites(app: App, engine: Engine, run_id: int, *, stalled_after: float, poll: float = 2.0,
                   announce: Callable[[str], None] = print) -> dict[str, str]:
    """Wait until every site job of the run is final, recovering stalled ones meanwhile; site → status."""
    started = time.monotonic()
    statuses = wait_for_jobs(app, lambda: job_statuses(engine, run_id), f"scan {run_id}: sites",
                             stalled_after=stalled_after, poll=poll, announce=announce)
    announce(f"scan {run_id}: {len(statuses)} site(s) crawled by workers in {time.monotonic() - started:.0f} s")
    return statuses
