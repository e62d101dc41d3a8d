"""Renders a tip listing (cases.tips.TipRecord) as a table, CSV or JSON (`pharmwatch tip list`).

One JSON shape: an array of `TipRecord.to_json()` objects, oldest first; CSV has the same fields.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import TextIO

from cases.tips import TipRecord
from outputs import SafeCsvDictWriter, terminal_line

FORMATS = ("table", "csv", "json")
CSV_COLUMNS = [f.name for f in fields(TipRecord)]


def render_tips(tips: list[TipRecord], fmt: str, out: TextIO, *, status: str | None = None) -> None:
    if fmt == "json":
        out.write(json.dumps([t.to_json() for t in tips], ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = SafeCsvDictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(t.to_json() for t in tips)
    elif fmt == "table":
        for t in tips:
            scanned = f" scan {t.scan_run_id}: {t.outcome}" if t.scan_run_id else ""
            who = f", reporter {t.reporter}" if t.reporter else ""
            lines = [f"{t.id:>5} {t.status:<7}{scanned} {t.submitted_at[:16]} {t.source}{who} (by {t.submitted_by})",
                     f"      {t.url}", *([f"      {t.note}"] if t.note else [])]
            out.write("".join(terminal_line(line) + "\n" for line in lines))
        out.write(f"{len(tips)} tip(s)" + (f" {status}" if status else "") + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
