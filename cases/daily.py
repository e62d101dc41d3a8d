"""The daily flagged-site list: what monitors review every morning (CLI table/CSV/JSON, later the UI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.opening import findings_of_flagged_sites
from rules.model import SEVERITY_RANK
from storage.blobs import BlobStore
from storage.models import Capture, Case, Finding, ScanRun, SerpObservation, Site, Tip

TOP_RULES = 3


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


def daily_report(session: Session, day: date, timezone: str, blob_dir: Path) -> DailyReport:
    start, end = day_bounds(day, timezone)
    in_day = (Capture.fetched_at >= start, Capture.fetched_at < end)
    # Findings on pages and on search ads' own text alike (an ad is an advertisement in itself).
    findings_of_day = session.scalars(
        select(Finding).where(Finding.created_at >= start, Finding.created_at < end).order_by(Finding.id)
    ).all()
    by_site = findings_of_flagged_sites(findings_of_day)

    blobs = BlobStore(blob_dir)
    report = DailyReport(day=day.isoformat(), timezone=timezone, scans=[
        ScanOfDay(run.id, run.started_at.replace(tzinfo=UTC).isoformat(timespec="seconds"), run.status, run.pages,
                  run.failures, run.error)
        for run in session.scalars(select(ScanRun).where(ScanRun.started_at >= start, ScanRun.started_at < end)
                                   .order_by(ScanRun.id))])
    for site_id, findings in by_site.items():
        site = session.get_one(Site, site_id)
        findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])
        top: dict[str, RuleSummary] = {}
        for f in findings:
            if f.rule_id not in top and len(top) < TOP_RULES:
                top[f.rule_id] = RuleSummary(f.rule_id, f.title, f.severity, f.excerpt)
        captures = session.scalar(select(func.count()).select_from(Capture)
                                  .where(Capture.site_id == site_id, *in_day)) or 0
        shot = session.scalar(
            select(Capture.screenshot_sha256)
            .where(Capture.site_id == site_id, Capture.screenshot_sha256.is_not(None), *in_day)
            .order_by(Capture.fetched_at.desc()).limit(1)
        )
        case_id = session.scalar(select(Case.id).where(Case.site_id == site_id).order_by(Case.id.desc()).limit(1))
        sightings = session.scalars(
            select(SerpObservation)
            .where(SerpObservation.site_id == site_id, SerpObservation.observed_at >= start,
                   SerpObservation.observed_at < end)
            .order_by(SerpObservation.is_ad.desc(), SerpObservation.engine, SerpObservation.query,
                      SerpObservation.page, SerpObservation.rank)
        ).all()
        reached = list(dict.fromkeys(
            SearchSighting(o.engine, o.query, o.is_ad, o.rank, o.page, o.advertiser) for o in sightings))
        report.sites.append(FlaggedSite(
            domain=site.domain,
            risk=findings[0].severity,
            categories=sorted({f.category for f in findings}),
            top_rules=list(top.values()),
            first_seen=site.first_seen.replace(tzinfo=UTC).isoformat(timespec="seconds"),
            captures=captures,
            screenshot=str(blobs.path(shot, ".png")) if shot else None,
            case_id=case_id,
            reached_through=reached,
            tips=list(session.scalars(select(Tip.id).where(Tip.site_id == site_id, Tip.submitted_at < end)
                                      .order_by(Tip.id))),
        ))
    report.sites.sort(key=lambda s: (-SEVERITY_RANK[s.risk], s.domain))
    return report
