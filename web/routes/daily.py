"""Today's flagged-site list (`/`, `/daily?date=…`) and its JSON twin (`/api/daily`), from one typed context.

The list is `cases.daily` (the same entries, in the same order, as `pharmwatch report daily`); this adds
what the monitors filter it by: disease area (as the digest reads it: `rules.reference.diseases.finding_areas`),
category, severity, reached through paid ads, new or recurring site, case status, and pages of PAGE_SIZE
sites, cut in SQL: a page costs the same number of queries whatever the size of the day's list.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import ColumnElement, Subquery, func, select

from cases.daily import FlaggedSite, day_bounds, flagged_ranks, flagged_sites, list_order, scans_of_day
from cases.disease_areas import site_areas
from rules.model import DISEASES, SEVERITY_RANK
from rules.reference.diseases import UNSPECIFIED
from storage.blobs import BlobStore
from storage.models import Case, Finding, SerpObservation, Site
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
    """One page of the day's list: ranked, filtered and cut into pages in SQL; only the page's sites are
    built (`cases.daily.flagged_sites`). The disease-area filter reads excerpts (`finding_areas`), so it
    runs in Python over the ids the SQL filters leave."""
    config = request.app.state.config
    day = day or datetime.now(ZoneInfo(config.timezone)).date()
    start, end = day_bounds(day, config.timezone)
    flagged = flagged_ranks(start, end)
    result = DailyPage(day=day.isoformat(), timezone=config.timezone, filters=filters,
                       scans=[asdict(scan) for scan in scans_of_day(db, start, end)])
    # The form's category choices: those of the day's findings (read from the index alone; the rows are
    # what the filter decides, so a choice no flagged site has lists nothing).
    result.categories = list(db.scalars(select(Finding.category).distinct().where(
        Finding.created_at >= start, Finding.created_at < end).order_by(Finding.category)))
    conditions = _conditions(flagged, filters, start, end)
    query = select(flagged.c.site_id).join(Site, Site.id == flagged.c.site_id).where(*conditions)
    if filters.area:
        ordered = db.scalars(query.order_by(*list_order(db, flagged))).all()
        areas = site_areas(db, ordered, config.rule_diseases, start=start, end=end)
        kept = [site_id for site_id in ordered if filters.area in areas.get(site_id, [])]
        result.total = len(kept)
        _paging(result, page_no)
        page_ids = kept[(result.page - 1) * PAGE_SIZE: result.page * PAGE_SIZE]
    else:
        # One ranking gives the page and, by a window count, how many match: no second pass to count.
        counted = query.add_columns(func.count().over()).order_by(*list_order(db, flagged)).limit(PAGE_SIZE)
        rows = db.execute(counted.offset((max(1, page_no) - 1) * PAGE_SIZE)).all()
        if not rows and page_no > 1:  # past the end: count, then show the last page
            result.total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
            _paging(result, page_no)
            rows = db.execute(counted.offset((result.page - 1) * PAGE_SIZE)).all()
        result.total = rows[0][1] if rows else 0
        _paging(result, page_no)
        page_ids = [row[0] for row in rows]
    result.flagged = result.total if not conditions and not filters.area else \
        db.scalar(select(func.count()).select_from(flagged)) or 0
    areas = site_areas(db, page_ids, config.rule_diseases, start=start, end=end)
    first_seen = dict(db.execute(select(Site.id, Site.first_seen).where(Site.id.in_(page_ids))).all())
    sites = flagged_sites(db, page_ids, start, end, BlobStore(config.blob_dir))
    statuses = dict(db.execute(select(Case.id, Case.status).where(
        Case.id.in_([site.case_id for site in sites if site.case_id]))).all())
    result.rows = [DailyRow(site, areas.get(site_id, []), new=first_seen[site_id] >= start,
                            case_status=statuses.get(site.case_id) if site.case_id else None)
                   for site_id, site in zip(page_ids, sites, strict=True)]
    return result


def _paging(result: DailyPage, page_no: int) -> None:
    result.pages = max(1, -(-result.total // PAGE_SIZE))
    result.page = min(max(1, page_no), result.pages)


def _conditions(flagged: Subquery, f: DailyFilters, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """The filters but the disease area, as SQL over the day's ranked sites (`cases.daily.flagged_ranks`)."""
    site_id = flagged.c.site_id
    conditions: list[ColumnElement[bool]] = []
    if f.severity:
        conditions.append(flagged.c.rank == SEVERITY_RANK[f.severity])
    if f.category:
        conditions.append(select(Finding.id).where(Finding.site_id == site_id, Finding.category == f.category,
                                                   Finding.created_at >= start, Finding.created_at < end).exists())
    if f.ads:
        conditions.append(select(SerpObservation.id).where(
            SerpObservation.site_id == site_id, SerpObservation.is_ad.is_(True), SerpObservation.observed_at >= start,
            SerpObservation.observed_at < end).exists())
    if f.novelty:
        conditions.append(Site.first_seen >= start if f.novelty == "new" else Site.first_seen < start)
    if f.status:  # the status of the site's latest case (the one the list links to)
        latest = select(Case.status).where(Case.site_id == site_id).order_by(Case.id.desc()).limit(1)
        conditions.append(latest.scalar_subquery() == f.status)
    return conditions


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
