"""PostgreSQL, the production database: the same migrations, models and a real scan work on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from storage import db
from storage.models import Capture, ScanRun
from tests.conftest import run_cli

pytestmark = [pytest.mark.slow]


def test_migrations_create_the_schema_on_postgresql(postgres_url: str) -> None:
    with db.make_engine(postgres_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    assert db.upgrade(postgres_url)[1] == db.head_revision(postgres_url)
    tables = set(inspect(db.make_engine(postgres_url)).get_table_names())
    assert {"site", "scan_run", "capture", "finding", "cases", "audit_event"} <= tables


@pytest.mark.browser
def test_a_scan_stores_into_postgresql(postgres_url: str, demo_web: str, tmp_path: Path) -> None:
    with db.make_engine(postgres_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    config = tmp_path / "pharmwatch.toml"
    config.write_text(f'database_url = "{postgres_url}"\nwatchlist = ["http://tangan-cure.test/"]\n'
                      '[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\n', encoding="utf-8")
    result = run_cli("scan", home=tmp_path / "home", proxy=demo_web, config=config)
    assert result.returncode == 0, result.stdout + result.stderr
    with db.session_factory(db.make_engine(postgres_url))() as session:
        assert session.scalars(select(ScanRun.status)).all() == ["finished"]
        assert session.scalar(select(Capture).where(Capture.risk == "high").limit(1)) is not None
    report = run_cli("report", "daily", "--format", "json", home=tmp_path / "home", config=config)
    assert report.returncode == 0 and "tangan-cure.test" in report.stdout


def test_one_scheduler_per_postgresql_database_and_each_fire_time_taken_once(postgres_url: str) -> None:
    from datetime import datetime, timedelta

    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from pharmwatch.scheduler_claim import ClaimLost, Holder, SchedulerAlreadyRunning, claim, heartbeat, this_process
    from storage.models import AuditEvent, SchedulerClaim, ScheduleRun, utcnow

    with db.make_engine(postgres_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.upgrade(postgres_url)
    sessions = db.session_factory(db.make_engine(postgres_url))
    first, other = this_process(), Holder("office-pc-2", 4242, utcnow())
    stale_after = timedelta(seconds=2)
    assert claim(sessions, first, stale_after=stale_after) is None
    with pytest.raises(SchedulerAlreadyRunning, match=f"pid {first.pid}, since "):
        claim(sessions, other, stale_after=stale_after)
    with db.transaction(sessions) as session:
        session.execute(update(SchedulerClaim).values(heartbeat_at=utcnow() - timedelta(seconds=5)))
    assert "no heartbeat for 5 s" in (claim(sessions, other, stale_after=stale_after) or "")
    with pytest.raises(ClaimLost):
        heartbeat(sessions, first)
    fire = datetime(2026, 12, 8, 18, 0)
    with db.transaction(sessions) as session:
        assert session.scalar(select(AuditEvent.action)) == "scheduler_takeover"
        session.add_all([ScheduleRun(job_name="nightly", trigger="manual"),
                         ScheduleRun(job_name="nightly", trigger="manual"),  # manual runs have no fire time
                         ScheduleRun(job_name="nightly", trigger="schedule", scheduled_for=fire)])
    with pytest.raises(IntegrityError), db.transaction(sessions) as session:
        session.add(ScheduleRun(job_name="nightly", trigger="catch_up", scheduled_for=fire))
