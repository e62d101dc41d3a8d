"""Renders period statistics (cases.stats.PeriodStats) as tables, CSV, JSON or an XLSX workbook.

Labels are zh-CN (the offices' language); JSON keeps the English keys (`PeriodStats.to_json`, with each
figure's definition). CSV is one file in long form, one row per figure, so it stays one rectangle
whatever the tables: 表 (table id), 表名, 周期 (period label or 合计), 起, 止 (its first and last day),
维度 (key column: engine, category, ...), 维度值, 指标 (figure id), 指标名, 数值. XLSX: one sheet per table
(figures as columns, definitions as header comments), then the sheet 图表 with findings and cases per
period. Every cell goes through `outputs` (CSV: `SafeCsvWriter`; XLSX: `xlsx_set`): category and engine
names are ours, but nothing here should rely on that.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TextIO

from cases.stats import DEFINITIONS, TOTAL, Period, PeriodStats, StatRow, StatTable
from outputs import SafeCsvWriter, terminal_text, xlsx_row, xlsx_set

FORMATS = ("table", "csv", "json", "xlsx")
TEXT_FORMATS = ("table", "csv", "json")
TOTAL_ZH = "合计"
BY_ZH = {"day": "按日", "week": "按周", "month": "按月"}
LABELS: dict[str, str] = {
    "period": "周期", "first_day": "起", "last_day": "止",
    "engine": "搜索引擎", "category": "违法类别", "disease_area": "疾病领域", "kind": "类型", "authority": "移送机关",
    "pages_checked": "检查页面数", "failed_fetches": "抓取失败数", "sites_checked": "检查网站数",
    "findings": "发现问题数", "flagging_findings": "中高风险问题数", "flagged_sites": "涉嫌违法网站数",
    "result_pages": "搜索结果页数", "result_pages_read": "成功读取结果页数", "ads": "付费广告数",
    "areas": "问题数", "opened": "新立案件", "reopened": "重新打开", "confirmed": "确认违法", "dismissed": "排除",
    "closed": "结案", "rechecked": "复查", "sites_closed": "已关停网站数", "added": "列入", "lifted": "解除",
    "created": "新建移送", "sent": "已发送", "acknowledged": "对方已接收", "referrals_closed": "移送办结",
    "issued": "下达责令", "complied": "已整改", "not_complied": "未整改",
}
CSV_HEADER = ["表", "表名", "周期", "起", "止", "维度", "维度值", "指标", "指标名", "数值"]
CHART_SHEET = "图表"


def render_stats(stats: PeriodStats, fmt: str, out: TextIO, *, width: int | None = None) -> None:
    """A text format to `out`; XLSX is binary: `stats_xlsx`."""
    if fmt == "json":
        out.write(json.dumps(stats.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        stats_csv(stats, out)
    elif fmt == "table":
        stats_table(stats, out, width=width)
    else:
        raise ValueError(f"unknown text format {fmt!r}; known: {', '.join(TEXT_FORMATS)} (xlsx: stats_xlsx)")


def _period(stats: PeriodStats, label: str) -> tuple[str, str, str]:
    """(shown label, first day, last day) of a period label or TOTAL."""
    if label == TOTAL:
        return TOTAL_ZH, stats.start, stats.end
    period: Period = next(p for p in stats.periods if p.label == label)
    return period.label, period.first_day, period.last_day


def stats_csv(stats: PeriodStats, out: TextIO) -> None:
    writer = SafeCsvWriter(out)
    writer.writerow(CSV_HEADER)
    for table in stats.tables:
        for row in table.rows:
            shown, first, last = _period(stats, row.period)
            for measure in table.measures:
                writer.writerow([table.name, table.title, shown, first, last, table.key or "",
                                 row.key or "", measure, LABELS[measure], row.values[measure]])


def _header(table: StatTable) -> list[str]:
    return [LABELS["period"], *([LABELS[table.key]] if table.key else []), *(LABELS[m] for m in table.measures)]


def _cells(stats: PeriodStats, table: StatTable, row: StatRow) -> list[str | int]:
    return [_period(stats, row.period)[0], *([row.key or ""] if table.key else []),
            *(row.values[m] for m in table.measures)]


def stats_table(stats: PeriodStats, out: TextIO, *, width: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, width=width, soft_wrap=False)
    console.print(terminal_text(f"统计 {stats.start} — {stats.end}（{stats.timezone}，{BY_ZH[stats.by]}）"))
    for table in stats.tables:
        shown = Table(title=terminal_text(table.title), show_lines=False, expand=False)
        keys = 2 if table.key else 1  # the period (and key) columns, then the figures
        for i, name in enumerate(_header(table)):
            shown.add_column(terminal_text(name), justify="left" if i < keys else "right", no_wrap=i < keys,
                             overflow="fold")
        for row in table.rows:
            shown.add_row(*(terminal_text(c) for c in _cells(stats, table, row)),
                          style="bold" if row.period == TOTAL else "")
        if not table.rows:
            shown.add_row(terminal_text("—"), *([terminal_text("")] * (len(_header(table)) - 1)))
        console.print(shown)


def stats_xlsx(stats: PeriodStats, target: Path | IO[bytes]) -> None:
    """The workbook: a sheet per table (named by its zh-CN title) and the chart sheet."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets = {}
    for table in stats.tables:
        sheet = workbook.create_sheet(table.title)
        sheets[table.name] = sheet
        header = [LABELS["period"], LABELS["first_day"], LABELS["last_day"],
                  *([LABELS[table.key]] if table.key else []), *(LABELS[m] for m in table.measures)]
        xlsx_row(sheet, 1, header)
        for column, measure in enumerate(table.measures, start=len(header) - len(table.measures) + 1):
            sheet.cell(row=1, column=column).comment = Comment(DEFINITIONS[measure], "pharmwatch")
        for number, row in enumerate(table.rows, start=2):
            shown, first, last = _period(stats, row.period)
            xlsx_row(sheet, number, [shown, first, last, *([row.key or ""] if table.key else []),
                                     *(row.values[m] for m in table.measures)])
        sheet.freeze_panes = "B2"
    _charts(workbook.create_sheet(CHART_SHEET), stats, sheets)
    workbook.save(target)


def _charts(sheet, stats: PeriodStats, sheets: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Findings per period (line) and case steps per period (bars), drawn from the tables' own sheets: the
    keyless tables have one row per period first, the total last (left out of the charts)."""
    from openpyxl.chart import BarChart, LineChart, Reference

    periods = len(stats.periods)
    xlsx_set(sheet.cell(row=1, column=1), f"统计 {stats.start} — {stats.end}（{stats.timezone}，{BY_ZH[stats.by]}）")
    for anchor, kind, table_name, measures, title in (
            ("A3", LineChart, "checks", ["findings", "flagging_findings", "flagged_sites"], "发现问题（每期）"),
            ("A22", BarChart, "cases", ["opened", "confirmed", "dismissed", "closed"], "案件（每期）")):
        table = stats.table(table_name)
        source = sheets[table_name]
        chart = kind()
        chart.title, chart.height, chart.width = title, 9, 22
        first_measure = 4  # columns: period, first day, last day, then the figures
        for measure in measures:
            column = first_measure + table.measures.index(measure)
            chart.add_data(Reference(source, min_col=column, min_row=1, max_row=1 + periods), titles_from_data=True)
        chart.set_categories(Reference(source, min_col=1, min_row=2, max_row=1 + periods))
        sheet.add_chart(chart, anchor)
