"""Reading cases: the list a supervisor filters, one case in full, and each rule's review record.

Plain typed records (JSON-ready) built from the rows, so the CLI and later the web UI render the
same data; nothing here changes anything (steps are `cases.lifecycle`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from cases.disease_areas import site_areas
from cases.lifecycle import STATUSES, CaseError, allowed_actions, get_case
from rules.model import DISEASES
from rules.reference.diseases import UNSPECIFIED
from storage.audit import events_for
from storage.models import (
    Capture,
    Case,
    CaseDecision,
    Finding,
    NetworkMember,
    RuleVerdict,
    SerpObservation,
    Site,
    Tip,
)


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=UTC).isoformat(timespec="seconds") if moment else None


@dataclass
class CaseSummary:
    id: int
    site: str
    status: str
    risk: str
    categories: list[str]
    assignee: str | None
    opened_at: str
    updated_at: str
    diseases: list[str] = field(default_factory=list)  # disease areas of its flagging findings (list_cases)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CaseDetail:
    case: CaseSummary
    allowed_actions: list[str]
    findings: list[dict[str, Any]] = field(default_factory=list)
    captures: list[dict[str, Any]] = field(default_factory=list)
    tips: list[int] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    network_id: int | None = None  # the operator network its site belongs to (cases.networks)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "case": self.case.to_json()}


def _summary(case: Case) -> CaseSummary:
    return CaseSummary(id=case.id, site=case.site.domain, status=case.status, risk=case.risk,
                       categories=list(case.categories), assignee=case.assignee,
                       opened_at=_iso(case.opened_at) or "", updated_at=_iso(case.updated_at) or "")


def list_cases(session: Session, *, status: str | None = None, assignee: str | None = None,
               risk: str | None = None, category: str | None = None, since: datetime | None = None,
               through_ads: bool = False, disease: str | None = None,
               rule_diseases: Mapping[str, Sequence[str]] | None = None) -> list[CaseSummary]:
    """Cases, newest first, filtered by status, assignee, risk, category, opened since (UTC), whether
    paid search ads led to the site, and disease area (of the site's flagging findings: see
    `rules.reference.diseases.finding_areas`; `rule_diseases` maps rule id → its areas)."""
    if status is not None and status not in STATUSES:
        raise CaseError(f"unknown status {status!r}; statuses: {', '.join(STATUSES)}")
    if disease is not None and disease not in (*DISEASES, UNSPECIFIED):
        raise CaseError(f"unknown disease area {disease!r}; areas: {', '.join((*DISEASES, UNSPECIFIED))}")
    # The site comes with its case (contains_eager): no query per case for its domain.
    query = select(Case).join(Site, Case.site_id == Site.id).options(contains_eager(Case.site)).order_by(Case.id.desc())
    if status:
        query = query.where(Case.status == status)
    if assignee:
        query = query.where(Case.assignee == assignee)
    if risk:
        query = query.where(Case.risk == risk)
    if since:
        query = query.where(Case.opened_at >= since)
    if through_ads:
        query = query.where(Case.site_id.in_(select(SerpObservation.site_id).where(SerpObservation.is_ad.is_(True))))
    cases = session.scalars(query).all()
    if category:  # categories are a JSON list: filtered here, alike on SQLite and PostgreSQL
        cases = [c for c in cases if category in (c.categories or [])]
    areas = site_areas(session, {case.site_id for case in cases}, rule_diseases or {})
    summaries = []
    for case in cases:
        summary = _summary(case)
        summary.diseases = areas.get(case.site_id, [])
        if disease is None or disease in summary.diseases:
            summaries.append(summary)
    return summaries


@dataclass
class CasesPage:
    """One page of the case list: its cases, how many match on all pages, and where this page is."""

    cases: list[CaseSummary]
    total: int
    page: int
    pages: int
    page_size: int

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "cases": [c.to_json() for c in self.cases]}


def cases_page(session: Session, *, status: str | None = None, assignee: str | None = None, page: int = 1,
               page_size: int = 50, rule_diseases: Mapping[str, Sequence[str]] | None = None) -> CasesPage:
    """Cases newest first, filtered by status and assignee, cut into pages in SQL (a window count gives the
    total with the page: no second query unless the page asked for is past the end, which shows the last
    one); disease areas are read for the page's sites only."""
    if status is not None and status not in STATUSES:
        raise CaseError(f"unknown status {status!r}; statuses: {', '.join(STATUSES)}")
    if page_size < 1:
        raise CaseError(f"page size {page_size} is not a positive number")
    query = select(Case.id).join(Site, Case.site_id == Site.id)
    if status:
        query = query.where(Case.status == status)
    if assignee:
        query = query.where(Case.assignee == assignee)
    counted = query.add_columns(func.count().over()).order_by(Case.id.desc()).limit(page_size)
    rows = session.execute(counted.offset((max(1, page) - 1) * page_size)).all()
    if rows:
        total = rows[0][1]
    else:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // page_size))
    if not rows and page > pages and total:  # past the end: the last page
        rows = session.execute(counted.offset((pages - 1) * page_size)).all()
    page = min(max(1, page), pages)
    ids = [row[0] for row in rows]
    cases = session.scalars(select(Case).join(Site, Case.site_id == Site.id).options(contains_eager(Case.site))
                            .where(Case.id.in_(ids)).order_by(Case.id.desc())).all()
    areas = site_areas(session, {case.site_id for case in cases}, rule_diseases or {})
    summaries = []
    for case in cases:
        summary = _summary(case)
        summary.diseases = areas.get(case.site_id, [])
        summaries.append(summary)
    return CasesPage(summaries, total, page, pages, page_size)


def case_detail(session: Session, case_id: int) -> CaseDetail:
    case = get_case(session, case_id)
    detail = CaseDetail(case=_summary(case), allowed_actions=[*allowed_actions(case.status), "assign"])
    for finding in session.scalars(select(Finding).where(Finding.site_id == case.site_id).order_by(Finding.id)):
        detail.findings.append({"id": finding.id, "rule_id": finding.rule_id, "title": finding.title,
                                "severity": finding.severity, "category": finding.category,
                                "legal_basis": list(finding.legal_basis), "excerpt": finding.excerpt,
                                "capture_id": finding.capture_id, "ad_id": finding.serp_observation_id,
                                # Images the finding was read in (OCR), by SHA-256: the UI shows each outlined.
                                "ocr_images": list(dict.fromkeys(
                                    entry["sha256"] for entry in finding.ocr or []
                                    if isinstance(entry, dict) and isinstance(entry.get("sha256"), str)))})
    for capture in session.scalars(select(Capture).where(Capture.site_id == case.site_id).order_by(Capture.id)):
        detail.captures.append({"id": capture.id, "url": capture.url, "fetched_at": _iso(capture.fetched_at),
                                "status_code": capture.status_code, "rendered": capture.rendered,
                                "error": capture.error, "risk": capture.risk, "server_ip": capture.server_ip})
    detail.tips = list(session.scalars(select(Tip.id).where(Tip.site_id == case.site_id).order_by(Tip.id)))
    detail.network_id = session.scalar(select(NetworkMember.network_id).where(NetworkMember.site_id == case.site_id))
    for decision in session.scalars(select(CaseDecision).where(CaseDecision.case_id == case_id)
                                    .order_by(CaseDecision.id)):
        detail.decisions.append({"at": _iso(decision.at), "actor": decision.actor, "action": decision.action,
                                 "from": decision.from_status, "to": decision.to_status, "reason": decision.reason})
    for event in events_for(session, [f"case:{case_id}"]):
        detail.audit.append({"id": event.id, "at": _iso(event.at), "actor": event.actor, "action": event.action,
                             "details": event.details})
    return detail


@dataclass
class RuleRecord:
    rule_id: str
    confirmed: int
    dismissed: int

    @property
    def dismissal_rate(self) -> float | None:
        total = self.confirmed + self.dismissed
        return round(self.dismissed / total, 3) if total else None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "dismissal_rate": self.dismissal_rate}


def rule_stats(session: Session, *, since: datetime | None = None, until: datetime | None = None) -> list[RuleRecord]:
    """Per rule, how many of its case verdicts in [since, until) confirmed and dismissed it: the
    false-alarm record rule authors work from. Highest dismissal rate first."""
    query = select(RuleVerdict.rule_id, RuleVerdict.verdict, func.count()).group_by(RuleVerdict.rule_id,
                                                                                    RuleVerdict.verdict)
    if since:
        query = query.where(RuleVerdict.at >= since)
    if until:
        query = query.where(RuleVerdict.at < until)
    records: dict[str, RuleRecord] = {}
    for rule_id, verdict, count in session.execute(query):
        record = records.setdefault(rule_id, RuleRecord(rule_id, 0, 0))
        setattr(record, verdict, getattr(record, verdict) + count)
    return sorted(records.values(), key=lambda r: (-(r.dismissal_rate or 0), r.rule_id))
