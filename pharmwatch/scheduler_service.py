"""The scheduler service (`pharmwatch schedule run`): claim the database, then run due jobs, one at a time.

Each tick it renews its claim (pharmwatch.scheduler_claim), watches the running child (budget,
outcome: pharmwatch.schedule_runs) and asks every job whether a fire time has passed since the
last one it dealt with (`decide`). The newest passed fire time runs once if it is at most
`[schedule] catch_up_hours` old, earlier ones coalesce into it; an older one is recorded skipped
with the reason. Taking a fire time and recording it happen in one transaction, so a fire time
runs at most once even across crashes, and a run missed while no scheduler was up is not lost.

Runs never overlap: one child at a time, and none while another process holds the scan lock or a
`run-now` is going; a due job waits (within its window) until the way is clear, and of several
waiting jobs the one due longest goes first (no job starves behind a frequent one).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from pharmwatch.config import Settings
from pharmwatch.cron import cron_trigger, fire_times
from pharmwatch.scan_lock import ScanLock
from pharmwatch.schedule_jobs import job_argv, sync_settings_jobs
from pharmwatch.schedule_runs import (
    RunningChild,
    close_interrupted_runs,
    job_command,
    live_runs,
    poll_run,
    record_skip,
    start_run,
    stop,
    wait_run,
)
from pharmwatch.scheduler_claim import Holder, claim, heartbeat, release, this_process
from storage.db import session_factory, transaction
from storage.models import ScheduleJob, ScheduleRun, utcnow

UTC = ZoneInfo("UTC")
#: How often the scheduler sends what is due in the alert outbox (its own thread).
DELIVERY_SECONDS = 60.0
Command = Callable[[list[str]], list[str]]  # a job's `pharmwatch` arguments (ScheduledJob.argv) -> the child's argv


@dataclass(frozen=True)
class Decision:
    fire: datetime  # the newest fire time that has passed (aware)
    run: bool  # False: older than the catch-up window, recorded skipped
    coalesced: int  # earlier passed fire times folded into this one
    late: timedelta
    waiting_since: datetime  # the oldest passed fire time: who waited longest goes first


def decide(cron: str, timezone: str, last_fire: datetime, now: datetime, window: timedelta) -> Decision | None:
    """What to do about a job whose last handled fire time is `last_fire` (aware times); None: nothing due."""
    passed = fire_times(cron_trigger(cron, timezone), last_fire, now)
    if not passed:
        return None
    late = now - passed[-1]
    return Decision(passed[-1], late <= window, len(passed) - 1, late, passed[0])


def log_dir(settings: Settings) -> Path:
    return settings.home / "logs" / "schedule"


class Scheduler:
    """One scheduler process. `command` turns scan arguments into the child's argv (default: the real
    `pharmwatch scan`; tests give a cheap stand-in)."""

    def __init__(self, settings: Settings, engine: Engine, *, config_file: Path | None = None,
                 command: Command | None = None, tick_seconds: float = 1.0,
                 say: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.command: Command = command or (lambda argv: job_command(argv, config_file))
        self.tick_seconds = tick_seconds
        self.say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.window = timedelta(hours=settings.schedule.catch_up_hours)
        self.stop_event = threading.Event()
        self.child: RunningChild | None = None
        self.me: Holder = this_process()
        self.waiting: dict[str, str] = {}  # job → why it has not started yet
        self.delivery: threading.Thread | None = None  # sending the outbox, beside the runs

    def serve(self) -> None:
        """Claim the database (SchedulerAlreadyRunning if another scheduler holds it) and run until stopped."""
        self.me = this_process()
        stale_after = timedelta(seconds=self.settings.schedule.stale_after_seconds)
        takeover = claim(self.sessions, self.me, stale_after=stale_after)
        self.say(f"scheduler claimed the database: {self.me.describe()}")
        if takeover:
            self.say(takeover)
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop_event.set())
        try:
            for run in close_interrupted_runs(self.sessions, log_dir(self.settings)):
                self.say(f"run {run.id} ({run.job_name}) recorded {run.outcome}: {run.reason}")
            with transaction(self.sessions) as session:
                jobs = sync_settings_jobs(session, self.settings)
                self.say(f"{len(jobs)} job(s): {', '.join(job.name for job in jobs)}")
            last_beat, last_delivery = time.monotonic(), float("-inf")
            while not self.stop_event.is_set():
                if time.monotonic() - last_beat >= self.settings.schedule.heartbeat_seconds:
                    heartbeat(self.sessions, self.me)  # ClaimLost ends the loop: never two schedulers
                    last_beat = time.monotonic()
                if time.monotonic() - last_delivery >= DELIVERY_SECONDS and not (self.delivery and
                                                                                 self.delivery.is_alive()):
                    self.delivery = threading.Thread(target=self.deliver, name="outbox", daemon=True)
                    self.delivery.start()
                    last_delivery = time.monotonic()
                self.tick(datetime.now(UTC))
                self.stop_event.wait(self.tick_seconds)
        finally:
            self.shutdown()

    def deliver(self) -> None:
        """Send what is due in the alert outbox (retries with back-off included); never stops the scheduler."""
        from pharmwatch.alerts_cli import deliver_due

        try:
            line = deliver_due(self.settings, self.sessions)
        except Exception as exc:  # noqa: BLE001 - a broken channel must not stop the scans
            line = f"alerts: delivery failed: {type(exc).__name__}: {exc}"
        if line:
            self.say(line)

    def tick(self, now: datetime) -> None:
        if self.child is not None and (run := poll_run(self.sessions, self.child)) is not None:
            self.say(f"run {run.id} ({run.job_name}) {run.outcome}" + (f": {run.reason}" if run.reason else ""))
            self.child = None
        due: list[tuple[Decision, ScheduleJob]] = []
        with self.sessions() as session:
            jobs = list(session.scalars(select(ScheduleJob).where(ScheduleJob.paused.is_(False))
                                        .order_by(ScheduleJob.id)))
        for job in jobs:
            last = (job.last_fire_at or utcnow()).replace(tzinfo=UTC)
            decision = decide(job.cron, self.settings.report.timezone, last, now, self.window)
            if decision is None:
                continue
            if decision.run:
                due.append((decision, job))
                continue
            waited = self.waiting.pop(job.name, None)
            fired = decision.fire.astimezone(ZoneInfo(self.settings.report.timezone)).isoformat(timespec="seconds")
            reason = (f"missed: fire time {fired} passed {_hours(decision.late)} ago, "
                      f"beyond [schedule] catch_up_hours = {self.settings.schedule.catch_up_hours:g}"
                      + (f" (it waited: {waited})" if waited else " (no scheduler was running)"))
            record_skip(self.sessions, job_name=job.name, scheduled_for=_utc(decision.fire), reason=reason)
            self.say(f"{job.name}: skipped, {reason}")
        if not due:
            return
        decision, job = min(due, key=lambda item: (item[0].waiting_since, item[1].id))
        blocker = self.blocker()
        if blocker is not None:
            for _, waiting_job in due:
                if self.waiting.get(waiting_job.name) != blocker:
                    self.say(f"{waiting_job.name}: due, waiting: {blocker}")
                self.waiting[waiting_job.name] = blocker
            return
        self.waiting.pop(job.name, None)
        catch_up = decision.fire < self.me.since.replace(tzinfo=UTC)
        note = f"{decision.coalesced} earlier fire time(s) coalesced into this run" if decision.coalesced else None
        self.child = start_run(self.sessions, job_name=job.name, argv=self.command(job_argv(job)),
                               trigger="catch_up" if catch_up else "schedule", scheduled_for=_utc(decision.fire),
                               log_dir=log_dir(self.settings),
                               budget_minutes=self.settings.schedule.run_budget_minutes, note=note)
        if self.child.process is None:
            self.child = None  # could not start: recorded failed, the loop goes on
            self.say(f"{job.name}: could not start its run; see `pharmwatch schedule history --job {job.name}`")
            return
        self.say(f"run {self.child.run_id} ({job.name}) started: pid {self.child.process.pid}"
                 + (f", catching up a fire time {_hours(decision.late)} late" if catch_up else ""))

    def blocker(self) -> str | None:
        """Why no run can start now (a run in progress, the scan lock held), or None."""
        if self.child is not None:
            return f"run {self.child.run_id} ({self.child.job_name}) is in progress"
        with self.sessions() as session:
            others = live_runs(session)
        if others:
            return f"run {others[0].id} ({others[0].job_name}, pid {others[0].pid}) is in progress"
        holder = ScanLock(self.settings.home).holder()
        if holder is not None:
            return f"another scan (pid {holder}) holds the scan lock"
        return None

    def shutdown(self) -> None:
        """Stop a running child (its scan is resumed by the next run), record it, give up the claim."""
        if self.child is not None:
            stop(self.child, "stopped with the scheduler")
            while (run := poll_run(self.sessions, self.child)) is None:
                time.sleep(0.2)
            self.say(f"run {run.id} ({run.job_name}) {run.outcome}: {run.reason}")
            self.child = None
        release(self.sessions, self.me)


class RunRefused(Exception):
    """`run-now` cannot start: another run or scan is in progress (the message says which)."""


def run_now(settings: Settings, engine: Engine, name: str, *, config_file: Path | None = None,
            command: Command | None = None) -> ScheduleRun:
    """Run a job now in a child process, within its budget, wait for it and return its record.

    Refused (RunRefused) while another run or scan is in progress: runs never overlap.
    """
    from pharmwatch.schedule_jobs import get_job

    sessions = session_factory(engine)
    with transaction(sessions) as session:
        sync_settings_jobs(session, settings)
        job = get_job(session, name)
        others = live_runs(session)
    if others:
        raise RunRefused(f"run {others[0].id} ({others[0].job_name}, pid {others[0].pid}) is in progress; "
                         "try again when it has finished (`pharmwatch schedule history`)")
    holder = ScanLock(settings.home).holder()
    if holder is not None:
        raise RunRefused(f"another scan (pid {holder}) holds the scan lock of {settings.home}")
    argv = (command or (lambda argv: job_command(argv, config_file)))(job_argv(job))
    child = start_run(sessions, job_name=job.name, argv=argv, trigger="manual", scheduled_for=None,
                      log_dir=log_dir(settings), budget_minutes=settings.schedule.run_budget_minutes)
    return wait_run(sessions, child)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _hours(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 3600} h {seconds % 3600 // 60} min" if seconds >= 3600 else f"{seconds} s"
