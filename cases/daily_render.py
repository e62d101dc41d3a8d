"""Renders the daily flagged-site list (cases.daily.DailyReport) as a table, CSV or JSON.

One JSON shape (`DailyReport.to_json`: day, timezone, sites); CSV one row per site; the table is
what monitors read every morning. `pharmwatch report daily --format` picks one.
"""

from __future__ import annotations

import csv
import json
from typing import TextIO

from cases.daily import DailyReport, SearchSighting

FORMATS = ("table", "csv", "json")
CSV_COLUMNS = ["domain", "risk", "categories", "top_rules", "excerpt", "first_seen", "captures", "screenshot",
               "case_id", "reached_through", "tips"]
TABLE_SIGHTINGS = 4  # search sightings shown per site in the table (the rest are counted)


def render_daily(report: DailyReport, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        daily_csv(report, out)
    elif fmt == "table":
        daily_table(report, out)
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def sighting_label(s: SearchSighting) -> str:
    """`mock “降糖药” p1 ad #1 Advertiser` or `baidu “糖尿病” p2 #4`."""
    where = f"ad #{s.rank}" + (f" {s.advertiser}" if s.advertiser else "") if s.is_ad else f"#{s.rank}"
    return f"{s.engine} “{s.query}” p{s.page} {where}"


def daily_csv(report: DailyReport, out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for s in report.sites:
        writer.writerow([s.domain, s.risk, ";".join(s.categories), ";".join(r.rule_id for r in s.top_rules),
                         s.top_rules[0].excerpt if s.top_rules else "", s.first_seen, s.captures,
                         s.screenshot or "", s.case_id or "", ";".join(map(sighting_label, s.reached_through)),
                         ";".join(map(str, s.tips))])


def daily_table(report: DailyReport, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Flagged sites {report.day} ({report.timezone}): {len(report.sites)}", show_lines=True)
    for column in ("domain", "risk", "categories", "top rules / excerpt", "reached through search",
                   "first seen", "captures", "screenshot"):
        table.add_column(column, overflow="fold")
    for s in report.sites:
        rules = "\n".join(f"{r.rule_id} [{r.severity}]\n  {r.excerpt}" for r in s.top_rules)
        reached = "\n".join(map(sighting_label, s.reached_through[:TABLE_SIGHTINGS])) or "-"
        if len(s.reached_through) > TABLE_SIGHTINGS:
            reached += f"\n… +{len(s.reached_through) - TABLE_SIGHTINGS}"
        domain = s.domain + (f"\ntips: {', '.join(f'#{t}' for t in s.tips)}" if s.tips else "")
        table.add_row(domain, s.risk, "\n".join(s.categories), rules, reached, s.first_seen[:16],
                      str(s.captures), s.screenshot or "-")
    Console(file=out, width=max(160, Console().width)).print(table)
