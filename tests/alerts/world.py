"""A small stored world for the alert tests: scans, their findings, built as a scan would have written them."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.models import Capture, Finding, ScanRun, Site

NOW = datetime(2026, 12, 7, 23, 30)  # UTC: 07:30 on 8 December in Asia/Shanghai
TZ = "Asia/Shanghai"


def scan(session, *, hours_ago: float, minutes: float = 30, status: str = "finished", pages: int = 10,
         error: str | None = None) -> ScanRun:  # type: ignore[no-untyped-def]
    started = NOW - timedelta(hours=hours_ago)
    run = ScanRun(started_at=started, finished_at=started + timedelta(minutes=minutes), status=status,
                  pages=pages, error=error)
    session.add(run)
    session.flush()
    return run


def flag(session, run: ScanRun, domain: str, *, severity: str = "high", excerpt: str = "三个疗程根治糖尿病",
         category: str = "disease_cure_claim", at: datetime | None = None) -> Site:  # type: ignore[no-untyped-def]
    site = session.query(Site).filter_by(domain=domain).one_or_none() or Site(domain=domain)
    session.add(site)
    session.flush()
    capture = Capture(scan_run_id=run.id, site_id=site.id, url=f"http://{domain}/", status_code=200)
    session.add(capture)
    session.flush()
    session.add(Finding(capture_id=capture.id, site_id=site.id, scan_run_id=run.id, rule_id="pw-cure", rule_version=1,
                        rule_sha256="0" * 64, title="宣称治愈", category=category, severity=severity,
                        excerpt=excerpt, created_at=at or run.started_at + timedelta(minutes=5)))
    session.flush()
    return site
