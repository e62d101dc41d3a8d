"""Renders the daily flagged-site list (cases.daily.DailyReport) as a table, CSV or JSON.

One JSON shape (`DailyReport.to_json`: day, timezone, sites); CSV one row per site; the table is
what monitors read every morning. `pharmwatch report daily --format` picks one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from cases.daily import DailyReport, SearchSighting
from outputs import SafeCsvWriter, terminal_text

FORMATS = ("table", "csv", "json")
CSV_COLUMNS = ["domain", "risk", "categories", "top_rules", "excerpt", "first_seen", "captures", "screenshot",
               "case_id", "reached_through", "tips"]
TABLE_SIGHTINGS = 4  # search sightings shown per site in the table (the rest are counted)
COMPACT_EXCERPT = 90  # characters of excerpt in the compact table (the wide table, CSV and JSON show it all)
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}


def render_daily(report: DailyReport, fmt: str, out: TextIO, *, wide: bool = False, width: int | None = None) -> None:
    """`width`: the table's width (default: the terminal's); `wide`: every column, not the compact set."""
    if fmt == "json":
        out.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        daily_csv(report, out)
    elif fmt == "table":
        daily_table(report, out, wide=wide, width=width)
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def sighting_label(s: SearchSighting) -> str:
    """`mock “降糖药” p1 ad #1 Advertiser` or `baidu “糖尿病” p2 #4`."""
    where = f"ad #{s.rank}" + (f" {s.advertiser}" if s.advertiser else "") if s.is_ad else f"#{s.rank}"
    return f"{s.engine} “{s.query}” p{s.page} {where}"


def daily_csv(report: DailyReport, out: TextIO) -> None:
    writer = SafeCsvWriter(out)
    writer.writerow(CSV_COLUMNS)
    for s in report.sites:
        writer.writerow([s.domain, s.risk, ";".join(s.categories), ";".join(r.rule_id for r in s.top_rules),
                         s.top_rules[0].excerpt if s.top_rules else "", s.first_seen, s.captures,
                         s.screenshot or "", s.case_id or "", ";".join(map(sighting_label, s.reached_through)),
                         ";".join(map(str, s.tips))])


def local_time(iso_utc: str, timezone: str) -> str:
    """`2026-12-07 09:31 +08:00`: a stored UTC time in the report's timezone, with its offset."""
    moment = datetime.fromisoformat(iso_utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")  # +0800
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def daily_table(report: DailyReport, out: TextIO, *, wide: bool = False, width: int | None = None) -> None:
    """Monitors' morning table. Every crawled string is rich `Text`, never markup: a page title like
    `降糖神药[/b]` is shown as written. Compact by default (fits 120 columns); `wide` adds categories,
    search sightings, capture counts and screenshots."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=terminal_text(f"Flagged sites {report.day} ({report.timezone}): {len(report.sites)}"),
                  show_lines=True, expand=False)
    table.add_column("case", no_wrap=True)
    table.add_column("site", overflow="fold", min_width=24)
    table.add_column("risk", no_wrap=True)
    table.add_column("rules", overflow="fold", max_width=26 if not wide else None)
    table.add_column("excerpt", overflow="fold", ratio=1)
    table.add_column("first seen", no_wrap=True)
    if wide:
        for column in ("categories", "reached through search", "captures", "screenshot"):
            table.add_column(column, overflow="fold")
    for s in report.sites:
        site = terminal_text(s.domain)
        if s.tips:
            site.append(terminal_text(f"\ntips: {', '.join(f'#{t}' for t in s.tips)}", style="dim"))
        rules = terminal_text("")
        for i, rule in enumerate(s.top_rules):
            rules.append(terminal_text(("\n" if i else "") + (rule.title or rule.rule_id)))
            rules.append(terminal_text(f" [{rule.severity}]", style=SEVERITY_STYLE.get(rule.severity, "")))
        excerpt = s.top_rules[0].excerpt if s.top_rules else ""
        if not wide and len(excerpt) > COMPACT_EXCERPT:
            excerpt = excerpt[:COMPACT_EXCERPT] + "…"
        row = [terminal_text(f"#{s.case_id}" if s.case_id else "-"), site,
               terminal_text(s.risk, style=SEVERITY_STYLE.get(s.risk, "")), rules, terminal_text(excerpt),
               terminal_text(local_time(s.first_seen, report.timezone))]
        if wide:
            reached = "\n".join(map(sighting_label, s.reached_through[:TABLE_SIGHTINGS])) or "-"
            if len(s.reached_through) > TABLE_SIGHTINGS:
                reached += f"\n… +{len(s.reached_through) - TABLE_SIGHTINGS}"
            row += [terminal_text("\n".join(s.categories)), terminal_text(reached), terminal_text(str(s.captures)),
                    terminal_text(s.screenshot or "-")]
        table.add_row(*row)
    console = Console(file=out, width=width, soft_wrap=False)
    console.print(table)
    console.print(terminal_text(scans_line(report)))


def scans_line(report: DailyReport) -> str:
    """Which scans the list rests on: a day without a scan must not read like a clean day."""
    if not report.scans:
        return (f"No scan ran on {report.day}: the list is empty because nothing was checked, "
                "not because all was clean.")
    parts = [f"#{s.id} {s.status} at {local_time(s.started_at, report.timezone)[11:]} "
             f"(pages {s.pages}, failures {s.failures}" + (f"; {s.error}" if s.error else "") + ")"
             for s in report.scans]
    return "Scans of the day: " + "; ".join(parts)
