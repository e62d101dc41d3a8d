"""Period statistics: every figure of a small world (two weeks, a month boundary, captures either side of
local midnight in Asia/Shanghai) against a count made by hand; XLSX and CSV never carry a formula."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from cases.blacklist import add_entry, lift_entry
from cases.lifecycle import Step, act, get_case, record_step
from cases.orders import create_order
from cases.referrals import create_referral, update_referral
from cases.stats import TOTAL, period_stats
from cases.stats_render import CHART_SHEET, render_stats, stats_xlsx
from storage import db
from storage.audit import record_event
from storage.models import (
    AuditEvent,
    BlacklistEntry,
    Capture,
    Case,
    CaseDecision,
    CorrectionOrder,
    Finding,
    Referral,
    ScanRun,
    SearchQueryRun,
    SerpObservation,
    Site,
)

ZONE = "Asia/Shanghai"
START, END = date(2026, 2, 26), date(2026, 3, 10)  # Thursday of ISO week 9 .. Tuesday of week 11
HYPERLINK = '=HYPERLINK("http://evil","x")'
CMD = "+cmd|' /C calc'!A0"
SUM = "@SUM(1+1)"
RULE_DISEASES = {"r-gout-only": ("gout",), "r-diab": ("diabetes", "hypertension")}


def U(*parts: int) -> datetime:  # noqa: N802 - reads as a time literal
    """A stored (naive UTC) time."""
    return datetime(*parts)


@contextmanager
def at(sessions, when: datetime) -> Iterator:  # type: ignore[no-untyped-def]
    """Library calls in the block happen at `when`: their decision rows and audit events get that time."""
    with sessions() as session:
        decisions = session.scalar(select(func.max(CaseDecision.id))) or 0
        events = session.scalar(select(func.max(AuditEvent.id))) or 0
    with db.transaction(sessions) as session:
        yield session
    with db.transaction(sessions) as session:
        session.execute(update(CaseDecision).where(CaseDecision.id > decisions).values(at=when))
        session.execute(update(AuditEvent).where(AuditEvent.id > events).values(at=when))


def recheck(sessions, case_id: int, outcome: str, when: datetime) -> None:  # type: ignore[no-untyped-def]
    """A re-check recorded as cases.recheck records it (its crawl is tested in test_recheck)."""
    with at(sessions, when) as session:
        case = get_case(session, case_id)
        record_step(session, case, Step(case_id, "recheck", case.status, case.status), actor="t",
                    reason=f"{outcome}: …", details={"case_id": case_id, "run_id": 0, "outcome": outcome, "pages": []})


@pytest.fixture
def world(sessions):  # type: ignore[no-untyped-def]
    with db.transaction(sessions) as s:
        run = ScanRun(started_at=U(2026, 2, 25, 0, 0))
        a, b, c = Site(domain="a.test"), Site(domain="b.test"), Site(domain="c.test")
        s.add_all([run, a, b, c])
        s.flush()
        captures = [  # (site, url, time, rendered, error)
            (a, "/0", U(2026, 2, 25, 15, 59), False, None),  # local Feb 25 23:59: before the range
            (a, "/1", U(2026, 2, 28, 16, 30), False, None),  # local Mar 1 00:30 (UTC still Feb 28)
            (a, "/2", U(2026, 3, 1, 15, 30), False, None),  # local Mar 1 23:30
            (b, "/1", U(2026, 3, 1, 16, 30), False, None),  # local Mar 2 00:30: week 10 (UTC: week 9)
            (b, "/1", U(2026, 3, 1, 16, 30), True, None),  # its rendered copy: the same page
            (c, "/1", U(2026, 3, 9, 3, 0), False, "DNS lookup failed"),
            (c, "/2", U(2026, 3, 9, 4, 0), False, None),
            (a, "/9", U(2026, 3, 10, 16, 0), False, None),  # local Mar 11 00:00: after the range
        ]
        rows = []
        for site, path, when, rendered, error in captures:
            rows.append(Capture(scan_run_id=run.id, site_id=site.id, url=f"http://{site.domain}{path}",
                                fetched_at=when, rendered=rendered, error=error, title=HYPERLINK))
        s.add_all(rows)
        s.flush()
        findings = [  # (capture, rule, category, severity, excerpt, time)
            (rows[1], "r-diab", "disease_cure_claim", "high", "根治糖尿病", U(2026, 2, 28, 16, 31)),
            (rows[2], "r-bp", "forbidden_ad_claim", "low", "降压 降糖", U(2026, 3, 1, 15, 31)),
            (rows[3], "r-gout-only", "disease_cure_claim", "medium", "神奇疗效", U(2026, 3, 1, 16, 31)),
            (rows[6], "r-none", "unlicensed_sale", "critical", "好药", U(2026, 3, 9, 4, 1)),
            (rows[7], "r-diab", "disease_cure_claim", "high", "根治糖尿病", U(2026, 3, 10, 16, 1)),
        ]
        for capture, rule, category, severity, excerpt, when in findings:
            s.add(Finding(capture_id=capture.id, site_id=capture.site_id, scan_run_id=run.id, rule_id=rule,
                          rule_version=1, rule_sha256="0" * 64, title=HYPERLINK, category=category,
                          severity=severity, excerpt=excerpt, created_at=when))
        pages = [  # (engine, status, time, ads, organic results)
            ("baidu", "ok", U(2026, 2, 28, 16, 0), 1, 1),
            ("baidu", "blocked", U(2026, 3, 2, 1, 0), 0, 0),
            (HYPERLINK, "ok", U(2026, 3, 9, 1, 0), 2, 0),
            (CMD, "no_results", U(2026, 3, 9, 1, 0), 0, 0),
            (SUM, "failed", U(2026, 3, 9, 1, 0), 0, 0),
        ]
        for page, (engine, status, when, ads, organic) in enumerate(pages, start=1):
            query_run = SearchQueryRun(scan_run_id=run.id, engine=engine, query=SUM, page=page, url="http://s.test/",
                                       status=status, fetched_at=when)
            s.add(query_run)
            s.flush()
            for rank in range(ads + organic):
                s.add(SerpObservation(query_run_id=query_run.id, scan_run_id=run.id, site_id=a.id, engine=engine,
                                      query=SUM, page=1, rank=rank + 1, is_ad=rank < ads, title=HYPERLINK,
                                      snippet=CMD, url="http://a.test/", displayed_url="a.test", observed_at=when))
        cases = [Case(site_id=a.id, risk="high", opened_at=U(2026, 2, 28, 17, 0)),  # local Mar 1
                 Case(site_id=b.id, risk="medium", opened_at=U(2026, 3, 1, 17, 0)),  # local Mar 2
                 Case(site_id=c.id, risk="critical", opened_at=U(2026, 3, 9, 5, 0))]
        s.add_all(cases)
        s.flush()
        ca, cb, cc = (case.id for case in cases)
    with at(sessions, U(2026, 3, 1, 15, 45)) as s:  # local Mar 1 23:45: week 9
        act(s, ca, "review", actor="t")
        act(s, ca, "confirm", actor="t")
    with at(sessions, U(2026, 3, 2, 2, 0)) as s:
        act(s, cb, "review", actor="t")
        act(s, cb, "dismiss", actor="t", reason="licensed pharmacy")
        referral = create_referral(s, ca, actor="t", authority="police")
        update_referral(s, referral.id, "sent", actor="t")
        referral.created_at = U(2026, 3, 2, 2, 0)
        correct = create_order(s, ca, kind="correct", deadline=date(2026, 3, 8), actor="t", today=date(2026, 3, 2))
        correct.created_at = U(2026, 3, 2, 2, 0)
        entry = add_entry(s, "site", "a.test", reason="confirmed case", actor="t", case_id=ca)
        entry.added_at = U(2026, 3, 2, 2, 0)
    with at(sessions, U(2026, 3, 3, 2, 0)) as s:
        suspend = create_order(s, ca, kind="suspend_sales", product="降糖灵", deadline=date(2026, 3, 8), actor="t",
                               today=date(2026, 3, 3))
        suspend.created_at = U(2026, 3, 3, 2, 0)
    with at(sessions, U(2026, 3, 9, 2, 0)) as s:
        act(s, cb, "reopen", actor="scan", reason="new rule")
        update_referral(s, referral.id, "acknowledged", actor="t")
        phone = add_entry(s, "phone", "13800138000", reason="operator", actor="t")
        phone.added_at = U(2026, 3, 9, 2, 0)
        order = s.get_one(CorrectionOrder, correct.id)
        order.status, order.resolved_at = "complied", U(2026, 3, 9, 2, 0)
    recheck(sessions, ca, "unreachable", U(2026, 3, 9, 6, 0))
    recheck(sessions, cc, "still_present", U(2026, 3, 9, 6, 0))
    recheck(sessions, ca, "unreachable", U(2026, 3, 10, 2, 0))  # the same site gone again: one site closed
    with at(sessions, U(2026, 3, 10, 3, 0)) as s:
        update_referral(s, referral.id, "closed", actor="t")
        order = s.get_one(CorrectionOrder, suspend.id)
        order.status, order.resolved_at = "not_complied", U(2026, 3, 10, 3, 0)
        record_event(s, actor="t", action="order_not_complied", subject=f"case:{ca}", details={"order": order.id})
    with at(sessions, U(2026, 3, 10, 3, 0)) as s:
        act(s, ca, "close", actor="t", reason="done")
    with at(sessions, U(2026, 3, 10, 15, 59)) as s:  # local Mar 10 23:59: still in the range
        lifted = lift_entry(s, phone.id, reason="number reassigned", actor="t")
        lifted.lifted_at = U(2026, 3, 10, 15, 59)
    return sessions


#: Every figure of the world by ISO week, counted by hand from the rows above: (table, period, key) → values.
W9, W10, W11 = "2026-W09", "2026-W10", "2026-W11"
EXPECTED: dict[tuple[str, str, str | None], dict[str, int]] = {
    ("checks", W9, None): dict(pages_checked=2, failed_fetches=0, sites_checked=1, findings=2, flagging_findings=1,
                               flagged_sites=1),
    ("checks", W10, None): dict(pages_checked=1, failed_fetches=0, sites_checked=1, findings=1, flagging_findings=1,
                                flagged_sites=1),
    ("checks", W11, None): dict(pages_checked=1, failed_fetches=1, sites_checked=1, findings=1, flagging_findings=1,
                                flagged_sites=1),
    ("checks", TOTAL, None): dict(pages_checked=4, failed_fetches=1, sites_checked=3, findings=4, flagging_findings=3,
                                  flagged_sites=3),
    ("search", W9, "baidu"): dict(result_pages=1, result_pages_read=1, ads=1),
    ("search", W10, "baidu"): dict(result_pages=1, result_pages_read=0, ads=0),
    ("search", W11, HYPERLINK): dict(result_pages=1, result_pages_read=1, ads=2),
    ("search", W11, CMD): dict(result_pages=1, result_pages_read=1, ads=0),
    ("search", W11, SUM): dict(result_pages=1, result_pages_read=0, ads=0),
    ("search", TOTAL, "baidu"): dict(result_pages=2, result_pages_read=1, ads=1),
    ("search", TOTAL, HYPERLINK): dict(result_pages=1, result_pages_read=1, ads=2),
    ("search", TOTAL, CMD): dict(result_pages=1, result_pages_read=1, ads=0),
    ("search", TOTAL, SUM): dict(result_pages=1, result_pages_read=0, ads=0),
    ("findings_by_category", W9, "disease_cure_claim"): dict(findings=1, flagging_findings=1),
    ("findings_by_category", W9, "forbidden_ad_claim"): dict(findings=1, flagging_findings=0),
    ("findings_by_category", W10, "disease_cure_claim"): dict(findings=1, flagging_findings=1),
    ("findings_by_category", W11, "unlicensed_sale"): dict(findings=1, flagging_findings=1),
    ("findings_by_category", TOTAL, "disease_cure_claim"): dict(findings=2, flagging_findings=2),
    ("findings_by_category", TOTAL, "forbidden_ad_claim"): dict(findings=1, flagging_findings=0),
    ("findings_by_category", TOTAL, "unlicensed_sale"): dict(findings=1, flagging_findings=1),
    # "降压 降糖" names two areas and counts in both; "神奇疗效" names none: its rule's only area; "好药": unspecified.
    ("findings_by_disease", W9, "diabetes"): dict(areas=2),
    ("findings_by_disease", W9, "hypertension"): dict(areas=1),
    ("findings_by_disease", W10, "gout"): dict(areas=1),
    ("findings_by_disease", W11, "unspecified"): dict(areas=1),
    ("findings_by_disease", TOTAL, "diabetes"): dict(areas=2),
    ("findings_by_disease", TOTAL, "hypertension"): dict(areas=1),
    ("findings_by_disease", TOTAL, "gout"): dict(areas=1),
    ("findings_by_disease", TOTAL, "unspecified"): dict(areas=1),
    ("cases", W9, None): dict(opened=1, reopened=0, confirmed=1, dismissed=0, closed=0, rechecked=0, sites_closed=0),
    ("cases", W10, None): dict(opened=1, reopened=0, confirmed=0, dismissed=1, closed=0, rechecked=0,
                               sites_closed=0),
    ("cases", W11, None): dict(opened=1, reopened=1, confirmed=0, dismissed=0, closed=1, rechecked=3,
                               sites_closed=1),
    ("cases", TOTAL, None): dict(opened=3, reopened=1, confirmed=1, dismissed=1, closed=1, rechecked=3,
                                 sites_closed=1),
    ("blacklist", W10, "site"): dict(added=1, lifted=0),
    ("blacklist", W11, "phone"): dict(added=1, lifted=1),
    ("blacklist", TOTAL, "site"): dict(added=1, lifted=0),
    ("blacklist", TOTAL, "phone"): dict(added=1, lifted=1),
    ("referrals", W10, "police"): dict(created=1, sent=1, acknowledged=0, referrals_closed=0),
    ("referrals", W11, "police"): dict(created=0, sent=0, acknowledged=1, referrals_closed=1),
    ("referrals", TOTAL, "police"): dict(created=1, sent=1, acknowledged=1, referrals_closed=1),
    ("orders", W10, "correct"): dict(issued=1, complied=0, not_complied=0),
    ("orders", W10, "suspend_sales"): dict(issued=1, complied=0, not_complied=0),
    ("orders", W11, "correct"): dict(issued=0, complied=1, not_complied=0),
    ("orders", W11, "suspend_sales"): dict(issued=0, complied=0, not_complied=1),
    ("orders", TOTAL, "correct"): dict(issued=1, complied=1, not_complied=0),
    ("orders", TOTAL, "suspend_sales"): dict(issued=1, complied=0, not_complied=1),
}


def stats_of(sessions, by: str):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return period_stats(session, START, END, ZONE, by, RULE_DISEASES)


def test_every_weekly_figure_is_the_count_made_by_hand(world) -> None:  # type: ignore[no-untyped-def]
    stats = stats_of(world, "week")
    assert [(p.label, p.first_day, p.last_day) for p in stats.periods] == [
        (W9, "2026-02-26", "2026-03-01"), (W10, "2026-03-02", "2026-03-08"), (W11, "2026-03-09", "2026-03-10")]
    got = {(t.name, r.period, r.key): r.values for t in stats.tables for r in t.rows}
    # Keyless tables list every period, zeros too; keyed ones only what was counted. Nothing else is there.
    assert {k: v for k, v in got.items() if any(v.values())} == EXPECTED


def test_day_buckets_are_local_days(world) -> None:  # type: ignore[no-untyped-def]
    checks = stats_of(world, "day").table("checks")
    pages = {row.period: row.values["pages_checked"] for row in checks.rows}
    assert pages["2026-02-28"] == 0  # 16:30 UTC on Feb 28 is 00:30 on Mar 1 in Shanghai
    assert pages["2026-03-01"] == 2 and pages["2026-03-02"] == 1 and pages["2026-03-09"] == 1
    assert len([r for r in checks.rows if r.period != TOTAL]) == 13  # Feb 26 .. Mar 10
    assert pages[TOTAL] == 4  # Feb 25 23:59 and Mar 11 00:00 (local) are outside
    cases = stats_of(world, "day").table("cases")
    assert cases.value("2026-03-01", "confirmed") == 1  # 23:45 local: that day, though 15:45 UTC


def test_independent_sql_counts_per_day_match(world) -> None:  # type: ignore[no-untyped-def]
    """Each day's additive figures against a COUNT over that local day's UTC bounds, written here."""
    from cases.daily import day_bounds

    stats = stats_of(world, "day")
    with world() as session:
        for period in stats.periods:
            lo, hi = day_bounds(date.fromisoformat(period.first_day), ZONE)

            def count(model, column, *where, lo=lo, hi=hi):  # type: ignore[no-untyped-def]
                return session.scalar(select(func.count()).select_from(model).where(column >= lo, column < hi,
                                                                                     *where))
            label = period.label
            assert stats.table("checks").value(label, "pages_checked") == count(
                Capture, Capture.fetched_at, Capture.rendered.is_(False), Capture.error.is_(None))
            assert stats.table("checks").value(label, "findings") == count(Finding, Finding.created_at)
            assert stats.table("cases").value(label, "opened") == count(Case, Case.opened_at)
            for action, measure in (("confirm", "confirmed"), ("dismiss", "dismissed"), ("close", "closed"),
                                    ("reopen", "reopened"), ("recheck", "rechecked")):
                assert stats.table("cases").value(label, measure) == count(CaseDecision, CaseDecision.at,
                                                                           CaseDecision.action == action)
            ads = sum(stats.table("search").value(label, "ads", key) for key in ("baidu", HYPERLINK, CMD, SUM))
            assert ads == count(SerpObservation, SerpObservation.observed_at, SerpObservation.is_ad.is_(True))
            assert sum(stats.table("blacklist").value(label, "added", k) for k in ("site", "phone")) == count(
                BlacklistEntry, BlacklistEntry.added_at)
            assert stats.table("referrals").value(label, "created", "police") == count(Referral, Referral.created_at)


def test_month_buckets_are_calendar_months_of_local_days(world) -> None:  # type: ignore[no-untyped-def]
    stats = stats_of(world, "month")
    assert [(p.label, p.first_day, p.last_day) for p in stats.periods] == [
        ("2026-02", "2026-02-26", "2026-02-28"), ("2026-03", "2026-03-01", "2026-03-10")]
    checks = stats.table("checks")
    assert checks.value("2026-02", "pages_checked") == 0 and checks.value("2026-03", "pages_checked") == 4
    assert stats.table("search").value("2026-02", "ads", "baidu") == 0  # 16:00 UTC Feb 28 is Mar 1 locally


def test_a_week_bucket_starts_on_monday_across_a_year() -> None:
    from cases.stats import _Buckets

    buckets = _Buckets(date(2026, 12, 30), date(2027, 1, 5), ZONE, "week")
    assert [(p.label, p.first_day, p.last_day) for p in buckets.periods] == [
        ("2026-W53", "2026-12-30", "2027-01-03"), ("2027-W01", "2027-01-04", "2027-01-05")]


def test_bad_arguments_are_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, pytest.raises(ValueError, match="known: day, week, month"):
        period_stats(session, START, END, ZONE, "year", {})
    with sessions() as session, pytest.raises(ValueError, match="before it starts"):
        period_stats(session, END, START, ZONE, "day", {})


def test_the_workbook_has_a_sheet_per_table_a_chart_sheet_and_no_formula(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stats = stats_of(world, "week")
    stats_xlsx(stats, tmp_path / "s.xlsx")
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    assert book.sheetnames == [t.title for t in stats.tables] + [CHART_SHEET]
    assert len(book[CHART_SHEET]._charts) == 2
    search = book["搜索监测"]
    cells = {cell.value: cell for row in search.iter_rows() for cell in row}
    for hostile in (HYPERLINK, CMD, SUM):
        assert cells[hostile].data_type == "s" and cells[hostile].quotePrefix  # shown as written, never run
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)
    checks = book["监测概况"]
    assert [c.value for c in checks[1]][:4] == ["周期", "起", "止", "检查页面数"]
    assert [c.value for c in checks[5]][:4] == ["合计", "2026-02-26", "2026-03-10", 4]


def test_xlsx_set_writes_text_as_text_and_numbers_as_numbers(tmp_path: Path) -> None:
    from outputs import xlsx_row

    book = openpyxl.Workbook()
    xlsx_row(book.active, 1, [HYPERLINK, CMD, SUM, "\tx", -5, "-5", "正常\x01标题"])
    book.save(tmp_path / "t.xlsx")
    row = [c for c in openpyxl.load_workbook(tmp_path / "t.xlsx").active[1]]
    assert [c.value for c in row] == [HYPERLINK, CMD, SUM, "\tx", -5, "-5", "正常 标题"]
    assert [c.data_type for c in row] == ["s", "s", "s", "s", "n", "s", "s"]


def test_the_csv_is_one_long_table_with_every_cell_inert(world) -> None:  # type: ignore[no-untyped-def]
    stats = stats_of(world, "week")
    out = io.StringIO()
    render_stats(stats, "csv", out)
    header, *rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert header == ["表", "表名", "周期", "起", "止", "维度", "维度值", "指标", "指标名", "数值"]
    keys = {row[6] for row in rows if row[0] == "search"}
    assert {"'" + HYPERLINK, "'" + CMD, "'" + SUM} <= keys and HYPERLINK not in keys
    total = next(r for r in rows if r[0] == "checks" and r[2] == "合计" and r[7] == "sites_checked")
    assert total[3:5] == ["2026-02-26", "2026-03-10"] and total[9] == "3"
    table = io.StringIO()
    render_stats(stats, "table", table, width=160)
    assert "监测概况" in table.getvalue() and HYPERLINK in table.getvalue()  # rich Text: shown, not markup


def test_report_stats_through_the_cli(world, home: Path) -> None:  # type: ignore[no-untyped-def]
    from pharmwatch.cli import cli

    env = {"PHARMWATCH_HOME": str(home), "PHARMWATCH_CONFIG": "", "PHARMWATCH_REPORT__TIMEZONE": '"Asia/Shanghai"'}
    result = CliRunner().invoke(cli, ["report", "stats", "--from", "2026-02-26", "--to", "2026-03-10", "--format",
                                      "json"], env=env, obj={})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by"] == "week" and [p["label"] for p in data["periods"]] == [W9, W10, W11]
    total = next(r for r in data["tables"]["cases"]["rows"] if r["period"] == "total")
    assert total["values"]["sites_closed"] == 1 and "unreachable" in data["definitions"]["sites_closed"]
    made = CliRunner().invoke(cli, ["report", "stats", "--from", "2026-02-26", "--to", "2026-03-10", "--format",
                                    "xlsx"], env=env, obj={})
    written = home / "reports" / "stats-2026-02-26-2026-03-10-week.xlsx"
    assert made.exit_code == 0 and str(written) in made.stderr and written.is_file()
    backwards = CliRunner().invoke(cli, ["report", "stats", "--from", "2026-03-10", "--to", "2026-02-26"], env=env,
                                   obj={})
    assert backwards.exit_code == 2 and "before --from" in backwards.stderr
