"""Today's flagged-site list (`/`, `/daily?date=…`) and its JSON twin (`/api/daily`), from one typed context.

The list is `cases.daily.daily_report`; this adds what the monitors filter it by: disease area (as the
digest reads it: `rules.reference.diseases.finding_areas`), category, severity, reached through paid
ads, new or recurring site, case status, and pages of PAGE_SIZE sites.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from cases.daily import FlaggedSite, daily_report, day_bounds
from cases.disease_areas import site_areas
from rules.model import DISEASES, SEVERITY_RANK
from rules.reference.diseases import UNSPECIFIED
from storage.models import Case, Site
from web.app import envelope, page
from web.deps import DbSession, Monitor

router = APIRouter()
PAGE_SIZE = 50
NOVELTY = ("new", "recurring")


@dataclass
class DailyFilters:
    area: str = ""
    category: str = ""
    severity: str = ""
    ads: bool = False
    novelty: str = ""  # new: first seen that day; recurring: seen before
    status: str = ""  # the site's case status


@dataclass
class DailyRow:
    site: FlaggedSite
    areas: list[str]
    new: bool
    case_status: str | None


@dataclass
class DailyPage:
    day: str
    timezone: str
    filters: DailyFilters
    rows: list[DailyRow] = field(default_factory=list)
    total: int = 0  # sites after filtering, on all pages
    flagged: int = 0  # sites on the day's list before filtering
    page: int = 1
    pages: int = 1
    scans: list[dict[str, Any]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # choices for the filter form
    areas: list[str] = field(default_factory=lambda: [*DISEASES, UNSPECIFIED])

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def daily_page(request: Request, db: DbSession, day: date | None, filters: DailyFilters, page_no: int) -> DailyPage:
    config = request.app.state.config
    day = day or datetime.now(ZoneInfo(config.timezone)).date()
    report = daily_report(db, day, config.timezone, config.blob_dir)
    start, end = day_bounds(day, config.timezone)
    sites = {row.domain: row for row in db.scalars(select(Site).where(
        Site.domain.in_([site.domain for site in report.sites])))}
    areas = site_areas(db, [row.id for row in sites.values()], config.rule_diseases, start=start, end=end)
    rows = []
    for site in report.sites:
        site_row = sites[site.domain]
        status = db.scalar(select(Case.status).where(Case.id == site.case_id)) if site.case_id else None
        rows.append(DailyRow(site, areas.get(site_row.id, []), new=site_row.first_seen >= start, case_status=status))
    result = DailyPage(day=report.day, timezone=report.timezone, filters=filters, flagged=len(rows),
                       scans=[asdict(scan) for scan in report.scans],
                       categories=sorted({c for row in rows for c in row.site.categories}))
    rows = [row for row in rows if _keep(row, filters)]
    result.total = len(rows)
    result.pages = max(1, -(-len(rows) // PAGE_SIZE))
    result.page = min(max(1, page_no), result.pages)
    result.rows = rows[(result.page - 1) * PAGE_SIZE: result.page * PAGE_SIZE]
    return result


def _keep(row: DailyRow, f: DailyFilters) -> bool:
    site = row.site
    return ((not f.area or f.area in row.areas)
            and (not f.category or f.category in site.categories)
            and (not f.severity or site.risk == f.severity)
            and (not f.ads or any(s.is_ad for s in site.reached_through))
            and (not f.novelty or row.new == (f.novelty == "new"))
            and (not f.status or row.case_status == f.status))


def _filters(area: str, category: str, severity: str, ads: bool, novelty: str, status: str) -> DailyFilters:
    if area and area not in (*DISEASES, UNSPECIFIED):
        raise HTTPException(400, f"unknown disease area {area!r}; areas: {', '.join((*DISEASES, UNSPECIFIED))}")
    if severity and severity not in SEVERITY_RANK:
        raise HTTPException(400, f"unknown severity {severity!r}; severities: {', '.join(SEVERITY_RANK)}")
    if novelty and novelty not in NOVELTY:
        raise HTTPException(400, f"novelty is new or recurring, not {novelty!r}")
    return DailyFilters(area, category, severity, ads, novelty, status)


@router.get("/")
@router.get("/daily")
def daily_html(request: Request, db: DbSession, user: Monitor, date: date | None = None,  # noqa: A002
               area: str = "", category: str = "", severity: str = "", ads: bool = False,
               novelty: Literal["", "new", "recurring"] = "", status: str = "", page_no: int = 1) -> Response:
    data = daily_page(request, db, date, _filters(area, category, severity, ads, novelty, status), page_no)
    return page(request, "daily.html", {"page": data, "severities": list(SEVERITY_RANK)}, user=user)


@router.get("/api/daily")
def daily_json(request: Request, db: DbSession, user: Monitor, date: date | None = None,  # noqa: A002
               area: str = "", category: str = "", severity: str = "", ads: bool = False,
               novelty: Literal["", "new", "recurring"] = "", status: str = "", page_no: int = 1) -> Response:
    return envelope(daily_page(request, db, date, _filters(area, category, severity, ads, novelty, status),
                               page_no).to_json())
