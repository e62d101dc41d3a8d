"""The distributed scan's queue: procrastinate jobs of a scan run's sites, in our own PostgreSQL.

A unit of work is one site with its page budget (`SiteUnit`); a job holds `[scan] sites_per_job` of
them, crawled in one crawl. `pharmwatch scan --distributed` queues its run's sites (`queue_sites`),
waits for the queue of its run to drain (`wait_for_sites`) while it gives the jobs of workers that
stopped sending heartbeats to other workers (`recover_stalled`), and then finishes the run as an
in-process scan does. `pharmwatch worker` (pharmwatch/worker.py) runs the jobs. Procrastinate's
tables come from migration 0015.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import ProcrastinateException
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from crawler.domains import site_of

QUEUE = "pharmwatch-crawl"
CRAWL_SITE_TASK = "pharmwatch.crawl_site"
FINAL_STATUSES = ("succeeded", "failed", "cancelled", "aborted")


class NeedsPostgres(Exception):
    """Distributed scans and workers share a PostgreSQL database; SQLite cannot be shared."""


@dataclass(frozen=True)
class SiteUnit:
    """One site of a scan run with its entry pages and page budget: what one worker crawls at a time."""

    run_id: int
    site: str
    urls: tuple[str, ...]
    max_pages: int



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
    """Put back in the queue every crawl job held by a worker silent for `stalled_after` seconds (killed,
    machine lost); ids of the jobs put back. Safe to run from several processes at once: a job another
    one put back first is skipped."""
    recovered = []
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after):
        try:
            await app.job_manager.retry_job(job)
        except ProcrastinateException:
            continue  # put back (or finished) meanwhile
        recovered.append(job.id or 0)
    return recovered


def wait_for_sites(app: App, engine: Engine, run_id: int, *, stalled_after: float, poll: float = 2.0,
                   announce: Callable[[str], None] = print) -> dict[str, str]:
    """Wait until every site job of the run is final, recovering stalled ones meanwhile; site → status."""
    async def drain() -> dict[str, str]:
        said = ""
        async with app.open_async():
            while True:
                for job_id in await recover_stalled(app, stalled_after=stalled_after):
                    announce(f"job {job_id}: its worker stopped answering; queued again for another worker")
                statuses = job_statuses(engine, run_id)
                counts = {s: list(statuses.values()).count(s) for s in sorted(set(statuses.values()))}
                progress = ", ".join(f"{n} {s}" for s, n in counts.items())
                if progress != said:
                    announce(f"scan {run_id}: sites {progress}")
                    said = progress
                if all(status in FINAL_STATUSES for status in statuses.values()):
                    return statuses
                await asyncio.sleep(poll)

    started = time.monotonic()
    statuses = asyncio.run(drain())
    announce(f"scan {run_id}: {len(statuses)} site(s) crawled by workers in {time.monotonic() - started:.0f} s")
    return statuses
