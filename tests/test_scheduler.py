"""The scheduler: which scans run when, refusing bad cron expressions up front, and a job really scanning."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from pharmwatch.cli import cli
from pharmwatch.config import SettingsError, load_settings
from pharmwatch.scheduler import next_runs, run_scan_process, scheduled_jobs
from storage.db import make_engine, session_factory
from storage.models import ScanRun, SearchQueryRun
from tests.databases import database_url

CONFIG = """
watchlist = ["http://tangan-cure.test/"]
[crawl]
allow_private = ["127.0.0.0/8"]
render_first_page = false
[search]
engines = ["mock"]
pages_per_query = 1
query_sets = [
  {name = "diabetes", queries = ["降糖药"]},
  {name = "gout", queries = ["痛风特效药"], schedule = "30 */6 * * *"},
]
[schedule]
nightly = "0 2 * * *"
"""


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "pharmwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_nightly_scan_covers_the_watchlist_and_sets_without_their_own_schedule(tmp_path: Path) -> None:
    jobs = {job.job_id: job for job in scheduled_jobs(load_settings(write(tmp_path), environ={}))}
    assert jobs["nightly"].args == ["--query-set", "queries", "--query-set", "diabetes"]
    assert jobs["sets-gout"].args == ["--no-watchlist", "--query-set", "gout"]
    assert jobs["sets-gout"].cron == "30 */6 * * *"


def test_next_runs_follow_the_report_timezone(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path), environ={})
    now = datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    runs = {job.job_id: when for job, when in next_runs(settings, now)}
    assert runs["nightly"].isoformat() == "2026-11-29T02:00:00+08:00"
    assert runs["sets-gout"].isoformat() == "2026-11-28T12:30:00+08:00"


def test_a_bad_cron_is_refused_before_anything_is_scheduled(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="nightly: 'every night' is not a 5-field cron"):
        load_settings(write(tmp_path, CONFIG.replace('"0 2 * * *"', '"every night"')), environ={})
    result = CliRunner().invoke(cli, ["--config", str(write(tmp_path, CONFIG.replace('"0 2 * * *"', '"x"'))),
                                      "schedule", "show"], obj={})
    assert result.exit_code == 2 and "cron" in result.output


@pytest.mark.browser
@pytest.mark.slow
def test_a_scheduled_job_runs_a_real_scan_of_its_query_set(demo_web: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("PHARMWATCH_HOME", str(home))
    monkeypatch.setenv("PHARMWATCH_CRAWL__PROXY", f'"{demo_web}"')
    for name in [k for k in os.environ if k.startswith("PHARMWATCH_CONFIG")]:
        monkeypatch.delenv(name)
    gout = next(j for j in scheduled_jobs(load_settings(write(tmp_path), environ={})) if j.job_id == "sets-gout")
    assert run_scan_process(gout.args, write(tmp_path)) == 0
    with session_factory(make_engine(database_url(home)))() as session:
        assert session.scalars(select(ScanRun.status)).all() == ["finished"]
        assert session.scalars(select(SearchQueryRun.query)).all() == ["痛风特效药"]
