"""What the monitors' daily list costs at a province's scale: the page (`/daily`) and its JSON twin
(`/api/daily`) with 100,000 flagged sites and 1,000,000 findings in the database, p95 latency of
`--requests` requests each, beside the bare SQL query of a page's rows.

Rows are generated directly with SQLAlchemy bulk inserts (no crawl): every site flagged, `--findings`
spread over them (their severities, categories and excerpts mixed, one capture with a screenshot each,
one case each, a tenth reached through an ad), on `--days` consecutive local days (1: the whole database
is one day's list, the worst case). Requests go through the real application (`web.app.create_app`, a
signed-in admin's session cookie) with Starlette's TestClient, in process, pages picked at random;
"bare SQL" is `cases.daily.flagged_ranks` ordered and cut to one page (the site ids only), the query no
page can do without. SQLite always; PostgreSQL too with `--postgresql` (a throwaway server started from
Debian's binaries: tests/postgres_server.py).

Run: `.venv/bin/python bench/web_daily.py [--sites 100000] [--findings 1000000] [--days 1]
[--requests 100] [--postgresql]`.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from argon2 import PasswordHasher  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from cases.daily import day_bounds, flagged_ranks, list_order  # noqa: E402
from storage import db  # noqa: E402
from storage.models import (  # noqa: E402
    Capture,
    Case,
    Finding,
    ScanRun,
    SearchQueryRun,
    SerpObservation,
    Site,
)
from tests.postgres_server import throwaway_postgres  # noqa: E402
from web import auth  # noqa: E402
from web.app import WebConfig, create_app  # noqa: E402
from web.routes.daily import PAGE_SIZE  # noqa: E402

ZONE = "Asia/Shanghai"
SEVERITIES = ["low", "medium", "medium", "high", "high", "critical"]
CATEGORIES = ["disease_cure_claim", "prescription_without_rx", "illegal_additive", "unapproved_drug"]
EXCERPTS = ["三个疗程根治糖尿病", "降压特效药，停药不反弹", "无需处方 直接发货", "祖传秘方 治愈痛风", "正品保障"]
STATUSES = ["open", "open", "under_review", "confirmed", "dismissed"]
BATCH = 50_000


def populate(sessions, sites: int, findings: int, days: int, first_day: date, seed: int = 16) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    noon = {d: datetime.combine(first_day + timedelta(days=d), datetime.min.time(), ZoneInfo(ZONE))
            .replace(hour=12).astimezone(UTC).replace(tzinfo=None) for d in range(days)}
    when = {i: noon[i % days] for i in range(1, sites + 1)}
    with db.transaction(sessions) as session:
        session.add(ScanRun(id=1, status="finished", started_at=noon[0]))
        session.add(SearchQueryRun(id=1, scan_run_id=1, engine="demo", query="根治糖尿病", page=1,
                                   url="http://search.test/", status="ok"))
        session.flush()
        _bulk(session, Site, ({"id": i, "domain": f"shop{rng.randrange(10**6)}-{i}.test",
                               "first_seen": when[i] - timedelta(days=rng.choice([0, 0, 3]))}
                              for i in range(1, sites + 1)))
        _bulk(session, Capture, ({"id": i, "scan_run_id": 1, "site_id": i, "url": f"http://site{i}.test/",
                                  "fetched_at": when[i], "signals": {}, "title": "t",
                                  "screenshot_sha256": f"{i:064x}"} for i in range(1, sites + 1)))
        # Every site gets at least one flagging finding; the rest are spread at random.
        counts = [1] * sites
        for _ in range(findings - sites):
            counts[rng.randrange(sites)] += 1

        def finding_rows() -> Iterator[dict]:  # type: ignore[type-arg]
            for i in range(1, sites + 1):
                for k in range(counts[i - 1]):
                    yield {"capture_id": i, "site_id": i, "scan_run_id": 1, "rule_id": f"pw-r{k}", "rule_version": 1,
                           "rule_sha256": "0" * 64, "title": f"规则 {k}", "category": rng.choice(CATEGORIES),
                           "severity": "high" if k == 0 else rng.choice(SEVERITIES),
                           "excerpt": rng.choice(EXCERPTS), "legal_basis": ["广告法 第十七条"], "spans": [[0, 4]],
                           "created_at": when[i]}

        _bulk(session, Finding, finding_rows())
        _bulk(session, Case, ({"id": i, "site_id": i, "status": rng.choice(STATUSES), "risk": "high",
                               "categories": [], "opened_at": when[i], "updated_at": when[i]}
                              for i in range(1, sites + 1)))
        _bulk(session, SerpObservation, ({"query_run_id": 1, "scan_run_id": 1, "engine": "demo", "query": "根治糖尿病",
                                          "page": 1, "rank": 1, "is_ad": True, "url": f"http://site{i}.test/",
                                          "displayed_url": "x", "site_id": i, "title": "ad", "snippet": "",
                                          "advertiser": f"公司{i % 97}", "observed_at": when[i]}
                                         for i in range(1, sites + 1, 10)))


def _bulk(session, model, rows) -> None:  # type: ignore[no-untyped-def]
    batch: list[dict] = []  # type: ignore[type-arg]
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            session.execute(insert(model), batch)
            batch = []
    if batch:
        session.execute(insert(model), batch)


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


def timed(requests: int, work: Callable[[int], object]) -> list[float]:
    rng = random.Random(5)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        work(rng.randrange(1_000_000))
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(url: str, args: argparse.Namespace, label: str) -> None:
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.session_factory(engine)
    day = date(2026, 12, 1)
    start = time.perf_counter()
    populate(sessions, args.sites, args.findings, args.days, day)
    auth.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # a bench, not a password store
    with db.transaction(sessions) as session:
        user = auth.add_user(session, "bench", "admin", "bench password", actor="bench")
        cookie = auth.start_session(session, user, hours=2)
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done by then on a live database: statistics, and the visibility map
        # that lets PostgreSQL answer from the covering index alone.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    print(f"{label}: {args.sites:,} flagged sites, {args.findings:,} findings over {args.days} day(s) "
          f"(built in {time.perf_counter() - start:.0f} s)")
    listed = args.sites // args.days
    pages = max(1, -(-listed // PAGE_SIZE))
    bounds = day_bounds(day, ZONE)

    def bare(n: int) -> None:
        with sessions() as session:
            flagged = flagged_ranks(*bounds)
            session.scalars(select(flagged.c.site_id).join(Site, Site.id == flagged.c.site_id)
                            .order_by(*list_order(session, flagged)).offset((n % pages) * PAGE_SIZE)
                            .limit(PAGE_SIZE)).all()

    app = create_app(WebConfig(blob_dir=Path(tempfile.gettempdir()) / "no-blobs", timezone=ZONE), engine)
    with TestClient(app, base_url="http://testserver", cookies={"pw_session": cookie}) as client:
        def get(path: str) -> Callable[[int], object]:
            def work(n: int) -> None:
                response = client.get(path.format(day=day, page=n % pages + 1))
                assert response.status_code == 200, response.text[:300]
            return work

        rows = [("bare SQL of a page", bare),
                ("/daily", get("/daily?date={day}&page_no={page}")),
                ("/api/daily", get("/api/daily?date={day}&page_no={page}")),
                ("/api/daily severity", get("/api/daily?date={day}&severity=critical&page_no={page}")),
                ("/api/daily status+ads", get("/api/daily?date={day}&status=open&ads=true")),
                ("/api/daily area", get("/api/daily?date={day}&area=diabetes&page_no={page}"))]
        print(f"  {'request':<24} {'n':>5} {'p50 ms':>9} {'p95 ms':>9}")
        for name, work in rows:
            n = args.requests if name != "/api/daily area" else max(3, args.requests // 20)
            work(0)  # warm caches (the statement cache, the catalogue, the templates)
            times = timed(n, work)
            print(f"  {name:<24} {n:>5} {statistics.median(times):>9.1f} {p95(times):>9.1f}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1, help="days the sites are spread over (1: all on the list)")
    parser.add_argument("--requests", type=int, default=100, help="requests per row")
    parser.add_argument("--postgresql", action="store_true", help="also on a throwaway PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{tmp}/bench.db", args, "SQLite")
    if args.postgresql:
        with throwaway_postgres("pharmwatch-bench-pg-") as url:
            measure(url, args, "PostgreSQL")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
