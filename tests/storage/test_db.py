"""Schema migrations and scan bookkeeping on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from rules.model import FLAGGING_SEVERITIES
from storage import db
from storage.models import Capture, Finding, ScanRun, SearchQueryRun, SerpObservation, Site
from storage.scans import finish_scan_run, start_scan_run
from tests.databases import database_url, schema_differences


@pytest.fixture
def url(tmp_path: Path) -> str:
    return database_url(tmp_path)


def test_upgrade_creates_every_table_and_is_idempotent(url: str) -> None:
    head = db.head_revision(url)
    assert db.upgrade(url) == (None, head)
    assert db.upgrade(url) == (head, head)
    tables = set(inspect(db.make_engine(url)).get_table_names())
    assert {"site", "scan_run", "capture", "finding", "cases", "serp_observation", "search_query_run"} <= tables


def test_an_empty_database_is_reported_as_needing_upgrade(url: str) -> None:
    with pytest.raises(db.SchemaOutOfDate, match="pharmwatch db upgrade"):
        db.ensure_current(db.make_engine(url), url)


def test_the_models_match_the_migrations(url: str) -> None:
    """A model change without a migration fails here (alembic's autogenerate finds a diff)."""
    db.upgrade(url)
    assert schema_differences(url) == []


def test_scan_counts_come_from_stored_rows(url: str) -> None:
    db.upgrade(url)
    sessions = db.session_factory(db.make_engine(url))
    with db.transaction(sessions) as session:
        run = start_scan_run(session, "digest")
        site = Site(domain="tangan-cure.test")
        session.add(site)
        session.flush()
        query = SearchQueryRun(scan_run_id=run.id, engine="mock", query="降糖药", page=1, url="u", status="ok")
        blocked = SearchQueryRun(scan_run_id=run.id, engine="mock", query="x", page=1, url="u2",
                                 status="blocked", reason="安全验证")
        session.add_all([query, blocked])
        session.flush()
        for rank, is_ad in ((1, True), (1, False), (2, False)):
            session.add(SerpObservation(query_run_id=query.id, scan_run_id=run.id, engine="mock", query="降糖药",
                                        page=1, rank=rank, is_ad=is_ad, title="t", snippet="s", url="u",
                                        displayed_url="d"))
        ok = Capture(scan_run_id=run.id, site_id=site.id, url="http://tangan-cure.test/", status_code=200)
        failed = Capture(scan_run_id=run.id, site_id=site.id, url="http://tangan-cure.test/x", error="HTTP 500")
        session.add_all([ok, failed])
        session.flush()
        session.add(Finding(capture_id=ok.id, site_id=site.id, scan_run_id=run.id, rule_id="r", rule_version=1,
                            rule_sha256="0" * 64, title="t", category="disease_cure_claim", severity="high",
                            excerpt="根治糖尿病"))
        run_id = run.id
    with db.transaction(sessions) as session:
        finished = finish_scan_run(session, run_id, flagging_severities=FLAGGING_SEVERITIES)
    assert (finished.queries, finished.results, finished.ads) == (2, 2, 1)
    assert (finished.pages, finished.failures, finished.findings, finished.flagged_sites) == (1, 2, 1, 1)
    assert finished.status == "finished"
    with sessions() as session:
        assert session.get_one(ScanRun, run_id).finished_at is not None


def test_only_a_scan_s_run_is_taken_for_an_interrupted_scan(url: str) -> None:
    # A tip checked now or a case re-checked runs beside a scan, without the scan lock: a scan starting
    # meanwhile must not resume (and write into) that run.
    from storage.scans import interrupted_scan_run

    db.upgrade(url)
    sessions = db.session_factory(db.make_engine(url))
    with db.transaction(sessions) as session:
        killed_scan = start_scan_run(session, "digest")
        start_scan_run(session, "digest", kind="check")
        start_scan_run(session, "digest", kind="recheck")
        assert interrupted_scan_run(session).id == killed_scan.id
        finish_scan_run(session, killed_scan.id, None, flagging_severities=FLAGGING_SEVERITIES)
        assert interrupted_scan_run(session) is None
        with pytest.raises(ValueError, match="unknown run kind"):
            start_scan_run(session, "digest", kind="nightly")
