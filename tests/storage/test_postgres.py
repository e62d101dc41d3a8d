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
