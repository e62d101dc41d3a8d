"""From the database to an evidence package: which captures, findings and custody events belong to
a case (or to a site over a period), handed to `build_package` as plain values.

The export is itself audited ("exported", with the package's SHA-256) in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from storage.models import Capture, Case, Finding, SerpObservation, Site


class NothingToExport(Exception):
    """No stored capture matches the case or site and period asked for."""


def export_evidence(session: Session, blobs: BlobStore, keys: KeyPair, out: Path, *, case_id: int | None = None,
                    domain: str | None = None, date_from: date | None = None, date_to: date | None = None,
                    timezone: str = "Asia/Shanghai", tsa_url: str | None = None,
                    exported_by: str = "pharmwatch",
                    rule_descriptions: Mapping[str, str] | None = None) -> PackageSummary:
    """Write the evidence package of a case (or of a site over a period) to `out` and audit it.

    `rule_descriptions` (rule id → the rule's description) say, for each finding, why its wording
    is a violation (a product name next to 西地那非 signals an additive only if you know why)."""
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
    findings = one_per_fact(_page_findings(session, blobs, captures))
    # The images findings were read in (OCR): kept by the scan as `<sha256>.img`, shown outlined in the report.
    ocr_images = {entry["sha256"]: blobs.get(entry["sha256"], ".img") for finding in findings
                  for entry in finding.get("ocr") or [] if blobs.path(entry["sha256"], ".img").is_file()}
    observations = _search_observations(session, site.id, captures)
    findings += _ad_findings(session, observations)
    for finding in findings:
        if rule_descriptions and finding["rule_id"] in rule_descriptions:
            finding["rule_description"] = " ".join(rule_descriptions[finding["rule_id"]].split())
    search = [{**_columns(o, "id", "engine", "query", "page", "rank", "is_ad", "ad_label", "advertiser", "title",
                          "snippet", "url", "displayed_url", "observed_at"),
               "result_page_sha256": o.query_run.body_sha256 if o.query_run else None} for o in observations]
    result_pages = {o.query_run.body_sha256: blobs.get(o.query_run.body_sha256, ".html") for o in observations
                    if o.query_run and o.query_run.body_sha256}
    subjects = [f"capture:{c.id}" for c in captures] + ([f"case:{case_row.id}"] if case_row else [])
    custody = [_columns(event) for event in events_for(session, subjects)]
    case = ({"id": case_row.id, "site": site.domain, "status": case_row.status, "risk": case_row.risk,
             "categories": case_row.categories, "opened_at": case_row.opened_at} if case_row else
            {"id": None, "site": site.domain, "status": "—", "risk": site.risk,
             "categories": sorted({f["category"] for f in findings}), "opened_at": None})
    summary = build_package(out, warcs=[blobs.path(c.warc_sha256, ".warc.gz") for c in captures], pages=pages,
                            case=case, findings=findings, custody=custody, screenshots=screenshots, keys=keys,
                            tsa_url=tsa_url, exported_by=exported_by, timezone=timezone, search=search,
                            result_pages=result_pages, ocr_images=ocr_images)
    record_event(session, actor=exported_by, action="exported",
                 subject=f"case:{case_row.id}" if case_row else f"site:{site.domain}",
                 details={"file": str(out), "sha256": summary.sha256, "captures": len(captures),
                          "findings": len(findings), "key": keys.fingerprint})
    return summary


def _columns(row: Any, *names: str) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns
            if not names or column.key in names}


def _page_findings(session: Session, blobs: BlobStore, captures: list[Capture]) -> list[dict[str, Any]]:
    findings = []
    for finding in session.scalars(select(Finding).where(Finding.capture_id.in_([c.id for c in captures]))
                                   .order_by(Finding.id)):
        capture = finding.capture
        text = blobs.get(capture.text_sha256, ".txt").decode("utf-8") if capture and capture.text_sha256 else ""
        findings.append({**_columns(finding), "url": capture.url if capture else None,
                         "fetched_at": capture.fetched_at if capture else None,
                         "rendered": capture.rendered if capture else None,
                         "matches": highlights_from_spans(text, finding.spans),
                         "registry_facts": registry_facts(finding.category, capture.signals if capture else {})})
    return findings


def registry_facts(category: str, signals: dict[str, Any]) -> list[dict[str, Any]]:
    """What the registries hold for the numbers a licence or approval finding rests on: the checks
    the analysis made (`licence_checks`, `approval_checks`) whose verdict is not "valid" — e.g.
    国药准字Z53020206 is registered to another product — so the finding says why, not only that."""
    if category != "forged_or_invalid_licence":
        return []
    checks = [*(signals.get("licence_checks") or []), *(signals.get("approval_checks") or [])]
    return [check for check in checks if isinstance(check, dict) and check.get("verdict") != "valid"]


def one_per_fact(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One finding per rule and matched wording: the plain and the rendered copy of a page (or the
    same page on two days) state one fact, listed once with every capture it was seen in (`seen_in`)."""
    facts: dict[tuple[Any, ...], dict[str, Any]] = {}
    for finding in findings:
        key = (finding["rule_id"], finding.get("url"), tuple(sorted(finding.get("matches") or [])))
        seen = {"capture_id": finding.get("capture_id"), "url": finding.get("url"),
                "fetched_at": finding.get("fetched_at"), "rendered": finding.get("rendered")}
        if key in facts:
            facts[key]["seen_in"].append(seen)
        else:
            facts[key] = {**finding, "seen_in": [seen]}
    return list(facts.values())


def _search_observations(session: Session, site_id: int, captures: list[Capture]) -> list[SerpObservation]:
    """The search results and ads that led to the site, in the scans the exported captures come from."""
    runs = sorted({c.scan_run_id for c in captures})
    return list(session.scalars(select(SerpObservation).where(SerpObservation.site_id == site_id,
                                                              SerpObservation.scan_run_id.in_(runs))
                                .order_by(SerpObservation.observed_at, SerpObservation.id)))


def _ad_findings(session: Session, observations: list[SerpObservation]) -> list[dict[str, Any]]:
    """Findings on the ads' own copy: an advertisement is itself the violation (广告法)."""
    by_id = {o.id: o for o in observations}
    out = []
    for finding in session.scalars(select(Finding).where(Finding.serp_observation_id.in_(list(by_id)))
                                   .order_by(Finding.id)):
        ad = by_id[finding.serp_observation_id]
        copy = f"{ad.title}\n{ad.snippet}"
        out.append({**_columns(finding), "url": ad.url, "fetched_at": ad.observed_at,
                    "source": f"{ad.engine} 搜索“{ad.query}”第 {ad.page} 页{'广告' if ad.is_ad else '结果'} #{ad.rank}"
                              + (f"（{ad.advertiser}）" if ad.advertiser else ""),
                    "matches": highlights_from_spans(copy, finding.spans)})
    return out


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
