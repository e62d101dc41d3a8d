"""The scheduler service: catch-up after downtime (once, within the window, else skipped with the reason),
no overlapping runs, time budgets, one scheduler per database, the job commands and the run history.

Timing tests run a real scheduler process (tests/scheduler_child.py) whose jobs are a cheap stand-in
for a scan, on 6-field (per-second) crons; the production path, a real `pharmwatch scan`, is tested
through `schedule run-now` against the demo web, and `schedule run` itself for the claim.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from pharmwatch.cli import cli
from pharmwatch.config import load_settings
from pharmwatch.schedule_jobs import add_job, job_argv
from pharmwatch.scheduler_claim import (
    ClaimLost,
    SchedulerAlreadyRunning,
    claim,
    heartbeat,
    release,
    this_process,
)
from pharmwatch.scheduler_service import decide, run_now
from storage import db
from storage.models import AuditEvent, Capture, Finding, ScanRun, ScheduleJob, SchedulerClaim, ScheduleRun, Site
from tests.conftest import ROOT, cli_env, run_cli
from tests.databases import database_url

CHILD = Path(__file__).resolve().parent / "scheduler_child.py"
SHANGHAI = ZoneInfo("Asia/Shanghai")
STALE = timedelta(seconds=2)


def write_config(tmp_path: Path, **schedule: float) -> Path:
    values = {"catch_up_hours": 1.0, "run_budget_minutes": 1.0, "heartbeat_seconds": 0.5,
              "stale_after_seconds": 2.0, **schedule}
    path = tmp_path / "pharmwatch.toml"
    path.write_text(
        'watchlist = []\n[report]\ntimezone = "UTC"\n[search]\nengines = []\nquery_sets = []\n'
        '[schedule]\nnightly = "0 2 1 1 *"\ndigest = ""\nrecheck = ""\n'
        + "".join(f"{key} = {value}\n" for key, value in values.items()),
        encoding="utf-8")
    return path


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = database_url(tmp_path / "home")
    db.upgrade(url)
    return db.make_engine(url)


def sessions(engine: Engine):  # type: ignore[no-untyped-def]
    return db.session_factory(engine)


def runs(engine: Engine, job: str | None = None) -> list[ScheduleRun]:
    with sessions(engine)() as session:
        query = select(ScheduleRun).order_by(ScheduleRun.id)
        return list(session.scalars(query.where(ScheduleRun.job_name == job) if job else query))


# --- catch-up decisions -----------------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_nothing_is_due_before_the_next_fire_time() -> None:
    assert decide("0 2 * * *", "Asia/Shanghai", at("2026-12-07T02:00"), at("2026-12-08T01:59"),
                  timedelta(hours=6)) is None


def test_a_fire_time_missed_within_the_window_runs_once_and_earlier_ones_coalesce_into_it() -> None:
    decision = decide("0 2 * * *", "Asia/Shanghai", at("2026-12-05T02:00"), at("2026-12-08T05:30"),
                      timedelta(hours=6))
    assert decision is not None and decision.run
    assert decision.fire == at("2026-12-08T02:00") and decision.coalesced == 2
    assert decision.late == timedelta(hours=3, minutes=30)


def test_a_fire_time_older_than_the_window_is_skipped_not_run() -> None:
    decision = decide("0 2 * * *", "Asia/Shanghai", at("2026-12-07T02:00"), at("2026-12-08T08:01"),
                      timedelta(hours=6))
    assert decision is not None and not decision.run and decision.fire == at("2026-12-08T02:00")


def test_six_field_crons_have_seconds_first() -> None:
    decision = decide("*/10 * * * * *", "UTC", datetime(2026, 1, 1, tzinfo=UTC),
                      datetime(2026, 1, 1, 0, 0, 35, tzinfo=UTC), timedelta(hours=1))
    assert decision is not None and decision.fire == datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert decision.coalesced == 2


# --- the claim: one scheduler per database -----------------------------------------------------------


def test_a_second_scheduler_is_refused_and_told_who_holds_the_database(engine: Engine) -> None:
    first = this_process()
    assert claim(sessions(engine), first, stale_after=STALE) is None
    second = first.__class__("office-pc-2", 4242, first.since + timedelta(seconds=1))
    with pytest.raises(SchedulerAlreadyRunning) as refused:
        claim(sessions(engine), second, stale_after=STALE)
    message = str(refused.value)
    assert f"host {socket.gethostname()}, pid {os.getpid()}, since {first.since.isoformat(timespec='seconds')}" \
        in message and "stop it first" in message


def test_a_claim_without_heartbeat_is_taken_over_audited_and_its_holder_learns_it(engine: Engine) -> None:
    old = this_process().__class__("office-pc-1", 999_999, datetime(2026, 12, 1, 1, 0))
    with db.transaction(sessions(engine)) as session:
        session.add(SchedulerClaim(id=1, host=old.host, pid=old.pid, since=old.since,
                                   heartbeat_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=5)))
    me = this_process()
    takeover = claim(sessions(engine), me, stale_after=STALE)
    assert takeover is not None and "office-pc-1, pid 999999" in takeover and "no heartbeat for 5 s" in takeover
    with sessions(engine)() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "scheduler_takeover")).one()
    assert event.details["previous"]["host"] == "office-pc-1" and event.details["new"]["pid"] == os.getpid()
    with pytest.raises(ClaimLost, match="taken over"):
        heartbeat(sessions(engine), old)
    heartbeat(sessions(engine), me)  # the new holder renews it


def test_a_claim_of_a_dead_process_on_this_host_is_taken_over_at_once(engine: Engine) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    with db.transaction(sessions(engine)) as session:
        session.add(SchedulerClaim(id=1, host=socket.gethostname(), pid=dead.pid, since=datetime(2026, 12, 1),
                                   heartbeat_at=datetime.now(UTC).replace(tzinfo=None)))
    takeover = claim(sessions(engine), this_process(), stale_after=timedelta(hours=1))
    assert takeover is not None and f"process {dead.pid} on this host is gone" in takeover


def test_a_released_claim_lets_the_next_scheduler_start(engine: Engine) -> None:
    first = this_process()
    claim(sessions(engine), first, stale_after=STALE)
    release(sessions(engine), first)
    assert claim(sessions(engine), this_process(), stale_after=STALE) is None


# --- job commands and history ------------------------------------------------------------------------


@pytest.fixture
def invoke(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = write_config(tmp_path)

    def run(*args: str):  # type: ignore[no-untyped-def]
        env = {"PHARMWATCH_HOME": str(tmp_path / "home"), "PHARMWATCH_CONFIG": ""}
        return CliRunner().invoke(cli, ["--config", str(config), *args], env=env, obj={})
    return run


def jobs(invoke) -> dict[str, dict]:  # type: ignore[no-untyped-def, type-arg]
    result = invoke("schedule", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return {job["name"]: job for job in json.loads(result.stdout)}


def test_an_admin_adds_pauses_resumes_and_removes_a_job(invoke) -> None:  # type: ignore[no-untyped-def]
    added = invoke("schedule", "add", "gout-weekly", "--cron", "0 3 * * 1", "--query-set", "queries")
    assert added.exit_code == 0, added.output
    job = jobs(invoke)["gout-weekly"]
    assert job["source"] == "admin" and job["args"] == ["--no-watchlist", "--no-tips", "--query-set", "queries"]
    assert job["next_run"].endswith("T03:00:00+00:00") and job["paused"] is False
    assert invoke("schedule", "pause", "gout-weekly").exit_code == 0
    assert jobs(invoke)["gout-weekly"]["paused"] is True and jobs(invoke)["gout-weekly"]["next_run"] is None
    assert invoke("schedule", "resume", "gout-weekly").exit_code == 0
    assert jobs(invoke)["gout-weekly"]["next_run"] is not None
    assert invoke("schedule", "remove", "gout-weekly").exit_code == 0
    assert set(jobs(invoke)) == {"nightly"}
    table = invoke("schedule", "list").stdout.splitlines()
    assert table[0].split()[:5] == ["name", "source", "command", "cron", "paused"] and table[-1] == "1 job(s)"


def test_the_digest_and_the_daily_rechecks_are_jobs_of_their_own_commands(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8").replace('digest = ""\nrecheck = ""\n', ""), encoding="utf-8")
    env = {"PHARMWATCH_HOME": str(tmp_path / "home"), "PHARMWATCH_CONFIG": ""}
    listed = CliRunner().invoke(cli, ["--config", str(config), "schedule", "list", "--format", "json"], env=env, obj={})
    by_name = {job["name"]: job for job in json.loads(listed.stdout)}
    assert {name: (job["command"], job["cron"], job["args"]) for name, job in by_name.items()} == {
        "nightly": ("scan", "0 2 1 1 *", ["--query-set", "queries"]),
        "orders-due": ("orders-due", "0 9 * * *", []),
        "blacklist-recheck": ("scan", "0 9 * * *", ["--no-search", "--no-watchlist", "--no-tips", "--blacklisted"]),
        "digest": ("digest", "30 7 * * *", []),
    }
    with db.session_factory(db.make_engine(database_url(tmp_path / "home")))() as session:
        argv = {job.name: job_argv(job) for job in session.scalars(select(ScheduleJob))}
    assert argv["digest"] == ["alerts", "digest", "--send"]
    assert argv["orders-due"] == ["order", "check-due", "--by", "scheduler"]
    assert argv["blacklist-recheck"][:2] == ["scan", "--no-search"]


@pytest.mark.parametrize("args, message", [
    (["x", "--cron", "every night", "--site", "http://a.test/"], "not a cron expression"),
    (["x", "--cron", "0 3 * * *"], "either --query-set NAME... or --site URL..."),
    (["x", "--cron", "0 3 * * *", "--query-set", "nope"], "unknown query set(s) ['nope']"),
    (["x", "--cron", "0 3 * * *", "--site", "tangan-cure.test"], "give an http:// or https:// URL"),
    (["nightly", "--cron", "0 3 * * *", "--site", "http://a.test/"], "comes from the settings file"),
])
def test_a_job_that_cannot_run_is_refused_when_added(invoke, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("schedule", "add", *args)
    assert result.exit_code == 2 and message in result.output


def test_settings_jobs_are_paused_not_removed_and_unknown_jobs_are_named(invoke) -> None:  # type: ignore[no-untyped-def]
    refused = invoke("schedule", "remove", "nightly")
    assert refused.exit_code == 2 and "comes from the settings file; change it there, or pause it" in refused.output
    unknown = invoke("schedule", "pause", "nigthly")
    assert unknown.exit_code == 2 and "no job named 'nigthly'; jobs: nightly" in unknown.output


def test_history_shows_each_runs_start_end_outcome_counts_and_reason(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert invoke("schedule", "list").exit_code == 0  # creates the database
    engine = db.make_engine(database_url(tmp_path / "home"))
    start = datetime(2026, 12, 7, 18, 0)
    with db.transaction(sessions(engine)) as session:
        scan = ScanRun(status="finished", pages=12, findings=3)
        session.add(scan)
        session.flush()
        session.add_all([
            ScheduleRun(job_name="nightly", trigger="catch_up", scheduled_for=start, started_at=start,
                        finished_at=start + timedelta(minutes=5), outcome="finished", scan_run_id=scan.id,
                        pages=12, findings=3, exit_status=0),
            ScheduleRun(job_name="shop", trigger="schedule", scheduled_for=start + timedelta(days=1),
                        finished_at=start + timedelta(days=1, hours=7), outcome="skipped",
                        reason="missed: fire time passed 7 h 0 min ago, beyond [schedule] catch_up_hours = 6"),
        ])
    newest, oldest = json.loads(invoke("schedule", "history", "--format", "json").stdout)
    assert (newest["job"], newest["outcome"], newest["started"]) == ("shop", "skipped", None)
    assert "catch_up_hours" in newest["reason"]
    assert oldest == {"id": 1, "job": "nightly", "trigger": "catch_up", "scheduled_for": "2026-12-07T18:00:00+00:00",
                      "started": "2026-12-07T18:00:00+00:00", "ended": "2026-12-07T18:05:00+00:00",
                      "outcome": "finished", "seconds": 300.0, "pages": 12, "findings": 3, "scan_run": scan.id,
                      "exit_status": 0, "reason": None}
    assert [r["job"] for r in json.loads(invoke("schedule", "history", "--job", "nightly", "--format",
                                                "json").stdout)] == ["nightly"]
    header, row, count = invoke("schedule", "history", "--limit", "1").stdout.splitlines()
    assert header.split()[:7] == ["id", "job", "trigger", "scheduled_for", "started", "ended", "outcome"]
    assert row.split()[:3] == ["2", "shop", "schedule"] and "skipped" in row and count == "1 run(s)"
    assert "last_outcome" in invoke("schedule", "list").stdout and jobs(invoke)["nightly"]["last_outcome"] == \
        "finished"


def test_a_run_whose_command_cannot_start_is_recorded_failed_with_why(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert invoke("schedule", "add", "shop", "--cron", "0 4 * * *", "--site", "http://tangan-cure.test/").exit_code == 0
    settings = load_settings(tmp_path / "pharmwatch.toml", environ={"PHARMWATCH_HOME": str(tmp_path / "home")})
    engine = db.make_engine(settings.db_url)
    run = run_now(settings, engine, "shop", command=lambda args: [str(tmp_path / "no-such-program"), *args])
    assert run.outcome == "failed" and run.trigger == "manual" and run.started_at is not None
    assert run.reason is not None and run.reason.startswith(f"could not start {tmp_path / 'no-such-program'}: ")


# --- real scheduler processes ------------------------------------------------------------------------


LIVE: list[SchedulerProcess] = []


class SchedulerProcess:
    """A real scheduler process (tests/scheduler_child.py) with its stderr in a file."""

    def __init__(self, tmp_path: Path, config: Path, job_log: Path, sleep: float,
                 env: dict[str, str] | None = None) -> None:
        self.err = tmp_path / f"scheduler-{time.time_ns()}.err"
        env = {**cli_env(tmp_path / "home"), "PYTHONPATH": str(ROOT), **(env or {})}
        LIVE.append(self)
        self.process = subprocess.Popen([sys.executable, str(CHILD), "serve", str(config), str(job_log), str(sleep)],
                                        env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=self.err.open("wb"))

    def output(self) -> str:
        return self.err.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 30) -> None:
        wait_until(lambda: text in self.output() or self.process.poll() is not None, timeout)
        assert text in self.output(), self.output()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=30)


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Callable[..., tuple[Path, Engine]]]:
    """A data folder, its settings and database; kills every scheduler process a test leaves running."""
    def make(**schedule: float) -> tuple[Path, Engine]:
        config = write_config(tmp_path, **schedule)
        (tmp_path / "home").mkdir(exist_ok=True)  # the data folder exists whichever database holds the rows
        url = database_url(tmp_path / "home")
        db.upgrade(url)
        return config, db.make_engine(url)

    yield make
    while LIVE:
        LIVE.pop().stop(signal.SIGKILL)


def add(engine: Engine, config: Path, tmp_path: Path, name: str, cron: str) -> None:
    settings = load_settings(config, environ={"PHARMWATCH_HOME": str(tmp_path / "home")})
    with db.transaction(sessions(engine)) as session:
        add_job(session, settings, name=name, cron=cron, query_sets=[], sites=["http://tangan-cure.test/"],
                by="test")


def daily_at(when: datetime) -> str:
    return f"{when.second} {when.minute} {when.hour} * * *"


def job_lines(job_log: Path, kind: str) -> list[list[str]]:
    if not job_log.exists():
        return []
    return [line.split() for line in job_log.read_text().splitlines() if line.startswith(kind)]


@pytest.mark.slow
def test_a_run_missed_while_the_scheduler_was_down_runs_once_when_it_comes_back(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, engine = world(catch_up_hours=1)
    fire = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)
    add(engine, config, tmp_path, "shop", daily_at(fire))
    job_log = tmp_path / "jobs.log"
    first = SchedulerProcess(tmp_path, config, job_log, 0.3)
    first.wait_for("scheduler claimed the database")
    first.stop(signal.SIGKILL)  # the machine goes down before the fire time, leaving its claim behind
    wait_until(lambda: datetime.now(UTC) > fire + timedelta(seconds=1.5), 15)
    assert job_lines(job_log, "start") == []
    second = SchedulerProcess(tmp_path, config, job_log, 0.3)
    second.wait_for(f"process {first.process.pid} on this host is gone")  # the dead claim is taken over
    wait_until(lambda: len(job_lines(job_log, "end")) == 1, 20)
    time.sleep(2)  # and it does not run again
    assert second.stop() == 0
    third = SchedulerProcess(tmp_path, config, job_log, 0.3)  # nor after another restart
    third.wait_for("job(s)")
    time.sleep(2)
    assert third.stop() == 0
    (run,) = runs(engine, "shop")
    assert (run.trigger, run.outcome, run.scheduled_for) == ("catch_up", "finished", fire.replace(tzinfo=None))
    assert len(job_lines(job_log, "start")) == 1
    with sessions(engine)() as session:
        assert session.scalar(select(SchedulerClaim)) is None  # released on a clean stop
        assert session.scalars(select(AuditEvent.action)).all().count("scheduler_takeover") == 1


@pytest.mark.slow
def test_a_run_missed_by_more_than_the_catch_up_window_is_recorded_skipped(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, engine = world(catch_up_hours=0.0005)  # 1.8 s
    fire = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    add(engine, config, tmp_path, "shop", daily_at(fire))
    wait_until(lambda: datetime.now(UTC) > fire + timedelta(seconds=3), 15)
    job_log = tmp_path / "jobs.log"
    scheduler = SchedulerProcess(tmp_path, config, job_log, 0.3)
    scheduler.wait_for("shop: skipped")
    time.sleep(1)
    assert scheduler.stop() == 0
    (run,) = runs(engine, "shop")
    assert run.outcome == "skipped" and run.started_at is None and run.scheduled_for == fire.replace(tzinfo=None)
    assert "beyond [schedule] catch_up_hours = 0.0005 (no scheduler was running)" in (run.reason or "")
    assert job_lines(job_log, "start") == []


@pytest.mark.slow
def test_runs_never_overlap_neither_of_one_job_nor_of_two(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, engine = world()
    add(engine, config, tmp_path, "every-second", "* * * * * *")
    add(engine, config, tmp_path, "also-every-second", "* * * * * *")
    job_log = tmp_path / "jobs.log"
    scheduler = SchedulerProcess(tmp_path, config, job_log, 1.0)
    wait_until(lambda: len(job_lines(job_log, "end")) >= 4, 40)
    assert scheduler.stop() == 0
    events = sorted([(float(t), kind) for kind, _pid, t, *_ in job_lines(job_log, "start") + job_lines(job_log, "end")])
    depth = 0
    for _, kind in events:
        depth += 1 if kind == "start" else -1
        assert depth <= 1, events  # never two jobs at once
    recorded = runs(engine)
    assert {run.job_name for run in recorded} == {"every-second", "also-every-second"}
    for earlier, later in zip(recorded, recorded[1:], strict=False):
        assert earlier.finished_at is not None and later.started_at is not None
        assert later.started_at >= earlier.finished_at
    fires = [(run.job_name, run.scheduled_for) for run in recorded]
    assert len(fires) == len(set(fires))  # no fire time twice
    assert any("earlier fire time(s) coalesced into this run" in (run.reason or "") for run in recorded)


@pytest.mark.slow
def test_a_due_job_waits_while_another_scan_holds_the_scan_lock(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, engine = world()
    add(engine, config, tmp_path, "every-second", "* * * * * *")
    manual_scan = subprocess.Popen(["sleep", "60"])  # stands for a `pharmwatch scan` someone started by hand
    (tmp_path / "home" / "scan.lock").write_text(str(manual_scan.pid))
    job_log = tmp_path / "jobs.log"
    scheduler = SchedulerProcess(tmp_path, config, job_log, 0.2)
    scheduler.wait_for(f"every-second: due, waiting: another scan (pid {manual_scan.pid}) holds the scan lock")
    time.sleep(1.5)
    assert job_lines(job_log, "start") == [] and runs(engine) == []
    manual_scan.kill()
    manual_scan.wait()
    # the run's record, not the job's last log line: stopping the scheduler between the two stops the run
    wait_until(lambda: any(run.outcome != "running" for run in runs(engine)), 20)
    assert scheduler.stop() == 0
    assert runs(engine)[0].outcome == "finished"


@pytest.mark.slow
def test_a_run_over_its_budget_is_stopped_and_recorded_with_what_it_finished(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, engine = world(run_budget_minutes=0.02)  # 1.2 s
    with db.transaction(sessions(engine)) as session:  # what the scan had stored when it was stopped
        scan = ScanRun(status="running")
        site = Site(domain="tangan-cure.test")
        session.add_all([scan, site])
        session.flush()
        pages = [Capture(scan_run_id=scan.id, site_id=site.id, url=f"http://tangan-cure.test/{i}", status_code=200)
                 for i in range(4)]
        session.add_all(pages)
        session.flush()
        session.add_all([Finding(capture_id=pages[i].id, site_id=site.id, scan_run_id=scan.id, rule_id="r",
                                 rule_version=1, rule_sha256="0" * 64, title="t", category="disease_cure_claim",
                                 severity="high", excerpt="根治糖尿病") for i in range(2)])
    fire = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    add(engine, config, tmp_path, "shop", daily_at(fire))
    job_log = tmp_path / "jobs.log"
    scheduler = SchedulerProcess(tmp_path, config, job_log, 60,
                                 env={"FAKE_SCAN_ANNOUNCE": f"starting scan {scan.id}: 0 searches"})
    scheduler.wait_for("partial", timeout=30)
    assert scheduler.stop() == 0
    (run,) = runs(engine, "shop")
    assert run.outcome == "partial" and (run.pages, run.findings, run.scan_run_id) == (4, 2, scan.id)
    assert run.reason == ("exceeded its time budget of 0.02 min ([schedule] run_budget_minutes); "
                          "the next run resumes its scan")
    ((_, pid, *_),) = job_lines(job_log, "start")
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)
    assert job_lines(job_log, "end") == []


@pytest.mark.slow
def test_a_killed_run_is_recorded_failed_with_the_signal(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, engine = world()
    fire = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    add(engine, config, tmp_path, "shop", daily_at(fire))
    job_log = tmp_path / "jobs.log"
    scheduler = SchedulerProcess(tmp_path, config, job_log, 60)
    wait_until(lambda: len(job_lines(job_log, "start")) == 1, 20)
    os.kill(int(job_lines(job_log, "start")[0][1]), signal.SIGKILL)  # the OOM killer, an operator
    scheduler.wait_for("failed")
    assert scheduler.stop() == 0
    (run,) = runs(engine, "shop")
    assert (run.outcome, run.reason, run.exit_status) == ("failed", "killed by SIGKILL", -9)


@pytest.mark.slow
def test_stopping_the_scheduler_stops_its_run_records_it_and_releases_the_claim(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, engine = world()
    fire = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    add(engine, config, tmp_path, "shop", daily_at(fire))
    job_log = tmp_path / "jobs.log"
    scheduler = SchedulerProcess(tmp_path, config, job_log, 60)
    wait_until(lambda: len(job_lines(job_log, "start")) == 1, 20)
    assert scheduler.stop(signal.SIGTERM) == 0  # systemctl stop
    (run,) = runs(engine, "shop")
    assert (run.outcome, run.reason) == ("failed", "stopped with the scheduler")
    with pytest.raises(ProcessLookupError):
        os.kill(int(job_lines(job_log, "start")[0][1]), 0)
    with sessions(engine)() as session:
        assert session.scalar(select(SchedulerClaim)) is None


@pytest.mark.slow
def test_pharmwatch_schedule_run_refuses_a_second_scheduler_naming_the_first(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    env = cli_env(tmp_path / "home")
    err = tmp_path / "first.err"
    first = subprocess.Popen([sys.executable, "-m", "pharmwatch", "--config", str(config), "schedule", "run"],
                             env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err.open("wb"))
    try:
        wait_until(lambda: "scheduler claimed the database" in err.read_text(), 60)
        second = run_cli("schedule", "run", home=tmp_path / "home", config=config, timeout=60)
        assert second.returncode == 2
        assert f"another scheduler holds this database: host {socket.gethostname()}, pid {first.pid}, since " \
            in second.stderr and "stop it first" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    engine = db.make_engine(database_url(tmp_path / "home"))
    with sessions(engine)() as session:
        assert session.scalar(select(SchedulerClaim)) is None


@pytest.mark.browser
@pytest.mark.slow
def test_run_now_runs_a_real_scan_and_records_its_pages_and_findings(demo_web: str, tmp_path: Path) -> None:
    config = tmp_path / "pharmwatch.toml"
    config.write_text('[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\n'
                      '[search]\nengines = ["mock"]\n', encoding="utf-8")
    home = tmp_path / "home"
    added = run_cli("schedule", "add", "tangan", "--cron", "0 4 * * *", "--site", "http://tangan-cure.test/",
                    home=home, config=config)
    assert added.returncode == 0, added.stderr
    result = run_cli("schedule", "run-now", "tangan", "--format", "json", home=home, proxy=demo_web, config=config)
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = json.loads(result.stdout)
    assert run["trigger"] == "manual" and run["outcome"] == "finished" and run["scan_run"] == 1
    assert run["pages"] >= 1 and run["findings"] >= 1
    assert (home / "logs" / "schedule" / f"run-{run['id']}.log").read_text().count("scan 1 finished") == 1


@pytest.mark.browser
@pytest.mark.slow
def test_a_scan_orphaned_by_a_killed_scheduler_is_stopped_at_restart_and_resumed_without_duplicates(
        demo_web: str, tmp_path: Path) -> None:
    config = tmp_path / "pharmwatch.toml"
    config.write_text('[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\n'
                      '[report]\ntimezone = "UTC"\n[search]\nengines = []\nquery_sets = []\n'
                      '[schedule]\nnightly = "0 2 1 1 *"\ndigest = ""\nrecheck = ""\nheartbeat_seconds = 1\n'
                      'stale_after_seconds = 5\n',
                      encoding="utf-8")
    home = tmp_path / "home"
    sites = [arg for url in (line.split('"')[1] for line in (ROOT / "demo" / "pharmwatch.toml").read_text()
                             .splitlines() if line.strip().startswith('"http://')) for arg in ("--site", url)]
    fire = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    added = run_cli("schedule", "add", "sites", "--cron", daily_at(fire), *sites, home=home, config=config)
    assert added.returncode == 0, added.stderr
    env = cli_env(home, demo_web)

    def start(name: str) -> tuple[subprocess.Popen[bytes], Path]:
        err = tmp_path / name
        return subprocess.Popen([sys.executable, "-m", "pharmwatch", "--config", str(config), "schedule", "run"],
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err.open("wb")), err

    log = home / "logs" / "schedule" / "run-1.log"
    first, _ = start("first.err")
    try:
        wait_until(lambda: log.exists() and log.read_text().count("[page]") >= 3, 120)
    finally:
        first.kill()  # the machine's scheduler dies; its scan goes on as an orphan
        first.wait()
    second, err = start("second.err")
    try:
        wait_until(lambda: "run 1 (sites) recorded" in err.read_text(), 60)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    engine = db.make_engine(database_url(home))
    (orphaned,) = runs(engine)
    assert orphaned.outcome in {"partial", "finished"} and orphaned.scan_run_id == 1, orphaned.reason
    assert orphaned.pages and orphaned.pages >= 3
    resumed = run_cli("schedule", "run-now", "sites", "--format", "json", home=home, proxy=demo_web, config=config)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    (run,) = json.loads(resumed.stdout)
    assert run["scan_run"] == 1 and run["outcome"] == "finished"
    if orphaned.outcome == "partial":
        assert "resuming interrupted scan 1" in (home / "logs" / "schedule" / f"run-{run['id']}.log").read_text()
    with sessions(engine)() as session:
        captures = session.execute(select(Capture.url, Capture.rendered, Capture.error)
                                   .where(Capture.scan_run_id == 1)).all()
        findings = session.execute(select(Finding.capture_id, Finding.rule_id)).all()
        assert session.scalars(select(ScanRun.status)).all() == ["finished"]
    assert len(captures) == len(set(captures)) and len(findings) == len(set(findings))
    assert run["pages"] == len([c for c in captures if c.error is None])  # one scan, counted once
