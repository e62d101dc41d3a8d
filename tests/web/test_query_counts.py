"""The daily list and the case list cost a fixed number of SQL statements per page, whatever the number of
flagged sites (no query per site): counted with SQLAlchemy's `before_cursor_execute` on worlds of two sizes,
generated as bench/web_daily.py generates its 100,000 sites."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from bench.web_daily import populate
from storage import db
from tests.databases import database_url
from web import auth
from web.app import WebConfig, create_app

DAY = date(2026, 12, 1)
PATHS = [f"/api/daily?date={DAY}", f"/daily?date={DAY}", f"/api/daily?date={DAY}&page_no=2",
         f"/api/daily?date={DAY}&severity=critical&status=open&ads=true&novelty=new&category=illegal_additive",
         f"/daily?date={DAY}&area=diabetes", "/api/cases", "/cases"]


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements_per_page(tmp: Path, sites: int) -> dict[str, int]:
    url = database_url(tmp)
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.session_factory(engine)
    populate(sessions, sites, sites * 5, 1, DAY)
    with db.transaction(sessions) as session:
        user = auth.add_user(session, "mona", "monitor", "correct horse battery", actor="test")
        cookie = auth.start_session(session, user, hours=1)
    app = create_app(WebConfig(blob_dir=tmp / "blobs"), engine)
    counts = {}
    with TestClient(app, base_url="http://testserver", cookies={"pw_session": cookie}) as client:
        for path in PATHS:
            client.get(path)  # once before counting: the session's last_seen write happens once a minute
            with counting(engine) as statements:
                response = client.get(path)
            assert response.status_code == 200, response.text[:200]
            counts[path] = len(statements)
    engine.dispose()
    return counts


def test_a_page_costs_the_same_queries_for_120_or_600_flagged_sites(tmp_path: Path) -> None:
    small = _statements_per_page(tmp_path / "small", 120)
    large = _statements_per_page(tmp_path / "large", 600)
    assert small == large
    for path, count in small.items():
        assert count <= 20, (path, count)  # a page of the list is a handful of queries, not one per site


@pytest.mark.parametrize("sites", [120])
def test_the_paged_list_is_the_reports_list(tmp_path: Path, sites: int) -> None:
    """Paging in SQL changes nothing of the list: page after page, the entries of `pharmwatch report daily`."""
    from cases.daily import daily_report
    from web.routes.daily import PAGE_SIZE

    url = database_url(tmp_path)
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.session_factory(engine)
    populate(sessions, sites, sites * 5, 1, DAY)
    with db.transaction(sessions) as session:
        user = auth.add_user(session, "mona", "monitor", "correct horse battery", actor="test")
        cookie = auth.start_session(session, user, hours=1)
    with sessions() as session:
        report = daily_report(session, DAY, "Asia/Shanghai", tmp_path / "blobs").to_json()["sites"]
    app = create_app(WebConfig(blob_dir=tmp_path / "blobs"), engine)
    listed = []
    with TestClient(app, base_url="http://testserver", cookies={"pw_session": cookie}) as client:
        for page_no in range(1, -(-sites // PAGE_SIZE) + 1):
            data = client.get(f"/api/daily?date={DAY}&page_no={page_no}").json()["data"]
            assert data["total"] == data["flagged"] == sites
            listed += [row["site"] for row in data["rows"]]
        critical = client.get(f"/api/daily?date={DAY}&severity=critical").json()["data"]
    assert listed == report
    assert critical["total"] == sum(site["risk"] == "critical" for site in report)
    assert [row["site"] for row in critical["rows"]] == [s for s in report if s["risk"] == "critical"][:PAGE_SIZE]
    engine.dispose()
