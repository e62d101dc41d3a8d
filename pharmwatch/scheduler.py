"""The jobs the settings file schedules: the nightly full scan, one scan per query set with its own cron,
the morning digest and the daily re-checks (blacklisted sites, orders past their deadline).

A job runs one `pharmwatch` command (`COMMANDS`) with its arguments. These become rows of `schedule_job`
(pharmwatch.schedule_jobs) beside the jobs an admin adds; the service that runs them, with catch-up,
budgets and one scheduler per database, is pharmwatch.scheduler_service. Cron expressions are read in the
report timezone (pharmwatch.cron).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from pharmwatch.config import Settings, SettingsError
from pharmwatch.cron import cron_trigger

#: What a job can run: its name → the `pharmwatch` command words its arguments follow.
COMMANDS: dict[str, list[str]] = {
    "scan": ["scan"],
    "digest": ["alerts", "digest", "--send"],
    "orders-due": ["order", "check-due", "--by", "scheduler"],
}


@dataclass
class ScheduledJob:
    job_id: str
    cron: str
    args: list[str]  # arguments of the command
    command: str = "scan"  # a key of COMMANDS

    @property
    def argv(self) -> list[str]:
        """The `pharmwatch` arguments of a run: command words, then the job's arguments."""
        return [*COMMANDS[self.command], *self.args]

    def describe(self) -> str:
        return f"{self.job_id}: `{self.cron}` → pharmwatch {' '.join(self.argv)}".rstrip()


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    """The nightly scan (watchlist + every set without its own schedule), one scan per own schedule, and
    the digest and re-check jobs unless their cron is set empty."""
    own: dict[str, list[str]] = {}
    for query_set in settings.search.query_sets:
        if query_set.schedule:
            own.setdefault(query_set.schedule, []).append(query_set.name)
    nightly_sets = [q.name for q in settings.search.query_sets if not q.schedule]
    jobs = [ScheduledJob("nightly", settings.schedule.nightly,
                          [arg for name in ["queries", *nightly_sets] for arg in ("--query-set", name)])]
    for cron, names in own.items():
        args = ["--no-watchlist", *[arg for name in names for arg in ("--query-set", name)]]
        jobs.append(ScheduledJob(f"sets-{'-'.join(names)}", cron, args))
    if settings.schedule.recheck:
        jobs.append(ScheduledJob("orders-due", settings.schedule.recheck, [], command="orders-due"))
        jobs.append(ScheduledJob("blacklist-recheck", settings.schedule.recheck,
                                 ["--no-search", "--no-watchlist", "--no-tips", "--blacklisted"]))
    if settings.schedule.digest:
        jobs.append(ScheduledJob("digest", settings.schedule.digest, [], command="digest"))
    return jobs


def trigger(cron: str, timezone: str) -> CronTrigger:
    try:
        return cron_trigger(cron, timezone)
    except ValueError as exc:
        raise SettingsError(f"schedule {cron!r}: not a 5-field cron expression ({exc})") from None


def next_runs(settings: Settings, now: datetime) -> list[tuple[ScheduledJob, datetime]]:
    return [(job, trigger(job.cron, settings.report.timezone).get_next_fire_time(None, now))
            for job in scheduled_jobs(settings)]


def run_scan_process(args: list[str], config_file: Path | None) -> int:
    """Run one scan of `args` in a child process, as a scheduled run does (its exit status)."""
    from pharmwatch.schedule_runs import job_command

    return subprocess.call(job_command(["scan", *args], config_file))
