"""From the database to an evidence package: which captures, findings and custody events belong to
a case (or to a site over a period), handed to `build_package` as plain values.

The export is itself audited ("exported", with the package's SHA-256) in the caller's transaction.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.evidence.keys import KeyPair
from cases.evidence.package import PackageSummary, PageEntry, build_package
from cases.evidence.report import highlights_from_spans
from storage.audit import events_for, record_event
from storage.blobs import BlobStore
from storage.models import Capture, Case, Finding, Site


class NothingToExport(Exception):
    """No stored capture matches the case or site and period asked for."""


def export_evidence(session: Session, blobs: BlobStore, keys: KeyPair, out: Path, *, case_id: int | None = None,
                    domain: str | None = None, date_from: date | None = None, date_to: date | None = None,
                    timezone: str = "Asia/Shanghai", tsa_url: str | None = None,
                    exported_by: str = "pharmwatch") -> PackageSummary:
    case_row = session.get(Case, case_id) if case_id is not None else None
    if case_id is not None and case_row is None:
        raise NothingToExport(f"no case {case_id}")
    site = case_row.site if case_row else session.scalar(select(Site).where(Site.domain == domain))
    if site is None:
        raise NothingToExport(f"no site {domain!r} in the database")
    query = select(Capture).where(Capture.site_id == site.id, Capture.warc_sha256.is_not(None))
    zone = ZoneInfo(timezone)
    if date_from:
        query = query.where(Capture.fetched_at >= _utc_naive(datetime.combine(date_from, time.min, zone)))
    if date_to:
        query = query.where(Capture.fetched_at < _utc_naive(datetime.combine(date_to, time.max, zone)))
    captures = session.scalars(query.order_by(Capture.fetched_at, Capture.id)).all()
    if not captures:
        raise NothingToExport(f"no stored captures of {site.domain} in that period")

    pages = [PageEntry(url=c.url, fetched_at=c.fetched_at, title=c.title, final_url=c.final_url,
                       server_ip=c.server_ip, status_code=c.status_code, rendered=c.rendered, capture_id=c.id,
                       warc_sha256=c.warc_sha256, screenshot_sha256=c.screenshot_sha256) for c in captures]
    screenshots = {c.screenshot_sha256: blobs.get(c.screenshot_sha256, ".png")
                   for c in captures if c.screenshot_sha256}
    findings = []
    for finding in session.scalars(select(Finding).where(Finding.capture_id.in_([c.id for c in captures]))):
        capture = finding.capture
        text = blobs.get(capture.text_sha256, ".txt").decode("utf-8") if capture and capture.text_sha256 else ""
        findings.append({**_columns(finding), "url": capture.url if capture else None,
                         "fetched_at": capture.fetched_at if capture else None,
                         "matches": highlights_from_spans(text, finding.spans)})
    subjects = [f"capture:{c.id}" for c in captures] + ([f"case:{case_row.id}"] if case_row else [])
    custody = [_columns(event) for event in events_for(session, subjects)]
    case = ({"id": case_row.id, "site": site.domain, "status": case_row.status, "risk": case_row.risk,
             "categories": case_row.categories, "opened_at": case_row.opened_at} if case_row else
            {"id": None, "site": site.domain, "status": "—", "risk": site.risk,
             "categories": sorted({f["category"] for f in findings}), "opened_at": None})
    summary = build_package(out, warcs=[blobs.path(c.warc_sha256, ".warc.gz") for c in captures], pages=pages,
                            case=case, findings=findings, custody=custody, screenshots=screenshots, keys=keys,
                            tsa_url=tsa_url, exported_by=exported_by, timezone=timezone)
    record_event(session, actor=exported_by, action="exported",
                 subject=f"case:{case_row.id}" if case_row else f"site:{site.domain}",
                 details={"file": str(out), "sha256": summary.sha256, "captures": len(captures),
                          "findings": len(findings), "key": keys.fingerprint})
    return summary


def _columns(row: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
