"""The morning list prints what sellers wrote as text: no markup, no formulas, no escape sequences;
the compact table fits a 120-column terminal and shows case, rule title, severity and local time."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cases.daily import DailyReport, FlaggedSite, RuleSummary, SearchSighting
from cases.daily_render import render_daily

HOSTILE_TITLE = "降糖神药[/b] [bold red]根治[/]"
HOSTILE_EXCERPT = "=HYPERLINK(\"http://evil.test\",\"点击\") 降糖神药[/b]，根治糖尿病\x1b]0;pwned\x07\x1b[2J"


def hostile_report(sites: int = 17) -> DailyReport:
    report = DailyReport(day="2026-12-07", timezone="Asia/Shanghai")
    for i in range(sites):
        report.sites.append(FlaggedSite(
            domain=f"[red]seller-{i}[/red].test", risk="high", categories=["disease_cure_claim", "rx_sale"],
            top_rules=[RuleSummary("pw-zh-diabetes-cure-001", "宣称根治糖尿病", "high", HOSTILE_EXCERPT * 3),
                       RuleSummary("pw-zh-rx-no-prescription-001", HOSTILE_TITLE, "critical", "无需处方")],
            first_seen="2026-12-06T17:05:00+00:00", captures=3, screenshot=None, case_id=100 + i,
            reached_through=[SearchSighting("mock", "@SUM(1+1)", True, 1, 1, "-2+3 Ltd")], tips=[7]))
    return report


def render(fmt: str, **options) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    render_daily(hostile_report(), fmt, out, **options)
    return out.getvalue()


@pytest.mark.parametrize("wide", [False, True])
def test_the_table_shows_hostile_text_as_written_and_every_severity(wide: bool) -> None:
    table = render("table", width=120 if not wide else 220, wide=wide)
    assert "[/b]" in table and "[red]seller-0[/red].test" in table  # shown, not interpreted (nor a crash)
    assert table.count("[high]") == 17 and table.count("[critical]") == 17
    assert "\x1b" not in table and "\x07" not in table  # no escape sequence reaches the terminal


def test_the_compact_table_fits_120_columns_and_shows_case_title_and_local_time() -> None:
    table = render("table", width=120)
    assert max(len(line) for line in table.splitlines()) <= 120
    assert "#100" in table and "宣称根治糖尿病" in table
    assert "2026-12-07 01:05 +08:00" in table  # 17:05 UTC is 01:05 the next day in Shanghai
    assert len(table.splitlines()) < 17 * 12  # a site takes a few lines, not 25


def test_csv_cells_never_start_a_formula() -> None:
    rows = list(csv.reader(io.StringIO(render("csv"))))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    assert rows[1][4].startswith("'=HYPERLINK")  # kept, readable, inert


def test_json_keeps_the_text_exactly() -> None:
    data = json.loads(render("json"))
    assert data["sites"][0]["top_rules"][0]["excerpt"] == HOSTILE_EXCERPT * 3


def test_a_day_without_a_scan_says_so_and_a_day_with_scans_names_them() -> None:
    from cases.daily import ScanOfDay

    empty = DailyReport(day="2026-12-07", timezone="Asia/Shanghai")
    out = io.StringIO()
    render_daily(empty, "table", out, width=120)
    assert "No scan ran on 2026-12-07" in out.getvalue()
    scanned = DailyReport(day="2026-12-07", timezone="Asia/Shanghai",
                          scans=[ScanOfDay(3, "2026-12-06T17:00:00+00:00", "failed", 0, 3, "proxy refused")])
    out = io.StringIO()
    render_daily(scanned, "table", out, width=120)
    assert "#3 failed at 01:00 +08:00 (pages 0, failures 3; proxy refused)" in out.getvalue()
    assert json.loads(json.dumps(scanned.to_json()))["scans"][0]["status"] == "failed"
