"""The web's schedules page over the scheduler: `web.schedule_desk.ScheduleDesk` implemented with the
functions `pharmwatch schedule ...` calls (`pharmwatch.schedule_jobs`), bound to one settings file."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pharmwatch.config import Settings
from pharmwatch.schedule_jobs import (
    JobError,
    add_job,
    history,
    job_views,
    remove_job,
    run_row,
    set_paused,
    sync_settings_jobs,
)
from web.schedule_desk import ScheduleRefused


class SettingsScheduleDesk:
    """The scheduler's jobs as the settings file `settings` and the database define them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def jobs(self, session: Session) -> list[dict[str, Any]]:
        sync_settings_jobs(session, self.settings)
        return [view.row() for view in job_views(session, self.settings)]

    def history(self, session: Session, *, job: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        tz = ZoneInfo(self.settings.report.timezone)
        return [run_row(run, tz) for run in history(session, job=job, limit=limit)]

    def query_sets(self) -> list[str]:
        return ["queries", *(q.name for q in self.settings.search.query_sets)]

    def add(self, session: Session, *, name: str, cron: str, query_sets: list[str], sites: list[str],
            by: str) -> None:
        sync_settings_jobs(session, self.settings)
        try:
            add_job(session, self.settings, name=name, cron=cron, query_sets=query_sets, sites=sites, by=by)
        except JobError as exc:
            raise ScheduleRefused(str(exc)) from None

    def set_paused(self, session: Session, name: str, paused: bool, *, by: str) -> None:
        sync_settings_jobs(session, self.settings)
        try:
            set_paused(session, name, paused, by=by)
        except JobError as exc:
            raise ScheduleRefused(str(exc)) from None

    def remove(self, session: Session, name: str, *, by: str) -> None:
        sync_settings_jobs(session, self.settings)
        try:
            remove_job(session, name, by=by)
        except JobError as exc:
            raise ScheduleRefused(str(exc)) from None
