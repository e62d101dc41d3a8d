"""Scan runs (`/scans`, `/api/scans`): the recent runs with their status, counts and error, and per run the
search engines that blocked us (result pages not read) and what failed (`storage.scans.failure_reasons`,
the same list the end-of-scan summary prints)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ScanRun
from storage.scans import blocked_engines, failure_reasons
from web.app import envelope, page
from web.deps import DbSession, Monitor

router = APIRouter()
SHOWN_FAILURES = 50  # per run; the count is always whole
Limit = Annotated[int, Query(ge=1, le=500)]


@dataclass
class RunRecord:
    id: int
    status: str
    started_at: str
    finished_at: str | None
    queries: int
    results: int
    ads: int
    pages: int
    failures: int
    findings: int
    flagged_sites: int
    error: str | None
    blocked: dict[str, int] = field(default_factory=dict)  # engine → result pages blocked
    failed: list[dict[str, str]] = field(default_factory=list)  # {what, why}, the first SHOWN_FAILURES
    failed_total: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def recent_runs(db: Session, limit: int) -> list[RunRecord]:
    runs = db.scalars(select(ScanRun).order_by(ScanRun.id.desc()).limit(limit)).all()
    blocked = blocked_engines(db, [r.id for r in runs])
    records = []
    for run in runs:
        failed = failure_reasons(db, run.id)
        records.append(RunRecord(
            run.id, run.status, run.started_at.isoformat(timespec="seconds"),
            run.finished_at.isoformat(timespec="seconds") if run.finished_at else None, run.queries, run.results,
            run.ads, run.pages, run.failures, run.findings, run.flagged_sites, run.error, blocked.get(run.id, {}),
            [{"what": what, "why": why or ""} for what, why in failed[:SHOWN_FAILURES]], len(failed)))
    return records


@router.get("/scans")
def scans_html(request: Request, db: DbSession, user: Monitor, limit: Limit = 30) -> Response:
    return page(request, "scans.html", {"runs": recent_runs(db, limit), "shown": SHOWN_FAILURES}, user=user)


@router.get("/api/scans")
def scans_json(db: DbSession, user: Monitor, limit: Limit = 30) -> Response:
    return envelope([run.to_json() for run in recent_runs(db, limit)])
