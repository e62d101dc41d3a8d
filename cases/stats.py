"""Period statistics (issue #17): what the office checked, found and did, per day, week or month, and in total.

Owns `period_stats` and its dataclasses (`PeriodStats` → `StatTable` → `StatRow`); renderers are in
`cases/stats_render.py`. Each figure is one query over the stored rows of the whole range (times are
stored in UTC), bucketed here by the local day in the report timezone: SQLite and PostgreSQL share no
time-zone function, and a capture at 23:30 Asia/Shanghai belongs to that local day, not to the UTC one.
Totals are counted from the same rows, never summed from the buckets (a site checked in two weeks is
one site in the total). Weeks start on Monday; months are calendar months; the first and last bucket
are cut to the range asked for. What each figure counts: `DEFINITIONS`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cases.daily import day_bounds
from rules.model import FLAGGING_SEVERITIES
from rules.reference.diseases import finding_areas
from storage.models import (
    AuditEvent,
    BlacklistEntry,
    Capture,
    Case,
    CaseDecision,
    CorrectionOrder,
    Finding,
    Referral,
    SearchQueryRun,
    SerpObservation,
)

BY: Final = ("day", "week", "month")
TOTAL: Final = "total"  # the period label of the rows over the whole range
#: Search result pages that were read (results or "no results"); blocked, unparsable and failed ones were not.
READ_STATUSES: Final = ("ok", "no_results")
#: The re-check outcome that means the site is gone (cases.recheck: DNS failure, refused, 404/410 on every page).
SITE_GONE: Final = "unreachable"

#: What every figure counts, by its JSON key (also in the JSON output and the XLSX's notes sheet).
DEFINITIONS: Final[Mapping[str, str]] = {
    "pages_checked": "captures that got an answer (no fetch error), plain fetches only: a page also rendered "
                     "in Chromium counts once; by capture time",
    "failed_fetches": "plain fetches that failed (DNS, refused, timeout, refused address, ...)",
    "sites_checked": "distinct sites with at least one page checked",
    "findings": "findings (rule hits on a page or a search ad's text, any severity) created",
    "flagging_findings": "findings of severity medium or higher (what puts a site on the daily list)",
    "flagged_sites": "distinct sites with at least one flagging finding",
    "result_pages": "search result pages requested (one per engine x query x page), by fetch time",
    "result_pages_read": "of those, pages read (results or 'no results'; not blocked, unparsable or failed)",
    "ads": "paid ads observed on result pages (serp_observation.is_ad), by observation time",
    "areas": "findings per disease area (rules.reference.diseases.finding_areas: the areas the excerpt "
             "names, else the rule's only area, else 'unspecified'); a finding naming two areas counts in both",
    "opened": "new cases (cases.opened_at); a reopened case is not new",
    "reopened": "reopen decisions (case_decision.action = reopen)",
    "confirmed": "confirm decisions (case_decision.action = confirm)",
    "dismissed": "dismiss decisions (case_decision.action = dismiss)",
    "closed": "close decisions (case_decision.action = close)",
    "rechecked": "re-checks recorded on cases (case_decision.action = recheck; order checks included)",
    "sites_closed": "distinct sites whose case re-check found the site gone (outcome 'unreachable': every "
                    "proving page failed or answered 404/410; audit event case_recheck)",
    "added": "blacklist entries added (blacklist_entry.added_at)",
    "lifted": "blacklist entries lifted (blacklist_entry.lifted_at)",
    "created": "referrals created (drafts), by authority",
    "sent": "referrals marked sent (audit event referral_sent)",
    "acknowledged": "referrals marked acknowledged by the other side (audit event referral_acknowledged)",
    "referrals_closed": "referrals marked closed (audit event referral_closed)",
    "issued": "orders issued (correction_order.created_at)",
    "complied": "orders resolved as complied (violation gone or site closed, by resolved_at)",
    "not_complied": "orders resolved as not complied (still present or moved, by resolved_at)",
}


@dataclass(frozen=True)
class Period:
    """One bucket: `label` is `2026-03-02` (day), `2026-W10` (ISO week) or `2026-03` (month)."""

    label: str
    first_day: str  # ISO date, cut to the range
    last_day: str  # ISO date, inclusive, cut to the range


@dataclass
class StatRow:
    period: str  # a Period label, or TOTAL
    key: str | None  # the table's key value (an engine, a category, ...); None in tables without a key
    values: dict[str, int]


@dataclass
class StatTable:
    name: str  # JSON key, XLSX sheet name
    title: str  # zh-CN
    key: str | None  # the key column's name (engine, category, ...), None for one row per period
    measures: list[str]  # keys of DEFINITIONS
    rows: list[StatRow] = field(default_factory=list)

    def value(self, period: str, measure: str, key: str | None = None) -> int:
        """The figure of one period (or TOTAL) and key; 0 when no row holds it."""
        return next((row.values[measure] for row in self.rows if row.period == period and row.key == key), 0)


@dataclass
class PeriodStats:
    start: str  # ISO date, first local day
    end: str  # ISO date, last local day (inclusive)
    timezone: str
    by: str
    periods: list[Period]
    tables: list[StatTable]

    def table(self, name: str) -> StatTable:
        return next(t for t in self.tables if t.name == name)

    def to_json(self) -> dict[str, Any]:
        return {"from": self.start, "to": self.end, "timezone": self.timezone, "by": self.by,
                "periods": [asdict(p) for p in self.periods],
                "tables": {t.name: {"title": t.title, "key": t.key, "measures": t.measures,
                                    "rows": [asdict(r) for r in t.rows]} for t in self.tables},
                "definitions": {m: DEFINITIONS[m] for t in self.tables for m in t.measures}}


class _Buckets:
    """The periods of [start, end] and the period of a stored (naive UTC) time."""

    def __init__(self, start: date, end: date, timezone: str, by: str) -> None:
        self.zone, self.by = ZoneInfo(timezone), by
        self.lower, self.upper = day_bounds(start, timezone)[0], day_bounds(end, timezone)[1]
        self.periods: list[Period] = []
        day = start
        while day <= end:
            first = self._first_day(day)
            last = min(self._next_first_day(first) - timedelta(days=1), end)
            self.periods.append(Period(self._label(first), day.isoformat(), last.isoformat()))
            day = last + timedelta(days=1)

    def _first_day(self, day: date) -> date:
        if self.by == "week":
            return day - timedelta(days=day.weekday())  # Monday
        return day.replace(day=1) if self.by == "month" else day

    def _next_first_day(self, first: date) -> date:
        if self.by == "month":
            return (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return first + timedelta(days=7 if self.by == "week" else 1)

    def _label(self, first: date) -> str:
        if self.by == "week":
            year, week, _ = first.isocalendar()
            return f"{year}-W{week:02d}"
        return first.strftime("%Y-%m") if self.by == "month" else first.isoformat()

    def label(self, at: datetime) -> str:
        local = at.replace(tzinfo=UTC).astimezone(self.zone).date()
        return self._label(self._first_day(local))

    def within(self, column: Any) -> Any:
        """The SQL condition: `column` in the range (naive UTC bounds of the first and after the last day)."""
        return and_(column >= self.lower, column < self.upper)

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.lower <= at < self.upper


class _Tally:
    """Counts (or distinct items) per (period, key, measure), for every period and for TOTAL at once."""

    def __init__(self, buckets: _Buckets) -> None:
        self.buckets = buckets
        self.counts: Counter[tuple[str, str | None, str]] = Counter()
        self.distinct: defaultdict[tuple[str, str | None, str], set[Hashable]] = defaultdict(set)

    def add(self, at: datetime, measure: str, key: str | None = None, item: Hashable | None = None) -> None:
        """One occurrence at `at`; with `item`, the measure counts distinct items."""
        for period in (self.buckets.label(at), TOTAL):
            if item is None:
                self.counts[period, key, measure] += 1
            else:
                self.distinct[period, key, measure].add(item)

    def get(self, period: str, key: str | None, measure: str) -> int:
        return self.counts[period, key, measure] + len(self.distinct.get((period, key, measure), ()))

    def table(self, name: str, title: str, measures: list[str], key: str | None = None) -> StatTable:
        """Without a key: a row per period (zeros too: a quiet week is a figure) and a total. With a key:
        a row per period and key where anything was counted, then a total row per key."""
        table = StatTable(name, title, key, measures)
        keys = sorted({k for (_, k, _) in [*self.counts, *self.distinct] if k is not None}) if key else [None]
        for period in [*(p.label for p in self.buckets.periods), TOTAL]:
            for k in keys:
                values = {m: self.get(period, k, m) for m in measures}
                if key is None or any(values.values()):
                    table.rows.append(StatRow(period, k, values))
        return table


def period_stats(session: Session, start: date, end: date, timezone: str, by: str,
                 rule_diseases: Mapping[str, Iterable[str]]) -> PeriodStats:
    """The figures of the local days `start`..`end` (inclusive) in `timezone`, per `by` period and in total.
    `rule_diseases`: rule id → the rule's disease areas (from the loaded rule set), the fallback of a
    finding's area."""
    if by not in BY:
        raise ValueError(f"unknown period {by!r}; known: {', '.join(BY)}")
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    buckets = _Buckets(start, end, timezone, by)
    tables = [
        _checks(session, buckets),
        _search(session, buckets),
        *_findings(session, buckets, rule_diseases),
        _cases(session, buckets),
        _blacklist(session, buckets),
        _referrals(session, buckets),
        _orders(session, buckets),
    ]
    return PeriodStats(start.isoformat(), end.isoformat(), timezone, by, buckets.periods, tables)


def _checks(session: Session, buckets: _Buckets) -> StatTable:
    tally = _Tally(buckets)
    rows = session.execute(select(Capture.fetched_at, Capture.site_id, Capture.error)
                           .where(buckets.within(Capture.fetched_at), Capture.rendered.is_(False)))
    for at, site_id, error in rows:
        tally.add(at, "failed_fetches" if error else "pages_checked")
        if not error:
            tally.add(at, "sites_checked", item=site_id)
    findings = session.execute(select(Finding.created_at, Finding.site_id, Finding.severity)
                               .where(buckets.within(Finding.created_at)))
    for at, site_id, severity in findings:
        tally.add(at, "findings")
        if severity in FLAGGING_SEVERITIES:
            tally.add(at, "flagging_findings")
            tally.add(at, "flagged_sites", item=site_id)
    return tally.table("checks", "监测概况", ["pages_checked", "failed_fetches", "sites_checked", "findings",
                                          "flagging_findings", "flagged_sites"])


def _search(session: Session, buckets: _Buckets) -> StatTable:
    tally = _Tally(buckets)
    for at, engine, status in session.execute(select(SearchQueryRun.fetched_at, SearchQueryRun.engine,
                                                     SearchQueryRun.status)
                                              .where(buckets.within(SearchQueryRun.fetched_at))):
        tally.add(at, "result_pages", engine)
        if status in READ_STATUSES:
            tally.add(at, "result_pages_read", engine)
    for at, engine in session.execute(select(SerpObservation.observed_at, SerpObservation.engine)
                                      .where(buckets.within(SerpObservation.observed_at),
                                             SerpObservation.is_ad.is_(True))):
        tally.add(at, "ads", engine)
    return tally.table("search", "搜索监测", ["result_pages", "result_pages_read", "ads"], key="engine")


def _findings(session: Session, buckets: _Buckets,
              rule_diseases: Mapping[str, Iterable[str]]) -> tuple[StatTable, StatTable]:
    by_category, by_area = _Tally(buckets), _Tally(buckets)
    for at, category, severity, rule_id, excerpt in session.execute(
            select(Finding.created_at, Finding.category, Finding.severity, Finding.rule_id, Finding.excerpt)
            .where(buckets.within(Finding.created_at))):
        by_category.add(at, "findings", category)
        if severity in FLAGGING_SEVERITIES:
            by_category.add(at, "flagging_findings", category)
        for area in finding_areas(excerpt, rule_diseases.get(rule_id, ())):
            by_area.add(at, "areas", area)
    return (by_category.table("findings_by_category", "违法类别", ["findings", "flagging_findings"], key="category"),
            by_area.table("findings_by_disease", "疾病领域", ["areas"], key="disease_area"))


def _cases(session: Session, buckets: _Buckets) -> StatTable:
    tally = _Tally(buckets)
    for (at,) in session.execute(select(Case.opened_at).where(buckets.within(Case.opened_at))):
        tally.add(at, "opened")
    # The decision rows are the lifecycle's record (cases.lifecycle.record_step); the status column is only
    # where a case is now.
    steps = {"reopen": "reopened", "confirm": "confirmed", "dismiss": "dismissed", "close": "closed",
             "recheck": "rechecked"}
    for at, action in session.execute(select(CaseDecision.at, CaseDecision.action)
                                      .where(buckets.within(CaseDecision.at), CaseDecision.action.in_(steps))):
        tally.add(at, steps[action])
    # A re-check's outcome is structured only in its audit event (the decision row has it in prose).
    rechecks = session.execute(select(AuditEvent.at, AuditEvent.subject, AuditEvent.details)
                               .where(buckets.within(AuditEvent.at), AuditEvent.action == "case_recheck")).all()
    gone = [(at, int(subject.removeprefix("case:"))) for at, subject, details in rechecks
            if (details or {}).get("outcome") == SITE_GONE]
    site_of_case = dict(session.execute(select(Case.id, Case.site_id)
                                        .where(Case.id.in_({case_id for _, case_id in gone}))).all())
    for at, case_id in gone:
        tally.add(at, "sites_closed", item=site_of_case[case_id])
    return tally.table("cases", "案件", ["opened", "reopened", "confirmed", "dismissed", "closed", "rechecked",
                                        "sites_closed"])


def _blacklist(session: Session, buckets: _Buckets) -> StatTable:
    tally = _Tally(buckets)
    for kind, added_at, lifted_at in session.execute(
            select(BlacklistEntry.kind, BlacklistEntry.added_at, BlacklistEntry.lifted_at)
            .where(or_(buckets.within(BlacklistEntry.added_at), buckets.within(BlacklistEntry.lifted_at)))):
        for measure, at in (("added", added_at), ("lifted", lifted_at)):
            if buckets.holds(at):
                tally.add(at, measure, kind)
    return tally.table("blacklist", "重点监管名单", ["added", "lifted"], key="kind")


def _referrals(session: Session, buckets: _Buckets) -> StatTable:
    # Each step's time is only in the audit log: the referral row keeps its current status and last update.
    tally = _Tally(buckets)
    measures = {"referral_created": "created", "referral_sent": "sent", "referral_acknowledged": "acknowledged",
                "referral_closed": "referrals_closed"}
    events = session.execute(select(AuditEvent.at, AuditEvent.action, AuditEvent.details)
                             .where(buckets.within(AuditEvent.at), AuditEvent.action.in_(measures))).all()
    ids = {int(details["referral"]) for _, _, details in events}
    authority = dict(session.execute(select(Referral.id, Referral.authority).where(Referral.id.in_(ids))).all())
    for at, action, details in events:
        tally.add(at, measures[action], authority.get(int(details["referral"]), "?"))
    return tally.table("referrals", "移送", list(measures.values()), key="authority")


def _orders(session: Session, buckets: _Buckets) -> StatTable:
    tally = _Tally(buckets)
    for kind, created_at, status, resolved_at in session.execute(
            select(CorrectionOrder.kind, CorrectionOrder.created_at, CorrectionOrder.status,
                   CorrectionOrder.resolved_at)
            .where(or_(buckets.within(CorrectionOrder.created_at), buckets.within(CorrectionOrder.resolved_at)))):
        if buckets.holds(created_at):
            tally.add(created_at, "issued", kind)
        if buckets.holds(resolved_at) and status != "open":
            tally.add(resolved_at, status, kind)
    return tally.table("orders", "责令改正", ["issued", "complied", "not_complied"], key="kind")
