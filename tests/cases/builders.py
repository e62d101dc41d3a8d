"""Rows a scan would have written, built directly: a site with findings, and its case opened as a scan does."""

from __future__ import annotations

from cases.opening import open_cases_for_scan
from storage import db
from storage.models import Capture, Case, Finding, Site
from storage.scans import start_scan_run


def scan_with(sessions, rules: dict[str, str], domain: str = "tangan-cure.test") -> int:  # type: ignore[no-untyped-def]
    """A scan that found `rules` (rule id → severity) on `domain`; its cases opened as a scan does."""
    with db.transaction(sessions) as session:
        run = start_scan_run(session, "digest")
        site = session.query(Site).filter_by(domain=domain).one_or_none() or Site(domain=domain)
        session.add(site)
        session.flush()
        capture = Capture(scan_run_id=run.id, site_id=site.id, url=f"http://{domain}/", status_code=200)
        session.add(capture)
        session.flush()
        for rule_id, severity in rules.items():
            session.add(Finding(capture_id=capture.id, site_id=site.id, scan_run_id=run.id, rule_id=rule_id,
                                rule_version=1, rule_sha256="0" * 64, title=f"规则 {rule_id}",
                                category="disease_cure_claim", severity=severity, excerpt="根治糖尿病"))
        session.flush()
        open_cases_for_scan(session, run.id)
        return run.id


def the_case(sessions) -> Case:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.query(Case).order_by(Case.id.desc()).first()
