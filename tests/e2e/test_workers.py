"""A distributed scan over two `pharmwatch worker` processes on a real PostgreSQL: a worker SIGKILLed in the
middle of a site loses no work (another worker crawls that site once the dead one's heartbeat is stale),
nothing is stored twice, and the scan ends by itself when its queue drains."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from crawler.domains import site_of
from storage import db
from storage.models import AuditEvent, Capture, ScanRun, Site
from tests.conftest import DEMO_CONFIG, run_cli
from tests.e2e.processes import line_in_log, start_cli

WATCHED = ["http://kangjian-pharmacy.test/", "http://tangan-cure.test/", "http://js-shop.test/",
           "http://gbk-yaofang.test/", "http://renmin-hospital.test/"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.browser]


def _config(tmp_path: Path, database_url: str) -> Path:
    """The demo's settings on PostgreSQL, two sites per job, workers judged dead after 3 s of silence."""
    config = tmp_path / "pharmwatch.toml"
    config.write_text(f'database_url = "{database_url}"\n' + DEMO_CONFIG.read_text(encoding="utf-8")
                      + "\n[scan]\nworker_heartbeat_seconds = 1\nstalled_worker_seconds = 3\nsites_per_job = 2\n",
                      encoding="utf-8")
    return config


def test_a_worker_killed_mid_site_loses_nothing_and_the_scan_finishes(
        postgres_url: str, demo_web: str, tmp_path: Path) -> None:
    with db.make_engine(postgres_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    config, home = _config(tmp_path, postgres_url), tmp_path / "home"
    assert run_cli("db", "upgrade", home=home, config=config).returncode == 0
    logs = {name: tmp_path / f"{name}.log" for name in ("scan", "doomed", "survivor")}
    scan = start_cli(["scan", "--distributed", "--query-set", "rogue_pharmacy_en", "--no-watchlist",
                   *(arg for url in WATCHED for arg in ("--site", url))], config, home, demo_web, logs["scan"])
    doomed = start_cli(["worker", "--name", "doomed"], config, home, demo_web, logs["doomed"])
    survivor = start_cli(["worker", "--name", "survivor"], config, home, demo_web, logs["survivor"])
    try:
        # "… : crawling site-a, site-b (N pages)": the sites of the first job the doomed worker took
        taken = line_in_log(logs["doomed"], ": crawling ", timeout=180)
        sites = taken.split(": crawling ")[1].split(" (")[0].split(", ")
        time.sleep(1.0)  # its crawl child is fetching the site's pages
        os.kill(doomed.pid, signal.SIGKILL)  # the worker alone: its crawl child must die with it
        doomed.wait()
        assert scan.wait(timeout=600) == 0, logs["scan"].read_text(errors="replace")
    finally:
        for process in (scan, doomed, survivor):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
    assert " done" not in logs["doomed"].read_text(errors="replace"), "killed after its job, not during"

    engine = db.make_engine(postgres_url)
    with db.session_factory(engine)() as session:
        runs = session.scalars(select(ScanRun)).all()
        assert [(r.status, r.error) for r in runs] == [("finished", None)]
        captures = session.scalars(select(Capture)).all()
        assert len({(c.url, c.rendered) for c in captures}) == len(captures)
        # Each stored page has one audit event: nothing was written twice, not even half-way.
        events = session.scalars(select(AuditEvent.subject).where(AuditEvent.action == "captured")).all()
        assert sorted(events) == sorted(f"capture:{c.id}" for c in captures)
        crawled = set(session.scalars(select(Site.domain).join(Capture, Capture.site_id == Site.id)))
        killed_sites_pages = {domain: session.scalar(
            select(func.count()).select_from(Capture).join(Site).where(Site.domain == domain, Capture.error.is_(None)))
            for domain in sites}
    with engine.connect() as connection:
        jobs = connection.execute(text(
            "SELECT site.value->>0, j.status::text, "
            "(SELECT count(*) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'started') "
            "FROM procrastinate_jobs j, jsonb_array_elements(j.args->'sites') AS site")).all()
    assert {status for _, status, _ in jobs} == {"succeeded"}
    starts = {job_site: started for job_site, _, started in jobs}
    assert {starts[s] for s in sites} == {2}, "the killed worker's job was taken again by the survivor"
    watched = {site_of(url) for url in WATCHED}
    assert watched < set(starts) and watched <= crawled  # every site queued (with the search's) and captured
    assert len(sites) == 2 and all(pages > 1 for pages in killed_sites_pages.values())
