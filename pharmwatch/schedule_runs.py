"""One run of a scheduled job: a child `pharmwatch scan` process with a time budget, and its record.

`start_run` records the run (and, for a scheduled run, moves the job's last fire time to it in the
same transaction: a fire time is taken once) before it starts the child in its own process group
(the scan's crawl children go with it when it is stopped). `poll_run` stops a child over budget
(SIGTERM to the group, SIGKILL after a grace period) and, once it has exited, records the outcome:
finished (exit 0), partial (stopped or killed after capturing pages, or exit 5: captured too
little), failed (any other end), skipped (another scan held the lock). The child's output is kept
in `<home>/logs/schedule/run-<id>.log`; pages and findings come from the ScanRun it announced.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from pharmwatch.exit_codes import ExitCode
from pharmwatch.scheduler_claim import pid_alive
from storage.db import transaction
from storage.models import Finding, ScanRun, ScheduleJob, ScheduleRun, utcnow
from storage.scans import capture_counts

STOP_GRACE_SECONDS = 10.0  # between SIGTERM and SIGKILL when a run is stopped
SCAN_ANNOUNCED = re.compile(r"(?:starting|resuming interrupted) scan (\d+)")


def job_command(argv: list[str], config_file: Path | None) -> list[str]:
    """The production command of a run: `pharmwatch [--config FILE] ARGV` (ARGV: e.g. `scan --query-set x`)."""
    prefix = ["--config", str(config_file)] if config_file else []
    return [sys.executable, "-m", "pharmwatch", *prefix, *argv]


@dataclass
class RunningChild:
    run_id: int
    job_name: str
    process: subprocess.Popen[bytes] | None  # None: it could not be started
    log_path: Path
    log_file: IO[bytes]
    deadline: float  # time.monotonic() after which the run is stopped
    budget_minutes: float
    stopping_since: float | None = None
    stop_reason: str | None = None


def start_run(sessions: sessionmaker[Session], *, job_name: str, argv: list[str], trigger: str,
              scheduled_for: datetime | None, log_dir: Path, budget_minutes: float,
              note: str | None = None) -> RunningChild:
    """Record the run (taking its fire time), then start its child process."""
    with transaction(sessions) as session:
        run = ScheduleRun(job_name=job_name, trigger=trigger, scheduled_for=scheduled_for, started_at=utcnow(),
                          outcome="running", host=socket.gethostname(), reason=note)
        session.add(run)
        if scheduled_for is not None:
            session.execute(update(ScheduleJob).where(ScheduleJob.name == job_name)
                            .values(last_fire_at=scheduled_for).execution_options(synchronize_session=False))
        session.flush()
        run_id = run.id
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"run-{run_id}.log"
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    except OSError as exc:
        log.close()
        finish_run(sessions, run_id, None, "", stop_reason=f"could not start {argv[0]}: {exc}")
        return RunningChild(run_id, job_name, None, log_path, log, 0.0, budget_minutes)
    with transaction(sessions) as session:
        session.get_one(ScheduleRun, run_id).pid = process.pid
    return RunningChild(run_id, job_name, process, log_path, log, time.monotonic() + budget_minutes * 60,
                        budget_minutes)


def stop(child: RunningChild, reason: str) -> None:
    """Ask the child's process group to stop (SIGTERM); `poll_run` kills it after the grace period."""
    if child.stopping_since is None and child.process is not None:
        child.stop_reason = reason
        child.stopping_since = time.monotonic()
        _signal_group(child.process.pid, signal.SIGTERM)


def poll_run(sessions: sessionmaker[Session], child: RunningChild) -> ScheduleRun | None:
    """Enforce the budget; once the child has exited, record and return the finished run (else None)."""
    if child.process is None:  # never started: already recorded failed
        with sessions() as session:
            return session.get_one(ScheduleRun, child.run_id)
    now = time.monotonic()
    if child.process.poll() is None:
        if child.stopping_since is None and now > child.deadline:
            stop(child, f"exceeded its time budget of {child.budget_minutes:g} min ([schedule] run_budget_minutes)")
        elif child.stopping_since is not None and now - child.stopping_since > STOP_GRACE_SECONDS:
            _signal_group(child.process.pid, signal.SIGKILL)
        return None
    _signal_group(child.process.pid, signal.SIGKILL)  # the scan's own children, if any outlived it
    child.log_file.close()
    return finish_run(sessions, child.run_id, child.process.returncode, child.log_path.read_text(errors="replace"),
                      stop_reason=child.stop_reason)


def wait_run(sessions: sessionmaker[Session], child: RunningChild, poll_seconds: float = 0.5) -> ScheduleRun:
    while (run := poll_run(sessions, child)) is None:
        time.sleep(poll_seconds)
    return run


def finish_run(sessions: sessionmaker[Session], run_id: int, returncode: int | None, output: str, *,
               stop_reason: str | None = None) -> ScheduleRun:
    """Record how a run ended, with its scan's pages and findings (what it finished, even when stopped)."""
    announced = SCAN_ANNOUNCED.findall(output)
    with transaction(sessions) as session:
        run = session.get_one(ScheduleRun, run_id)
        scan = session.get(ScanRun, int(announced[-1])) if announced else None
        if scan is not None:
            run.scan_run_id, run.pages, run.findings = scan.id, *scan_counts(session, scan)
        run.exit_status, run.finished_at = returncode, utcnow()
        note = run.reason  # set when it started, e.g. the fire times coalesced into it
        if returncode is None and scan is not None and scan.status == "finished":
            outcome, reason = "finished", "its scan finished while no scheduler watched it"
        else:
            outcome, reason = classify(returncode, output, run.pages if scan is not None else None, stop_reason)
        run.outcome, run.reason = outcome, "; ".join(part for part in (reason, note) if part) or None
    return run


def scan_counts(session: Session, scan: ScanRun) -> tuple[int, int]:
    """(pages, findings) of a scan: its totals once closed; counted from its stored rows while it is still
    marked running (stopped or killed: what it finished before that)."""
    if scan.status != "running":
        return scan.pages, scan.findings
    findings = session.scalar(select(func.count()).select_from(Finding).where(Finding.scan_run_id == scan.id))
    return capture_counts(session, scan.id)[0], findings or 0


def classify(returncode: int | None, output: str, pages: int | None,
             stop_reason: str | None) -> tuple[str, str | None]:
    """(outcome, reason) of a child that has exited; `pages`: what its scan captured (None: no scan known)."""
    did_something = bool(pages)
    if stop_reason is not None or returncode is None or returncode < 0:
        why = stop_reason or (f"killed by {signal.Signals(-returncode).name}" if returncode
                              else "its process was lost")
        if returncode == 0:  # finished while being stopped
            return "finished", None
        suffix = "; the next run resumes its scan" if pages is not None else ""
        return ("partial" if did_something else "failed"), why + suffix
    if returncode == ExitCode.OK:
        return "finished", None
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if returncode == ExitCode.CAPTURED_TOO_LITTLE:
        return "partial", next((line for line in reversed(lines) if "captured too little" in line),
                               "captured too little")
    error = next((line.removeprefix("error: ") for line in reversed(lines) if line.startswith("error:")), None)
    if error and "another scan (pid" in error:
        return "skipped", error
    return "failed", error or (lines[-1] if lines else f"exit status {returncode}")


def record_skip(sessions: sessionmaker[Session], *, job_name: str, scheduled_for: datetime, reason: str) -> None:
    """A fire time that will not run: recorded once, and the job moves past it."""
    with transaction(sessions) as session:
        now = utcnow()
        session.add(ScheduleRun(job_name=job_name, trigger="schedule", scheduled_for=scheduled_for,
                                finished_at=now, outcome="skipped", reason=reason, host=socket.gethostname()))
        session.execute(update(ScheduleJob).where(ScheduleJob.name == job_name)
                        .values(last_fire_at=scheduled_for).execution_options(synchronize_session=False))


def live_runs(session: Session) -> list[ScheduleRun]:
    """Runs recorded as running whose process is alive on this host (started by us or `run-now`)."""
    host = socket.gethostname()
    return [run for run in session.scalars(select(ScheduleRun).where(ScheduleRun.outcome == "running"))
            if run.host == host and run.pid is not None and pid_alive(run.pid)]


def close_interrupted_runs(sessions: sessionmaker[Session], log_dir: Path) -> list[ScheduleRun]:
    """Runs left `running` by a scheduler that stopped: stop their scans if still alive here, record them.

    A scheduler that starts owns every run of the database: a child orphaned by its predecessor is
    stopped (its scan is resumed by the next run), and the run is recorded partial or failed.
    """
    with sessions() as session:
        leftovers = list(session.scalars(select(ScheduleRun).where(ScheduleRun.outcome == "running")))
    closed = []
    host = socket.gethostname()
    for run in leftovers:
        if run.host == host and run.pid is not None and pid_alive(run.pid):
            if run.trigger == "manual":
                continue  # a `run-now` in another process: it records its own end
            _signal_group(run.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while pid_alive(run.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            _signal_group(run.pid, signal.SIGKILL)
            reason = f"interrupted: the scheduler that started it stopped; stopped at restart (pid {run.pid})"
        else:
            reason = f"interrupted: the scheduler that started it stopped (host {run.host}, pid {run.pid})"
        log = log_dir / f"run-{run.id}.log"  # absent when the run was started on another host
        output = log.read_text(errors="replace") if log.is_file() else ""
        closed.append(finish_run(sessions, run.id, None, output, stop_reason=reason))
    return closed


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
