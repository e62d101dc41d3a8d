"""Renders the scheduled scans and their next runs (`pharmwatch schedule show`) as a table, CSV or JSON.

One JSON shape: an array of {"job_id", "cron", "args", "next_run"} (next_run in ISO 8601, local time).
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import Any, TextIO

from pharmwatch.scheduler import ScheduledScan

FORMATS = ("table", "csv", "json")
COLUMNS = ["job_id", "cron", "args", "next_run"]


def schedule_rows(runs: list[tuple[ScheduledScan, datetime]]) -> list[dict[str, Any]]:
    return [{"job_id": job.job_id, "cron": job.cron, "args": list(job.args),
             "next_run": when.isoformat(timespec="minutes")} for job, when in runs]


def render_schedule(runs: list[tuple[ScheduledScan, datetime]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(json.dumps(schedule_rows(runs), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in schedule_rows(runs):
            writer.writerow({**row, "args": " ".join(row["args"])})
    elif fmt == "table":
        for job, when in runs:
            out.write(f"{job.describe()}\n  next: {when.isoformat(timespec='minutes')}\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
