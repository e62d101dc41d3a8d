"""The unattended scheduler (APScheduler 3): the nightly full scan, plus per-query-set scans.

Each run is a child process (`pharmwatch scan ...`): a Twisted reactor runs once per process, and
a crashed scan must not take the scheduler down. The scan lock keeps runs from overlapping; the
next run resumes an interrupted one. Jobs have fixed ids, coalesce missed runs into one, never
run twice at once, and still run when late by less than `misfire_grace_seconds` (APScheduler's
default of 1 s silently skips a late run).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from pharmwatch.config import Settings, SettingsError


@dataclass
class ScheduledScan:
    job_id: str
    cron: str
    args: list[str]  # arguments of `pharmwatch scan`

    def describe(self) -> str:
        return f"{self.job_id}: `{self.cron}` → pharmwatch scan {' '.join(self.args)}".rstrip()


def scheduled_scans(settings: Settings) -> list[ScheduledScan]:
    """The nightly scan (watchlist + every set without its own schedule) and one per own schedule."""
    own: dict[str, list[str]] = {}
    for query_set in settings.search.query_sets:
        if query_set.schedule:
            own.setdefault(query_set.schedule, []).append(query_set.name)
    nightly_sets = [q.name for q in settings.search.query_sets if not q.schedule]
    jobs = [ScheduledScan("nightly", settings.schedule.nightly,
                          [arg for name in ["queries", *nightly_sets] for arg in ("--query-set", name)])]
    for cron, names in own.items():
        args = ["--no-watchlist", *[arg for name in names for arg in ("--query-set", name)]]
        jobs.append(ScheduledScan(f"sets-{'-'.join(names)}", cron, args))
    return jobs


def trigger(cron: str, timezone: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(cron, timezone=timezone)
    except ValueError as exc:
        raise SettingsError(f"schedule {cron!r}: not a 5-field cron expression ({exc})") from None


def next_runs(settings: Settings, now: datetime) -> list[tuple[ScheduledScan, datetime]]:
    return [(job, trigger(job.cron, settings.report.timezone).get_next_fire_time(None, now))
            for job in scheduled_scans(settings)]


def run_forever(settings: Settings, config_file: Path | None) -> None:
    scheduler = BlockingScheduler(timezone=settings.report.timezone)
    for job in scheduled_scans(settings):
        scheduler.add_job(
            run_scan_process, trigger(job.cron, settings.report.timezone), args=[job.args, config_file],
            id=job.job_id, replace_existing=True, coalesce=True, max_instances=1,
            misfire_grace_time=settings.schedule.misfire_grace_seconds,
        )
    scheduler.start()


def run_scan_process(args: list[str], config_file: Path | None) -> int:
    prefix = ["--config", str(config_file)] if config_file else []
    return subprocess.call([sys.executable, "-m", "pharmwatch", *prefix, "scan", *args])
