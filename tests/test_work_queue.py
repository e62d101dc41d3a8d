"""The distributed scan's queue without a server: how a run's searches and targets become units, and the refusal
of SQLite (which no second machine can share) by `scan --distributed` and `worker`, naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pharmwatch.cli import cli
from pharmwatch.exit_codes import ExitCode
from pharmwatch.work_queue import (
    NeedsPostgres,
    SearchUnit,
    SiteUnit,
    engine_lock,
    job_args,
    require_postgres,
    search_job_args,
    search_units,
    site_units,
)


def test_targets_become_one_unit_per_site_in_first_seen_order_and_jobs_carry_sites_and_budget() -> None:
    urls = ["http://shop.tangan-cure.com.cn/tip-page", "http://kangjian-pharmacy.test/",
            "http://tangan-cure.com.cn/", "http://kangjian-pharmacy.test/", "mailto:nobody@example.com"]
    units = site_units(7, urls, max_pages=10)
    assert units == [
        SiteUnit(7, "tangan-cure.com.cn",
                 ("http://shop.tangan-cure.com.cn/tip-page", "http://tangan-cure.com.cn/"), 10),
        SiteUnit(7, "kangjian-pharmacy.test", ("http://kangjian-pharmacy.test/",), 10),
    ]
    assert job_args(units) == {"run_id": 7, "max_pages": 10, "sites": [
        ["tangan-cure.com.cn", ["http://shop.tangan-cure.com.cn/tip-page", "http://tangan-cure.com.cn/"]],
        ["kangjian-pharmacy.test", ["http://kangjian-pharmacy.test/"]]]}


def test_a_search_plan_becomes_one_unit_per_engine_and_query_with_its_most_pages() -> None:
    plan = [("baidu", "降糖药", 2), ("sogou", "降糖药", 2), ("baidu", "壮阳药", 1), ("baidu", "降糖药", 3)]
    units = search_units(4, plan)
    assert units == [SearchUnit(4, "baidu", "降糖药", 3), SearchUnit(4, "sogou", "降糖药", 2),
                     SearchUnit(4, "baidu", "壮阳药", 1)]
    # A job is queries of one engine: it holds that engine's lock while it runs.
    assert search_job_args([units[0], units[2]]) == {
        "run_id": 4, "engine": "baidu", "queries": [["降糖药", 3], ["壮阳药", 1]]}
    with pytest.raises(ValueError, match="one engine"):
        search_job_args(units[:2])
    assert engine_lock("baidu") != engine_lock("sogou")


def test_only_postgresql_can_hold_the_queue() -> None:
    require_postgres("postgresql+psycopg://pharmwatch@db.internal/pharmwatch")
    with pytest.raises(NeedsPostgres, match="database_url"):
        require_postgres("sqlite:////var/lib/pharmwatch/pharmwatch.db")


@pytest.mark.parametrize("args", [["scan", "--distributed", "--site", "http://tangan-cure.com.cn/"], ["worker"]])
def test_distributed_commands_refuse_sqlite_and_name_the_fix(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, args, env={"PHARMWATCH_HOME": str(tmp_path), "PHARMWATCH_CONFIG": ""}, obj={})
    assert result.exit_code == ExitCode.FAILED
    assert "need a PostgreSQL database" in result.output and 'database_url = "postgresql+psycopg://' in result.output
    assert not (tmp_path / "pharmwatch.db").exists()  # refused before touching anything


@pytest.mark.slow
def test_the_queue_schema_migrates_up_down_and_up_on_postgresql(postgres_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    from storage import db

    def queue_objects() -> tuple[list[str], int]:
        engine = db.make_engine(postgres_url)
        with engine.connect() as connection:
            leftovers = connection.execute(text(
                "SELECT (SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%')"
                " + (SELECT count(*) FROM pg_type WHERE typname LIKE 'procrastinate%')")).scalar_one()
        tables = sorted(t for t in inspect(engine).get_table_names() if t.startswith("procrastinate_"))
        return tables, leftovers

    with db.make_engine(postgres_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.upgrade(postgres_url)
    assert queue_objects()[0] == ["procrastinate_events", "procrastinate_jobs", "procrastinate_periodic_defers",
                                  "procrastinate_workers"]
    command.downgrade(db.alembic_config(postgres_url), "0014")
    assert queue_objects() == ([], 0)
    db.upgrade(postgres_url)
    assert len(queue_objects()[0]) == 4


@pytest.mark.slow
def test_a_search_is_queued_again_only_if_its_job_failed_and_each_engine_gets_its_own_lock(
        postgres_url: str) -> None:
    from sqlalchemy import text

    from pharmwatch.work_queue import queue_app, queue_searches, search_statuses
    from storage import db

    with db.make_engine(postgres_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.upgrade(postgres_url)
    engine, app = db.make_engine(postgres_url), queue_app(postgres_url)
    units = search_units(3, [("baidu", "降糖药", 2), ("baidu", "壮阳药", 2), ("sogou", "降糖药", 2)])
    assert queue_searches(app, engine, units, per_job=2) == 3
    with engine.begin() as connection:
        jobs = connection.execute(text("SELECT lock, args FROM procrastinate_jobs ORDER BY id")).all()
        assert [(lock, args["queries"]) for lock, args in jobs] == [
            ("pharmwatch-search:baidu", [["降糖药", 2], ["壮阳药", 2]]),
            ("pharmwatch-search:sogou", [["降糖药", 2]])]
        connection.execute(text("UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'engine' = 'sogou'"))
    # The resumed scan: the todo job is left alone, the failed one queued again (a job of its own).
    assert queue_searches(app, engine, units, per_job=2) == 1
    assert search_statuses(engine, 3) == {("baidu", "降糖药"): "todo", ("baidu", "壮阳药"): "todo",
                                          ("sogou", "降糖药"): "todo"}
    assert queue_searches(app, engine, units, per_job=2) == 0
