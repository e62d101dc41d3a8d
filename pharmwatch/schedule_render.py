"""Renders the schedule: the settings' scans and next runs (`schedule show`: table, CSV, JSON), the jobs with
their state (`schedule list`) and the run history (`schedule history`) as a table or JSON.

`show` JSON: an array of {"job_id", "command", "cron", "args", "next_run"}; `list` and `history` JSON: an array of the
records of pharmwatch.schedule_jobs (`JobView.row`, `run_row`). Times in ISO 8601, report timezone.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TextIO

from outputs import SafeCsvDictWriter
from pharmwatch.scheduler import ScheduledJob

FORMATS = ("table", "csv", "json")
COLUMNS = ["job_id", "command", "cron", "args", "next_run"]


def schedule_rows(runs: list[tuple[ScheduledJob, datetime]]) -> list[dict[str, Any]]:
    return [{"job_id": job.job_id, "command": job.command, "cron": job.cron, "args": list(job.args),
             "next_run": when.isoformat(timespec="minutes")} for job, when in runs]


def render_schedule(runs: list[tuple[ScheduledJob, datetime]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(json.dumps(schedule_rows(runs), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = SafeCsvDictWriter(out, fieldnames=COLUMNS)  # job args are typed by an admin
        writer.writeheader()
        for row in schedule_rows(runs):
            writer.writerow({**row, "args": " ".join(row["args"])})
    elif fmt == "table":
        for job, when in runs:
            out.write(f"{job.describe()}\n  next: {when.isoformat(timespec='minutes')}\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


JOB_COLUMNS = ["name", "source", "command", "cron", "paused", "last_run", "last_outcome", "next_run", "args"]
HISTORY_COLUMNS = ["id", "job", "trigger", "scheduled_for", "started", "ended", "outcome", "pages", "findings",
                   "scan_run", "reason"]


def render_records(rows: list[dict[str, Any]], fmt: str, out: TextIO, *, columns: list[str], noun: str) -> None:
    """`schedule list` and `schedule history`: JSON (one array of objects), or a table and a count."""
    from outputs import terminal_line

    if fmt == "json":
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; known: table, json")
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns[:-1])]
    out.write(terminal_line("  ".join([*(c.ljust(w) for c, w in zip(columns, widths, strict=False)),
                                       columns[-1]])) + "\n")
    for line in cells:
        out.write(terminal_line("  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)),
                                           line[-1]])) + "\n")
    out.write(f"{len(rows)} {noun}\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)
