"""Checking a tip now, instead of waiting for the next scan, and what the check found.

`check_tip` crawls the tip's URL through the one crawl entry point (`crawler.run.crawl`: a run of its own
in a child process), then settles the run as a scan does (`cases.settle`): marks the tip scanned, opens a
case for a flagged site, indexes the pages' identifiers and updates the operator networks.
`tip_result` is what a monitor is shown afterwards: flagged or not, and the findings at the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from w3lib.url import canonicalize_url

from cases.settle import settle_run
from cases.tips import TipError, tip_outcome
from crawler.run import CrawlTargets, crawl
from rules import RuleSet
from rules.model import FLAGGING_SEVERITIES
from storage.db import transaction
from storage.models import Capture, Case, Finding, Tip


@dataclass
class TipResult:
    """A tip as a monitor sees it after a check: whether its page was flagged, and why."""

    tip_id: int
    url: str
    status: str  # pending | scanned
    scan_run_id: int | None
    outcome: str | None  # "HTTP 200, risk high", "failed: HTTP 404", ... (cases.tips.tip_outcome)
    flagged: bool
    case_id: int | None  # the site's open case, when one was opened
    findings: list[dict[str, Any]] = field(default_factory=list)  # rule_id, title, severity, category, excerpt

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_tip(sessions: sessionmaker[Session], tip_id: int, crawl_settings: Mapping[str, Any], *, blob_dir: Path,
              actor: str, ruleset: RuleSet | None = None) -> TipResult:
    """Crawl tip `tip_id`'s URL now (a new run) and settle the run as a scan would; the tip's result.

    Only a pending tip is checked. A crawl that fails leaves the tip pending (our failure is not the
    site's) and raises TipError."""
    with sessions() as session:
        tip = session.get(Tip, tip_id)
        if tip is None:
            raise TipError(f"no tip {tip_id}")
        if tip.status != "pending":
            # Its result stays the run that answered it; a flagged site is re-checked through its case.
            raise TipError(f"tip {tip_id} was checked already (run {tip.scan_run_id}): re-check its site's case, "
                           "or add the URL again as a new tip")
        url = tip.url
    run = crawl(CrawlTargets(urls=[url]), crawl_settings, ruleset=ruleset, kind="check")
    if run.status != "finished":
        raise TipError(f"the check of tip {tip_id} (run {run.id}) did not finish: {run.error}; the tip stays pending")
    with transaction(sessions) as session:
        # Every pending tip of that page was answered by this crawl, not only the one asked about.
        same_page = session.scalars(select(Tip.id).where(Tip.url == url, Tip.status == "pending")).all()
        settle_run(session, run.id, [tip_id, *same_page], blob_dir=blob_dir, actor=actor)
    with sessions() as session:
        return tip_result(session, tip_id)


def tip_result(session: Session, tip_id: int) -> TipResult:
    """What the run that crawled the tip found at its URL (nothing yet while it is pending)."""
    tip = session.get(Tip, tip_id)
    if tip is None:
        raise TipError(f"no tip {tip_id}")
    result = TipResult(tip.id, tip.url, tip.status, tip.scan_run_id, tip_outcome(session, tip), False, None)
    if tip.scan_run_id is None:
        return result
    wanted = canonicalize_url(tip.url)
    capture_ids = [c.id for c in session.scalars(select(Capture).where(
        Capture.scan_run_id == tip.scan_run_id, Capture.site_id == tip.site_id)) if canonicalize_url(c.url) == wanted]
    for finding in session.scalars(select(Finding).where(Finding.capture_id.in_(capture_ids)).order_by(Finding.id)):
        result.findings.append({"rule_id": finding.rule_id, "title": finding.title, "severity": finding.severity,
                                "category": finding.category, "excerpt": finding.excerpt})
    result.flagged = any(f["severity"] in FLAGGING_SEVERITIES for f in result.findings)
    if result.flagged:
        result.case_id = session.scalar(select(Case.id).where(Case.site_id == tip.site_id)
                                        .order_by(Case.id.desc()).limit(1))
    return result
