"""Scan-run bookkeeping: open a run, and close it with counts taken from what was stored."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from storage.models import (
    Capture,
    Finding,
    ScanRun,
    SearchQueryRun,
    SerpObservation,
    utcnow,
)

UNREAD_SEARCH_STATUSES = ("failed", "blocked", "parse_error")  # a result page that was not read


#: What started a run: `pharmwatch scan` (resumable), a tip checked now, a case re-checked.
RUN_KINDS = ("scan", "check", "recheck")


def start_scan_run(session: Session, rules_digest: str, kind: str = "scan") -> ScanRun:
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {kind!r}; expected one of {', '.join(RUN_KINDS)}")
    run = ScanRun(rules_digest=rules_digest, status="running", kind=kind)
    session.add(run)
    session.flush()
    return run


def interrupted_scan_run(session: Session) -> ScanRun | None:
    """The newest scan run still marked running. Call only while holding the scan lock: then no live
    process owns it, so it was interrupted (killed, crashed) and can be resumed. A tip check or a re-check
    runs without the scan lock, beside a scan: its run is never taken for an interrupted scan."""
    return session.scalars(select(ScanRun).where(ScanRun.status == "running", ScanRun.kind == "scan")
                           .order_by(ScanRun.id.desc())).first()


def abandon_scan_run(session: Session, run_id: int, *, flagging_severities: Collection[str]) -> None:
    finish_scan_run(session, run_id, error="interrupted; abandoned by `pharmwatch scan --new`",
                    flagging_severities=flagging_severities)


def done_search_pages(session: Session, run_id: int) -> list[tuple[str, str, int]]:
    """(engine, query, page) already stored for a run: a resumed scan does not ask again."""
    rows = session.execute(select(SearchQueryRun.engine, SearchQueryRun.query, SearchQueryRun.page)
                           .where(SearchQueryRun.scan_run_id == run_id)).all()
    return [(engine, query, page) for engine, query, page in rows]


def finish_scan_run(session: Session, run_id: int, error: str | None = None, *,
                    flagging_severities: Collection[str]) -> ScanRun:
    """Counts come from the rows, so they are true even after a crash and a re-run.

    `flagging_severities`: the finding severities that flag a site (`rules.model.FLAGGING_SEVERITIES`,
    handed down: what flags a site is the rules' decision, and storage does not import rules).
    """
    run = session.get_one(ScanRun, run_id)

    def count(statement) -> int:  # type: ignore[no-untyped-def]
        return session.scalar(statement) or 0

    run.queries = count(select(func.count(distinct(SearchQueryRun.query)))
                        .where(SearchQueryRun.scan_run_id == run_id))
    run.results = count(select(func.count()).select_from(SerpObservation)
                        .where(SerpObservation.scan_run_id == run_id, SerpObservation.is_ad.is_(False)))
    run.ads = count(select(func.count()).select_from(SerpObservation)
                    .where(SerpObservation.scan_run_id == run_id, SerpObservation.is_ad.is_(True)))
    pages, failed, _searched, unread = capture_counts(session, run_id)
    run.pages, run.failures = pages, failed + unread
    run.findings = count(select(func.count()).select_from(Finding).where(Finding.scan_run_id == run_id))
    run.flagged_sites = count(select(func.count(distinct(Finding.site_id)))
                              .where(Finding.scan_run_id == run_id, Finding.severity.in_(list(flagging_severities))))
    run.finished_at = utcnow()
    run.status = "failed" if error else "finished"
    run.error = error
    return run


def capture_counts(session: Session, run_id: int) -> tuple[int, int, int, int]:
    """(pages captured, pages failed, search pages read, search pages not read) of a run."""
    def count(statement) -> int:  # type: ignore[no-untyped-def]
        return session.scalar(statement) or 0

    captures = select(func.count()).select_from(Capture).where(Capture.scan_run_id == run_id)
    searches = select(func.count()).select_from(SearchQueryRun).where(SearchQueryRun.scan_run_id == run_id)
    unread = SearchQueryRun.status.in_(UNREAD_SEARCH_STATUSES)
    return (count(captures.where(Capture.error.is_(None))), count(captures.where(Capture.error.is_not(None))),
            count(searches.where(~unread)), count(searches.where(unread)))


def failure_reasons(session: Session, run_id: int) -> list[tuple[str, str]]:
    """(what, why) for every failed page and search of a run, for the end-of-scan summary."""
    pages = session.execute(select(Capture.url, Capture.error)
                            .where(Capture.scan_run_id == run_id, Capture.error.is_not(None))).all()
    searches = session.execute(
        select(SearchQueryRun.url, SearchQueryRun.status, SearchQueryRun.reason)
        .where(SearchQueryRun.scan_run_id == run_id, SearchQueryRun.status.in_(UNREAD_SEARCH_STATUSES))
    ).all()
    return [(url, error) for url, error in pages] + [(url, f"{status}: {reason}") for url, status, reason in searches]


def blocked_engines(session: Session, run_ids: Collection[int]) -> dict[int, dict[str, int]]:
    """Per run: engine → result pages it refused as blocked (the digest, alerts and the scan-runs page)."""
    blocked: dict[int, dict[str, int]] = {}
    for run_id, engine, count in session.execute(
            select(SearchQueryRun.scan_run_id, SearchQueryRun.engine, func.count())
            .where(SearchQueryRun.scan_run_id.in_(list(run_ids)), SearchQueryRun.status == "blocked")
            .group_by(SearchQueryRun.scan_run_id, SearchQueryRun.engine).order_by(SearchQueryRun.engine)):
        blocked.setdefault(run_id, {})[engine] = count
    return blocked
