"""The morning digest: what the night's scans found and what happened to the office's cases, in one message.

Owns `Digest` and `morning_digest()`, which reads the stored rows of one period (by default the 24 hours
before the digest is composed); `alerts.digest_render` writes it as Chinese (or English) text and HTML and
`alerts.outbox` delivers it. A digest is sent also when there is nothing new ("the scans ran, nothing
new"), and says loudly when no scan ran or one failed: silence must mean trouble, never "all is well".
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.disease_areas import site_areas
from cases.opening import findings_of_flagged_sites
from rules.model import FLAGGING_SEVERITIES, SEVERITY_RANK
from storage.models import (
    Case,
    CaseDecision,
    CorrectionOrder,
    Finding,
    Referral,
    ScanRun,
    ScheduleRun,
    SerpObservation,
    Site,
)
from storage.scans import blocked_engines

#: Sites listed one by one in the digest; the counts cover all of them.
LISTED_SITES = 30
#: Finished scans the "usual duration" is the median of.
USUAL_RUNS = 7


@dataclass(frozen=True)
class DigestSite:
    domain: str
    risk: str
    categories: list[str]
    areas: list[str]
    new: bool  # no flagging finding on this site before the period
    through_ads: bool  # reached through a paid search ad in the period
    case_id: int | None


@dataclass(frozen=True)
class ScanHealth:
    run_id: int
    started_at: str  # ISO 8601, UTC
    status: str  # running | finished | failed
    pages: int
    failures: int
    flagged_sites: int
    minutes: float | None  # None while running
    usual_minutes: float | None  # median of the previous finished scans; None without history
    blocked: dict[str, int]  # engine → result pages refused as blocked
    error: str | None


@dataclass(frozen=True)
class Recheck:
    case_id: int
    domain: str
    outcome: str  # cases.recheck.OUTCOMES
    at: str


@dataclass(frozen=True)
class OverdueOrder:
    order_id: int
    case_id: int
    domain: str
    kind: str
    deadline: str


@dataclass(frozen=True)
class ReferralChange:
    referral_id: int
    case_id: int
    domain: str
    authority: str
    status: str
    at: str


@dataclass(frozen=True)
class JobProblem:
    """A scheduled run that did not finish cleanly (failed, partial, skipped)."""

    job: str
    outcome: str
    reason: str


@dataclass
class Digest:
    start: str  # ISO 8601, UTC: the period [start, end)
    end: str
    timezone: str
    base_url: str  # the web UI's address, for links; empty: no links
    sites: list[DigestSite] = field(default_factory=list)  # at most LISTED_SITES, riskiest first
    flagged_total: int = 0
    new_total: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    by_area: dict[str, int] = field(default_factory=dict)
    through_ads: int = 0
    scans: list[ScanHealth] = field(default_factory=list)
    job_problems: list[JobProblem] = field(default_factory=list)
    rechecks: list[Recheck] = field(default_factory=list)
    overdue_orders: list[OverdueOrder] = field(default_factory=list)
    referral_changes: list[ReferralChange] = field(default_factory=list)

    @property
    def trouble(self) -> list[str]:
        """What needs someone's attention about the scanning itself (English keys; the renderer words them)."""
        out = []
        if not self.scans:
            out.append("no_scan")
        if any(scan.status == "failed" for scan in self.scans):
            out.append("scan_failed")
        if any(scan.blocked for scan in self.scans):
            out.append("engine_blocked")
        if any(scan.status == "finished" and scan.pages == 0 for scan in self.scans):
            out.append("nothing_captured")
        if self.job_problems:
            out.append("job_problem")
        return out

    @property
    def nothing_new(self) -> bool:
        return not (self.sites or self.rechecks or self.overdue_orders or self.referral_changes)

    def link(self, path: str) -> str | None:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}" if self.base_url else None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "trouble": self.trouble, "nothing_new": self.nothing_new}


def morning_digest(session: Session, *, end: datetime, timezone: str, base_url: str = "",
                   rule_diseases: Mapping[str, Sequence[str]] | None = None,
                   hours: float = 24.0) -> Digest:
    """The digest of [end - hours, end); `end` is aware or naive UTC. `rule_diseases` (rule id → its
    disease areas) is the fallback for findings whose excerpt names no area."""
    end = _naive_utc(end)
    start = end - timedelta(hours=hours)
    digest = Digest(start=_iso(start), end=_iso(end), timezone=timezone, base_url=base_url)
    _flagged_sites(session, digest, start, end, rule_diseases or {})
    _scan_health(session, digest, start, end)
    digest.job_problems = [
        JobProblem(run.job_name, run.outcome, run.reason or "")
        for run in session.scalars(select(ScheduleRun).where(
            ScheduleRun.outcome.in_(("failed", "partial", "skipped")),
            func.coalesce(ScheduleRun.finished_at, ScheduleRun.scheduled_for) >= start,
            func.coalesce(ScheduleRun.finished_at, ScheduleRun.scheduled_for) < end).order_by(ScheduleRun.id))]
    digest.rechecks = [
        Recheck(decision.case_id, domain, decision.reason.split(":", 1)[0], _iso(decision.at))
        for decision, domain in session.execute(
            select(CaseDecision, Site.domain).join(Case, Case.id == CaseDecision.case_id).join(Site)
            .where(CaseDecision.action == "recheck", CaseDecision.at >= start, CaseDecision.at < end)
            .order_by(CaseDecision.id))]
    digest.overdue_orders = [
        OverdueOrder(order.id, order.case_id, domain, order.kind, order.deadline.isoformat())
        for order, domain in session.execute(
            select(CorrectionOrder, Site.domain).join(Case, Case.id == CorrectionOrder.case_id).join(Site)
            .where(CorrectionOrder.status == "open", CorrectionOrder.deadline < _local_day(end, timezone))
            .order_by(CorrectionOrder.deadline, CorrectionOrder.id))]
    digest.referral_changes = [
        ReferralChange(referral.id, referral.case_id, domain, referral.authority, referral.status,
                       _iso(referral.updated_at))
        for referral, domain in session.execute(
            select(Referral, Site.domain).join(Case, Case.id == Referral.case_id).join(Site)
            .where(Referral.updated_at >= start, Referral.updated_at < end).order_by(Referral.id))]
    return digest


def _flagged_sites(session: Session, digest: Digest, start: datetime, end: datetime,
                   rule_diseases: Mapping[str, Sequence[str]]) -> None:
    findings = session.scalars(select(Finding).where(Finding.created_at >= start, Finding.created_at < end)
                               .order_by(Finding.id)).all()
    by_site = findings_of_flagged_sites(findings)
    if not by_site:
        return
    seen_before = set(session.scalars(select(Finding.site_id).distinct().where(
        Finding.site_id.in_(by_site), Finding.created_at < start, Finding.severity.in_(FLAGGING_SEVERITIES))))
    through_ads = set(session.scalars(select(SerpObservation.site_id).distinct().where(
        SerpObservation.site_id.in_(by_site), SerpObservation.is_ad.is_(True),
        SerpObservation.observed_at >= start, SerpObservation.observed_at < end)))
    sites = []
    areas: Counter[str] = Counter()
    areas_of = site_areas(session, by_site, rule_diseases, start=start, end=end)
    for site_id, site_findings in by_site.items():
        flagging = [f for f in site_findings if f.severity in FLAGGING_SEVERITIES]
        areas.update(areas_of.get(site_id, []))
        case_id = session.scalar(select(Case.id).where(Case.site_id == site_id).order_by(Case.id.desc()).limit(1))
        sites.append(DigestSite(
            domain=session.get_one(Site, site_id).domain,
            risk=max((f.severity for f in flagging), key=SEVERITY_RANK.__getitem__),
            categories=sorted({f.category for f in site_findings}),
            areas=areas_of.get(site_id, []), new=site_id not in seen_before, through_ads=site_id in through_ads,
            case_id=case_id))
    sites.sort(key=lambda s: (not s.new, -SEVERITY_RANK[s.risk], not s.through_ads, s.domain))
    digest.flagged_total = len(sites)
    digest.new_total = sum(s.new for s in sites)
    digest.through_ads = sum(s.through_ads for s in sites)
    digest.by_severity = dict(sorted(Counter(s.risk for s in sites).items(), key=lambda kv: -SEVERITY_RANK[kv[0]]))
    digest.by_area = dict(areas.most_common())
    digest.sites = sites[:LISTED_SITES]


def _scan_health(session: Session, digest: Digest, start: datetime, end: datetime) -> None:
    runs = session.scalars(select(ScanRun).where(ScanRun.started_at >= start, ScanRun.started_at < end)
                           .order_by(ScanRun.id)).all()
    for run in runs:
        previous = session.scalars(
            select(ScanRun).where(ScanRun.id < run.id, ScanRun.status == "finished",
                                  ScanRun.finished_at.is_not(None)).order_by(ScanRun.id.desc()).limit(USUAL_RUNS)).all()
        usual = statistics.median(_minutes(r) for r in previous) if previous else None
        blocked = blocked_engines(session, [run.id]).get(run.id, {})
        digest.scans.append(ScanHealth(
            run_id=run.id, started_at=_iso(run.started_at), status=run.status, pages=run.pages,
            failures=run.failures, flagged_sites=run.flagged_sites,
            minutes=_minutes(run) if run.finished_at else None,
            usual_minutes=round(usual, 1) if usual is not None else None, blocked=blocked, error=run.error))


def _minutes(run: ScanRun) -> float:
    assert run.finished_at is not None
    return round((run.finished_at - run.started_at).total_seconds() / 60, 1)


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat(timespec="seconds")


def _local_day(value: datetime, timezone: str) -> date:
    return value.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()
