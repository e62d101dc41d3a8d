"""Re-checking a case: crawl the pages that proved the violation again, and say what became of it.

The proving pages are those of the case's flagging findings. They are crawled through the same
entry point as a scan (`crawler.run.crawl`, a run of their own), and each new capture is compared
with what proved the violation:

- `unreachable`: the page is gone (DNS failure, refused, 404/410): the site closed;
- `moved`: it redirects to another registrable domain (the new domain is named on the case);
- `still_present`: a rule that flagged the site fires again (the rules are listed);
- `violation_gone`: the page answers and none of those rules fires.

The outcome is recorded on the case (a `recheck` decision and an audit event); the status does not
change by itself: a supervisor closes or acts on the case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cases.lifecycle import CaseError, Step, flagging_findings, get_case, record_step
from crawler.domains import site_of
from crawler.run import CrawlTargets, crawl
from rules import RuleSet
from rules.model import FLAGGING_SEVERITIES
from storage.db import transaction
from storage.models import Capture, Finding

_GONE_STATUSES = (404, 410)


@dataclass
class PageOutcome:
    url: str
    outcome: str
    detail: str


@dataclass
class RecheckResult:
    case_id: int
    run_id: int
    outcome: str  # the case's: the worst of its pages (still_present > moved > violation_gone > unreachable)
    pages: list[PageOutcome] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "run_id": self.run_id, "outcome": self.outcome,
                "pages": [page.__dict__ for page in self.pages]}


def proving_urls(session: Session, case_id: int) -> tuple[list[str], set[str]]:
    """The pages of the case's flagging findings, and the rules that flagged them."""
    pages = sorted((f.capture.id, f.capture.url, f.rule_id)
                   for f in flagging_findings(session, get_case(session, case_id)) if f.capture is not None)
    return list(dict.fromkeys(url for _, url, _ in pages)), {rule for _, _, rule in pages}


def recheck_case(sessions: sessionmaker[Session], case_id: int, crawl_settings: Mapping[str, Any], *,
                 actor: str, ruleset: RuleSet | None = None) -> RecheckResult:
    """Crawl the case's proving pages again (a child process; see `crawler.run.crawl`) and record the outcome."""
    with sessions() as session:
        case = get_case(session, case_id)
        if case.status == "closed":
            raise CaseError(f"case {case_id} is closed: reopen it to re-check it")
        site = case.site.domain
        urls, rules = proving_urls(session, case_id)
    if not urls:
        raise CaseError(f"case {case_id} has no captured page with a flagging finding to re-check")
    # Only the proving pages themselves: a re-check follows no links.
    run = crawl(CrawlTargets(urls=urls), {**crawl_settings, "CAPTURE_MAX_DEPTH": 0}, ruleset=ruleset,
                kind="recheck")
    if run.status != "finished":
        # Our crawl failing is not the site closing: nothing is recorded on the case.
        raise CaseError(f"the re-check crawl (run {run.id}) did not finish: {run.error}; nothing recorded")
    with transaction(sessions) as session:
        result = RecheckResult(case_id, run.id, "violation_gone")
        for url in urls:
            result.pages.append(_page_outcome(session, run.id, url, site, rules))
        result.outcome = _case_outcome([page.outcome for page in result.pages])
        case = get_case(session, case_id)
        summary = "; ".join(f"{page.url}: {page.outcome} ({page.detail})" for page in result.pages)
        record_step(session, case, Step(case_id, "recheck", case.status, case.status), actor=actor,
                    reason=f"{result.outcome}: {summary}", details=result.to_json())
    return result


def _page_outcome(session: Session, run_id: int, url: str, site: str, rules: set[str]) -> PageOutcome:
    captures = session.scalars(select(Capture).where(Capture.scan_run_id == run_id, Capture.url == url)
                               .order_by(Capture.id)).all()
    if not captures:
        return PageOutcome(url, "unreachable", "the re-check could not reach the page")
    failed = [c for c in captures if c.error]
    landed = next((c for c in captures if not c.error), None)
    if landed is None:
        error = failed[0].error or ""
        return PageOutcome(url, "unreachable", error)
    final_site = site_of(landed.final_url or landed.url)
    if final_site and final_site != site:
        return PageOutcome(url, "moved", f"redirects to {landed.final_url} (site {final_site})")
    if landed.status_code in _GONE_STATUSES:
        return PageOutcome(url, "unreachable", f"HTTP {landed.status_code}")
    again = sorted(set(session.scalars(select(Finding.rule_id).where(
        Finding.capture_id.in_([c.id for c in captures]), Finding.severity.in_(FLAGGING_SEVERITIES)))) & rules)
    if again:
        return PageOutcome(url, "still_present", ", ".join(again))
    return PageOutcome(url, "violation_gone", f"HTTP {landed.status_code}, none of {', '.join(sorted(rules))}")


#: A case's outcome is the worst of its pages', in this order.
OUTCOMES = ("still_present", "moved", "violation_gone", "unreachable")


def _case_outcome(outcomes: list[str]) -> str:
    for outcome in OUTCOMES:
        if outcome in outcomes:
            return outcome
    return "unreachable"
