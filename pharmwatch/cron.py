"""Cron expressions of scheduled jobs: 5 fields (minute hour day month weekday), or 6 with seconds first.

Parsed by APScheduler 3's CronTrigger in the report timezone; a bad expression raises ValueError
naming what is wrong, so settings and `schedule add` refuse it before anything is scheduled.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

_EPSILON = timedelta(microseconds=1)
FIELDS_WITH_SECONDS = ("second", "minute", "hour", "day", "month", "day_of_week")


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    """The trigger of a 5-field crontab line, or of 6 fields whose first is the second."""
    parts = cron.split()
    if len(parts) == 6:
        return CronTrigger(timezone=timezone, **dict(zip(FIELDS_WITH_SECONDS, parts, strict=True)))
    if len(parts) != 5:
        raise ValueError(f"wrong number of fields; got {len(parts)}, expected 5 (or 6 with seconds first)")
    return CronTrigger.from_crontab(cron, timezone=timezone)


def fire_times(trigger: CronTrigger, after: datetime, until: datetime, limit: int = 100_000) -> list[datetime]:
    """Fire times strictly after `after` and not after `until` (aware datetimes), oldest first."""
    times: list[datetime] = []
    when = trigger.get_next_fire_time(None, after + _EPSILON)
    while when is not None and when <= until and len(times) < limit:
        times.append(when)
        when = trigger.get_next_fire_time(when, when + _EPSILON)
    return times


def next_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The first fire time after `now`."""
    return trigger.get_next_fire_time(None, now + _EPSILON)

