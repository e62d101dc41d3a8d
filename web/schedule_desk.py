"""What the admin's schedules page asks of the scheduler, as a protocol the top layer implements.

The scheduler (its settings-file jobs, cron parsing, next fire times) lives in `pharmwatch/`, above the
web layer, so the web cannot import it: `pharmwatch serve` hands `WebConfig.schedules` an object with
these methods (`pharmwatch.schedule_desk.SettingsScheduleDesk`, over the same functions as
`pharmwatch schedule list|history|add|pause|resume|remove`). Without one the page says so.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session


class ScheduleRefused(Exception):
    """A job that cannot be added or changed as asked; the message names the fix (the CLI's own)."""


class ScheduleDesk(Protocol):
    def jobs(self, session: Session) -> list[dict[str, Any]]:
        """Every job (settings and admin): name, source, command, cron, args, paused, last_run,
        last_outcome, next_run (local ISO times); the settings file's jobs synced first (not committed)."""
        ...

    def history(self, session: Session, *, job: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Runs newest first, as `pharmwatch schedule history --format json` gives them."""
        ...

    def query_sets(self) -> list[str]:
        """Names an admin job may search (`--query-set`)."""
        ...

    def add(self, session: Session, *, name: str, cron: str, query_sets: list[str], sites: list[str],
            by: str) -> None:
        """Add an admin job (audited); raises ScheduleRefused."""
        ...

    def set_paused(self, session: Session, name: str, paused: bool, *, by: str) -> None:
        """Pause or resume a job (audited); raises ScheduleRefused."""
        ...

    def remove(self, session: Session, name: str, *, by: str) -> None:
        """Remove an admin job (audited; its history stays); raises ScheduleRefused."""
        ...
