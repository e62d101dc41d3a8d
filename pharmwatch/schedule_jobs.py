"""The scheduled jobs in the database: kept in step with the settings file, added and changed by admins.

Jobs from the settings (the nightly scan, per-query-set scans) are written to `schedule_job` by
`sync_settings_jobs`: their cron and arguments follow the file, their pause and last fire time stay.
Admin jobs (`schedule add`) scan named query sets or sites on their own cron. Run history is
`schedule_run`; `history` reads it newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pharmwatch.config import Settings
from pharmwatch.cron import cron_trigger, next_fire_time
from pharmwatch.scheduler import COMMANDS, scheduled_jobs
from storage.audit import record_event
from storage.models import ScheduleJob, ScheduleRun, utcnow

UTC = ZoneInfo("UTC")


class JobError(Exception):
    """A job that cannot be added or changed as asked; the message names the fix."""


def sync_settings_jobs(session: Session, settings: Settings) -> list[ScheduleJob]:
    """Make the settings file's jobs rows (new ones start from now: nothing before counts as missed)."""
    wanted = {job.job_id: job for job in scheduled_jobs(settings)}
    rows = {row.name: row for row in session.scalars(select(ScheduleJob).where(ScheduleJob.source == "settings"))}
    for name, row in rows.items():
        if name not in wanted:
            session.delete(row)
    for name, job in wanted.items():
        row = rows.get(name)
        if row is None:
            clash = session.scalar(select(ScheduleJob).where(ScheduleJob.name == name))
            if clash is not None:  # an admin job took the name first; the settings file wins
                session.delete(clash)
                session.flush()
            session.add(ScheduleJob(name=name, source="settings", command=job.command, cron=job.cron,
                                    args=list(job.args), created_by="settings", last_fire_at=utcnow()))
        elif (row.command, row.cron, row.args) != (job.command, job.cron, list(job.args)):
            row.command, row.cron, row.args = job.command, job.cron, list(job.args)
    session.flush()
    return list(session.scalars(select(ScheduleJob).order_by(ScheduleJob.id)))


def scan_args(query_sets: list[str], sites: list[str]) -> list[str]:
    """`pharmwatch scan` arguments of an admin job: only the named query sets or sites, no watchlist or tips."""
    if query_sets:
        return ["--no-watchlist", "--no-tips", *[arg for name in query_sets for arg in ("--query-set", name)]]
    return ["--no-search", "--no-watchlist", "--no-tips", *[arg for url in sites for arg in ("--site", url)]]


def add_job(session: Session, settings: Settings, *, name: str, cron: str, query_sets: list[str],
            sites: list[str], by: str) -> ScheduleJob:
    if bool(query_sets) == bool(sites):
        raise JobError("give either --query-set NAME... or --site URL..., not both and not neither")
    if not name or len(name) > 100 or not all(c.isalnum() or c in "-_." for c in name):
        raise JobError(f"job name {name!r}: use letters, digits, '-', '_' or '.' (at most 100)")
    if name in {job.job_id for job in scheduled_jobs(settings)}:
        raise JobError(f"job {name!r} comes from the settings file ({settings.source}); choose another name")
    try:
        cron_trigger(cron, settings.report.timezone)
    except ValueError as exc:
        raise JobError(f"--cron {cron!r} is not a cron expression: {exc}") from None
    known = {"queries", *(q.name for q in settings.search.query_sets)}
    if set(query_sets) - known:
        raise JobError(f"unknown query set(s) {sorted(set(query_sets) - known)}; known: {', '.join(sorted(known))}")
    for url in sites:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise JobError(f"--site {url!r}: give an http:// or https:// URL")
    if session.scalar(select(ScheduleJob).where(ScheduleJob.name == name)) is not None:
        raise JobError(f"job {name!r} exists; `pharmwatch schedule remove {name}` first to replace it")
    job = ScheduleJob(name=name, source="admin", cron=cron, args=scan_args(query_sets, sites), created_by=by,
                      last_fire_at=utcnow())
    session.add(job)
    session.flush()
    record_event(session, actor=by, action="schedule_job_added", subject=f"schedule_job:{name}",
                 details={"cron": cron, "args": job.args})
    return job


def job_argv(job: ScheduleJob) -> list[str]:
    """The `pharmwatch` arguments a run of `job` starts with: its command's words, then its arguments."""
    return [*COMMANDS[job.command], *job.args]


def get_job(session: Session, name: str) -> ScheduleJob:
    job = session.scalar(select(ScheduleJob).where(ScheduleJob.name == name))
    if job is None:
        names = session.scalars(select(ScheduleJob.name).order_by(ScheduleJob.name)).all()
        raise JobError(f"no job named {name!r}; jobs: {', '.join(names) or 'none'} (`pharmwatch schedule list`)")
    return job


def remove_job(session: Session, name: str, *, by: str) -> None:
    job = get_job(session, name)
    if job.source == "settings":
        raise JobError(f"job {name!r} comes from the settings file; change it there, or pause it")
    session.execute(delete(ScheduleJob).where(ScheduleJob.id == job.id))
    record_event(session, actor=by, action="schedule_job_removed", subject=f"schedule_job:{name}",
                 details={"cron": job.cron, "args": job.args})


def set_paused(session: Session, name: str, paused: bool, *, by: str) -> ScheduleJob:
    """Pause or resume a job. A resumed job starts from now: the fire times it slept through are not due."""
    job = get_job(session, name)
    if job.paused != paused:
        job.paused = paused
        if not paused:
            job.last_fire_at = utcnow()
        record_event(session, actor=by, action="schedule_job_paused" if paused else "schedule_job_resumed",
                     subject=f"schedule_job:{name}", details={})
    return job


@dataclass
class JobView:
    name: str
    source: str
    command: str
    cron: str
    args: list[str]
    paused: bool
    last_run: datetime | None  # local time: the newest run's start (a skip's fire time)
    last_outcome: str | None
    next_run: datetime | None  # local time; None while paused

    def row(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "command": self.command, "cron": self.cron,
                "args": self.args,
                "paused": self.paused, "last_run": _iso(self.last_run), "last_outcome": self.last_outcome,
                "next_run": _iso(self.next_run)}


def job_views(session: Session, settings: Settings, now: datetime | None = None) -> list[JobView]:
    tz = ZoneInfo(settings.report.timezone)
    now = now or datetime.now(tz)
    views = []
    for job in session.scalars(select(ScheduleJob).order_by(ScheduleJob.id)):
        trigger = cron_trigger(job.cron, settings.report.timezone)
        after = max(now, local(job.last_fire_at, tz)) if job.last_fire_at else now
        last = session.scalar(select(ScheduleRun).where(ScheduleRun.job_name == job.name)
                              .order_by(ScheduleRun.id.desc()).limit(1))
        last_at = (last.started_at or last.scheduled_for) if last else None
        views.append(JobView(job.name, job.source, job.command, job.cron, list(job.args), job.paused,
                             local(last_at, tz) if last_at else None, last.outcome if last else None,
                             None if job.paused else next_fire_time(trigger, after)))
    return views


def history(session: Session, *, job: str | None = None, limit: int = 20) -> list[ScheduleRun]:
    """Runs newest first (by id: the order they were recorded)."""
    query = select(ScheduleRun).order_by(ScheduleRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(ScheduleRun.job_name == job)
    return list(session.scalars(query))


def run_row(run: ScheduleRun, tz: ZoneInfo) -> dict[str, Any]:
    """One history record (local times, ISO 8601) for the renderers."""
    def when(value: datetime | None) -> str | None:
        return _iso(local(value, tz)) if value else None

    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else None
    return {"id": run.id, "job": run.job_name, "trigger": run.trigger, "scheduled_for": when(run.scheduled_for),
            "started": when(run.started_at), "ended": when(run.finished_at), "outcome": run.outcome,
            "seconds": None if duration is None else round(duration, 1), "pages": run.pages,
            "findings": run.findings, "scan_run": run.scan_run_id, "exit_status": run.exit_status,
            "reason": run.reason}


def local(value: datetime, tz: ZoneInfo) -> datetime:
    """A stored UTC time (naive) in the report timezone."""
    return value.replace(tzinfo=UTC).astimezone(tz)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
