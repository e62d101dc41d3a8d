"""The scans the settings file schedules: the nightly full scan, plus one per query set with its own cron.

These become rows of `schedule_job` (pharmwatch.schedule_jobs) beside the jobs an admin adds; the
service that runs them, with catch-up, budgets and one scheduler per database, is
pharmwatch.scheduler_service. Cron expressions are read in the report timezone (pharmwatch.cron).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from pharmwatch.config import Settings, SettingsError
from pharmwatch.cron import cron_trigger


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
        return cron_trigger(cron, timezone)
    except ValueError as exc:
        raise SettingsError(f"schedule {cron!r}: not a 5-field cron expression ({exc})") from None


def next_runs(settings: Settings, now: datetime) -> list[tuple[ScheduledScan, datetime]]:
    return [(job, trigger(job.cron, settings.report.timezone).get_next_fire_time(None, now))
            for job in scheduled_scans(settings)]


def run_scan_process(args: list[str], config_file: Path | None) -> int:
    """Run one scan of `args` in a child process, as a scheduled run does (its exit status)."""
    from pharmwatch.schedule_runs import scan_command

    return subprocess.call(scan_command(args, config_file))
