"""Opening cases: every site flagged by a scan gets one active case, updated on later scans.

A site whose case was dismissed is not reopened by findings of rules already dismissed there (the
reviewer judged them false alarms); a flagging finding of another rule reopens it, saying which.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.lifecycle import ACTIVE, act, dismissed_rules
from rules.model import FLAGGING_SEVERITIES, SEVERITY_RANK
from storage.models import Case, Finding, utcnow


def findings_of_flagged_sites(findings: Sequence[Finding]) -> dict[int, list[Finding]]:
    """`findings` by site, for the sites with a flagging finding among them. Low findings alone flag
    nothing; on a flagged site they are part of what the monitor sees (its categories, its case)."""
    by_site: dict[int, list[Finding]] = {}
    for finding in findings:
        by_site.setdefault(finding.site_id, []).append(finding)
    return {site_id: found for site_id, found in by_site.items()
            if any(f.severity in FLAGGING_SEVERITIES for f in found)}


def open_cases_for_scan(session: Session, scan_run_id: int) -> list[Case]:
    """Create, refresh or reopen the case of each site with flagging findings in this scan (its
    categories: those of all its findings, low ones included); returns those cases."""
    findings = session.scalars(select(Finding).where(Finding.scan_run_id == scan_run_id)).all()
    cases = []
    for site_id, site_findings in findings_of_flagged_sites(findings).items():
        risk = max((f.severity for f in site_findings), key=SEVERITY_RANK.__getitem__)
        categories = sorted({f.category for f in site_findings})
        case = session.scalar(select(Case).where(Case.site_id == site_id, Case.status.in_(ACTIVE))
                              .order_by(Case.id.desc()))
        latest = case or session.scalar(select(Case).where(Case.site_id == site_id).order_by(Case.id.desc()))
        if case is None and latest is not None and latest.status == "dismissed":
            flagging = {f.rule_id for f in site_findings if f.severity in FLAGGING_SEVERITIES}
            new_rules = sorted(flagging - dismissed_rules(session, latest.id))
            if not new_rules:
                continue  # only findings a reviewer already dismissed here: the case stays dismissed
            act(session, latest.id, "reopen", actor="scan",
                reason=f"scan {scan_run_id}: new finding(s) of {', '.join(new_rules)}")
            case = latest
        if case is None:
            case = Case(site_id=site_id, risk=risk, categories=categories, opened_by_scan_id=scan_run_id)
            session.add(case)
        else:
            case.risk = max(case.risk, risk, key=SEVERITY_RANK.__getitem__)
            case.categories = sorted(set(case.categories) | set(categories))
            case.updated_at = utcnow()
        cases.append(case)
    session.flush()
    return cases
