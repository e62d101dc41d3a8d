"""The searches of a distributed scan as queued units on a real PostgreSQL: one job per engine x query, run by
`pharmwatch worker` processes one engine at a time (procrastinate's lock), a worker SIGKILLed in the middle of a
search loses nothing, a resumed scan queues no search twice, every result page is stored once, and the scan
ends by itself."""

from __future__ import annotations

import itertools
import os
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage import db
from storage.models import ScanRun, SearchQueryRun, SerpObservation
from tests.conftest import DEMO_CONFIG, run_cli
from tests.e2e.processes import line_in_log, start_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# [search] queries first (the settings' order, not the options'), so the always-blocked query is the first
# job: the one the doomed worker dies in.
QUERY_SETS = ["queries", "block_check", "diabetes"]
PLAN = [("mock", "触发验证"), ("mock", "降糖药"), ("mock", "根治糖尿病"), ("mock", "偶发验证 降糖药")]


def _config(tmp_path: Path, database_url: str) -> Path:
    """The demo's settings on PostgreSQL with the blocked query first and a long back-off (the doomed worker
    is still inside that search when killed), one page per site and every result site in one job (the
    sites are not what this test is about), workers judged dead after 3 s of silence."""
    demo = DEMO_CONFIG.read_text(encoding="utf-8")
    for old, new in (("[search]\n", '[search]\nqueries = ["触发验证"]\n'),
                     ("block_backoff_seconds = 0.5", "block_backoff_seconds = 5"),
                     ("max_pages_per_site = 10", "max_pages_per_site = 1"), ("ocr = true", "ocr = false")):
        assert old in demo, f"demo/pharmwatch.toml no longer has {old!r}"
        demo = demo.replace(old, new, 1)
    config = tmp_path / "pharmwatch.toml"
    config.write_text(f'database_url = "{database_url}"\n{demo}\n[scan]\nworker_heartbeat_seconds = 1\n'
                      "stalled_worker_seconds = 3\nsites_per_job = 100\n", encoding="utf-8")
    return config


def test_searches_are_queued_units_run_one_engine_at_a_time_and_a_killed_worker_loses_none(
        postgres_url: str, demo_web: str, tmp_path: Path) -> None:
    with db.make_engine(postgres_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    config, home = _config(tmp_path, postgres_url), tmp_path / "home"
    assert run_cli("db", "upgrade", home=home, config=config).returncode == 0
    scan_args = ["scan", "--distributed", "--no-watchlist", *(a for s in QUERY_SETS for a in ("--query-set", s))]
    logs = {name: tmp_path / f"{name}.log" for name in ("first-scan", "scan", "doomed", "survivor")}
    processes = {"first-scan": start_cli(scan_args, config, home, demo_web, logs["first-scan"]),
                 "doomed": start_cli(["worker", "--name", "doomed"], config, home, demo_web, logs["doomed"])}
    try:
        queued = line_in_log(logs["first-scan"], "queued for workers")
        assert "4 search(es) queued for workers (0 queued before)" in queued
        os.kill(processes["first-scan"].pid, signal.SIGKILL)  # the scan dies while its searches are queued
        processes["first-scan"].wait()
        assert "触发验证" in line_in_log(logs["doomed"], ": searching ")
        time.sleep(3.0)  # its crawl child is starting or between two blocked attempts of that query
        os.kill(processes["doomed"].pid, signal.SIGKILL)
        processes["doomed"].wait()
        processes["scan"] = start_cli(scan_args, config, home, demo_web, logs["scan"])
        processes["survivor"] = start_cli(["worker", "--name", "survivor"], config, home, demo_web, logs["survivor"])
        assert processes["scan"].wait(timeout=400) == 0, logs["scan"].read_text(errors="replace")
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
    scan_log = logs["scan"].read_text(errors="replace")
    assert "resuming interrupted scan" in scan_log and "0 search(es) queued for workers (4 queued before)" in scan_log
    assert " searched" not in logs["doomed"].read_text(errors="replace"), "killed after its search, not during"

    engine = db.make_engine(postgres_url)
    with db.session_factory(engine)() as session:
        assert [(r.status, r.error) for r in session.scalars(select(ScanRun))] == [("finished", None)]
        pages = session.scalars(select(SearchQueryRun)).all()
        observations = session.execute(select(SerpObservation.query_run_id, SerpObservation.rank,
                                              SerpObservation.is_ad)).all()
    with engine.connect() as connection:
        jobs = connection.execute(text(
            "SELECT id, args->>'engine', args->'queries'->0->>0, status::text, lock FROM procrastinate_jobs "
            "WHERE task_name = 'pharmwatch.search' ORDER BY id")).all()
        events = connection.execute(text(
            "SELECT e.job_id, e.type::text, e.at FROM procrastinate_events e JOIN procrastinate_jobs j "
            "ON j.id = e.job_id WHERE j.task_name = 'pharmwatch.search' ORDER BY e.at, e.id")).all()
        sites = connection.execute(text(
            "SELECT status::text, jsonb_array_length(args->'sites') FROM procrastinate_jobs "
            "WHERE task_name = 'pharmwatch.crawl_site'")).all()

    # One job per engine x query, queued once across the two scans (each under its engine's lock: below).
    assert [(e, q) for _, e, q, _, _ in jobs] == PLAN
    # Every result page stored once: each query's first page, the blocked one after all its attempts
    # (the survivor's, not the dead worker's), and each result listed once on its page.
    assert {(p.query, p.page) for p in pages} >= {(q, 1) for _, q in PLAN} and len(pages) == len(
        {(p.engine, p.query, p.page) for p in pages})
    blocked = [p for p in pages if p.status == "blocked"]
    assert [(p.query, p.reason.endswith("(3 attempts)")) for p in blocked] == [("触发验证", True)]
    assert len(observations) == len(set(observations)) and observations
    # The dead worker's job was taken again; meanwhile no other search of the engine started (its lock
    # was held by the dead worker's job until it was put back): one engine, one search at a time.
    attempts: list[tuple[datetime, datetime, int]] = []
    open_attempts: dict[int, datetime] = {}
    for job_id, kind, at in events:
        if kind == "started":
            open_attempts[job_id] = at
        elif job_id in open_attempts and kind in ("deferred_for_retry", "succeeded", "failed", "aborted"):
            attempts.append((open_attempts.pop(job_id), at, job_id))
    assert not open_attempts and [job_id for *_, job_id in attempts].count(jobs[0][0]) == 2
    attempts.sort()
    assert all(end <= next_start for (_, end, _), (next_start, _, _) in itertools.pairwise(attempts)), attempts
    assert logs["survivor"].read_text(errors="replace").count(" searched") == len(PLAN)
    assert {(status, lock) for *_, status, lock in jobs} == {("succeeded", "pharmwatch-search:mock")}
    # Then the sites the searches found, queued once the searches were over.
    assert [status for status, _ in sites] == ["succeeded"] and sites[0][1] > 1
