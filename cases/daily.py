"""The daily flagged-site list: what monitors review every morning (CLI table/CSV/JSON and the web UI).

`flagged_ranks` ranks the day's flagged sites in SQL (so the UI pages in SQL); `flagged_sites` builds the
entries of any number of them with a fixed number of queries; `daily_report` is all of them, worst first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Subquery, case, func, select
from sqlalchemy.orm import Session

from rules.model import FLAG_THRESHOLD, SEVERITY_RANK
from storage.blobs import BlobStore
from storage.models import Capture, Case, Finding, ScanRun, SerpObservation, Site, Tip

TOP_RULES = 3
CHUNK = 1000  # sites built at once (each query names their ids)


@dataclass
class RuleSummary:
    rule_id: str
    title: str
    severity: str
    excerpt: str


@dataclass(frozen=True)
class SearchSighting:
    """How a flagged site was reached from a search engine that day."""

    engine: str
    query: str
    is_ad: bool
    rank: int
    page: int
    advertiser: str | None


@dataclass
class FlaggedSite:
    domain: str
    risk: str
    categories: list[str]
    top_rules: list[RuleSummary]
    first_seen: str  # ISO 8601, UTC
    captures: int  # captures of the site that day
    screenshot: str | None  # path of the day's latest screenshot
    case_id: int | None = None
    reached_through: list[SearchSighting] = field(default_factory=list)  # search results and ads that day
    tips: list[int] = field(default_factory=list)  # ids of tips (cases.tips) that pointed at the site by that day


@dataclass(frozen=True)
class ScanOfDay:
    """A scan that started that day: the list is only as complete as the scans behind it."""

    id: int
    started_at: str  # ISO 8601, UTC
    status: str  # running | finished | failed
    pages: int
    failures: int
    error: str | None


@dataclass
class DailyReport:
    day: str
    timezone: str
    sites: list[FlaggedSite] = field(default_factory=list)
    scans: list[ScanOfDay] = field(default_factory=list)  # empty: no scan ran that day, the list means nothing

    def to_json(self) -> dict:
        return asdict(self)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The local calendar day as a naive-UTC [start, end) range, matching how rows store times."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return start, start + timedelta(days=1)


def severity_rank() -> ColumnElement[int]:
    """A finding's severity as its SEVERITY_RANK, in SQL (so sites can be ranked by their worst finding)."""
    return case(SEVERITY_RANK, value=Finding.severity, else_=0)


def flagged_ranks(start: datetime, end: datetime) -> Subquery:
    """(site_id, rank) of each site flagged in [start, end): its worst finding's rank, at least the flagging
    threshold (a site with low findings only is not on the list: `cases.opening.findings_of_flagged_sites`)."""
    rank = func.max(severity_rank())
    return (select(Finding.site_id.label("site_id"), rank.label("rank"))
            .where(Finding.created_at >= start, Finding.created_at < end)
            .group_by(Finding.site_id).having(rank >= SEVERITY_RANK[FLAG_THRESHOLD]).subquery("flagged"))


def list_order(session: Session, flagged: Subquery) -> tuple[ColumnElement[Any], ...]:
    """The list's order in SQL: worst first, then by domain in code-point order (Python's, and SQLite's
    binary collation; PostgreSQL is told "C", else its locale would ignore '-' and '.')."""
    domain: ColumnElement[Any] = Site.domain
    if session.get_bind().dialect.name == "postgresql":
        domain = Site.domain.collate("C")
    return flagged.c.rank.desc(), domain


def flagged_sites(session: Session, site_ids: Sequence[int], start: datetime, end: datetime,
                  blobs: BlobStore) -> list[FlaggedSite]:
    """The list entries of these flagged sites for [start, end), in the order given: a fixed number of
    queries for all of them (no query per site)."""
    ids = list(site_ids)
    in_day = (Capture.fetched_at >= start, Capture.fetched_at < end)
    by_site: dict[int, list[Finding]] = {site_id: [] for site_id in ids}
    for f in session.scalars(select(Finding).where(Finding.site_id.in_(ids), Finding.created_at >= start,
                                                   Finding.created_at < end).order_by(Finding.id)):
        by_site[f.site_id].append(f)
    site_rows = {row.id: row for row in session.execute(select(Site.id, Site.domain, Site.first_seen)
                                                        .where(Site.id.in_(ids)))}
    captures = dict(session.execute(select(Capture.site_id, func.count()).where(Capture.site_id.in_(ids), *in_day)
                                    .group_by(Capture.site_id)).all())
    shots: dict[int, str] = {}
    for site_id, sha in session.execute(
            select(Capture.site_id, Capture.screenshot_sha256)
            .where(Capture.site_id.in_(ids), Capture.screenshot_sha256.is_not(None), *in_day)
            .order_by(Capture.fetched_at, Capture.id)):
        shots[site_id] = sha  # the day's latest one wins
    cases = dict(session.execute(select(Case.site_id, func.max(Case.id)).where(Case.site_id.in_(ids))
                                 .group_by(Case.site_id)).all())
    sightings: dict[int, list[SearchSighting]] = {site_id: [] for site_id in ids}
    for o in session.scalars(
            select(SerpObservation)
            .where(SerpObservation.site_id.in_(ids), SerpObservation.observed_at >= start,
                   SerpObservation.observed_at < end)
            .order_by(SerpObservation.is_ad.desc(), SerpObservation.engine, SerpObservation.query,
                      SerpObservation.page, SerpObservation.rank)):
        sightings[o.site_id].append(SearchSighting(o.engine, o.query, o.is_ad, o.rank, o.page,  # type: ignore[index]
                                                   o.advertiser))
    tips: dict[int, list[int]] = {site_id: [] for site_id in ids}
    for site_id, tip_id in session.execute(select(Tip.site_id, Tip.id)
                                           .where(Tip.site_id.in_(ids), Tip.submitted_at < end)
                                           .order_by(Tip.id)):
        tips[site_id].append(tip_id)
    sites = []
    for site_id in ids:
        findings = sorted(by_site[site_id], key=lambda f: -SEVERITY_RANK[f.severity])  # stable: id order in a rank
        top: dict[str, RuleSummary] = {}
        for f in findings:
            if f.rule_id not in top and len(top) < TOP_RULES:
                top[f.rule_id] = RuleSummary(f.rule_id, f.title, f.severity, f.excerpt)
        shot = shots.get(site_id)
        sites.append(FlaggedSite(
            domain=site_rows[site_id].domain,
            risk=findings[0].severity,
            categories=sorted({f.category for f in findings}),
            top_rules=list(top.values()),
            first_seen=site_rows[site_id].first_seen.replace(tzinfo=UTC).isoformat(timespec="seconds"),
            captures=captures.get(site_id, 0),
            screenshot=str(blobs.path(shot, ".png")) if shot else None,
            case_id=cases.get(site_id),
            reached_through=list(dict.fromkeys(sightings[site_id])),
            tips=tips[site_id],
        ))
    return sites


def scans_of_day(session: Session, start: datetime, end: datetime) -> list[ScanOfDay]:
    return [ScanOfDay(run.id, run.started_at.replace(tzinfo=UTC).isoformat(timespec="seconds"), run.status,
                      run.pages, run.failures, run.error)
            for run in session.scalars(select(ScanRun).where(ScanRun.started_at >= start, ScanRun.started_at < end)
                                       .order_by(ScanRun.id))]


def daily_report(session: Session, day: date, timezone: str, blob_dir: Path) -> DailyReport:
    """Every flagged site of the local `day`, worst first, built CHUNK sites at a time."""
    start, end = day_bounds(day, timezone)
    flagged = flagged_ranks(start, end)
    ordered = session.scalars(select(flagged.c.site_id).join(Site, Site.id == flagged.c.site_id)
                              .order_by(*list_order(session, flagged))).all()
    blobs = BlobStore(blob_dir)
    report = DailyReport(day=day.isoformat(), timezone=timezone, scans=scans_of_day(session, start, end))
    for i in range(0, len(ordered), CHUNK):
        report.sites += flagged_sites(session, ordered[i:i + CHUNK], start, end, blobs)
    return report
