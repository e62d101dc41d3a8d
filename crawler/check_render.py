"""Renders `check` results (crawler.check.check_target's contract objects) as a table, CSV or JSON.

JSON is the documented `check --json` contract (README): one array, one object per input, in
input order. CSV has one row per finding (an input without findings, or that failed, one row).
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from outputs import SafeCsvWriter, terminal_line

FORMATS = ("table", "csv", "json")
CSV_COLUMNS = ["target", "flagged", "risk", "error", "rule_id", "category", "severity", "excerpt", "not_analysed"]


def failed_check(target: str, error: str) -> dict[str, Any]:
    """The contract object of an input that could not be read or fetched."""
    return {"target": target, "error": error, "flagged": False, "risk": "none", "findings": [], "signals": {}}


def render_checks(results: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n")
    elif fmt == "csv":
        writer = SafeCsvWriter(out)
        writer.writerow(CSV_COLUMNS)
        for item in results:
            head = [item["target"], item["flagged"], item["risk"], item.get("error", "")]
            for finding in item["findings"] or [None]:
                writer.writerow([*head, *([finding["rule_id"], finding["category"], finding["severity"],
                                           finding["excerpt"]] if finding else ["", "", "", ""]),
                                 item.get("not_analysed", "")])
    elif fmt == "table":
        for item in results:
            if "error" in item:
                out.write(f"{terminal_line(item['target'])}: ERROR {terminal_line(item['error'])}\n")
                continue
            if "not_analysed" in item:
                out.write(f"{terminal_line(item['target'])}: NOT ANALYSED: {terminal_line(item['not_analysed'])}\n")
                continue
            verdict = "FLAGGED" if item["flagged"] else "ok"
            cut = f", body cut at {item['truncated_at_bytes']} bytes" if item.get("truncated_at_bytes") else ""
            out.write(f"{terminal_line(item['target'])}: {verdict} (risk {item['risk']}{cut})\n")
            images = item.get("ocr") or []
            if images:
                read = [image for image in images if "lines" in image]
                out.write(f"  images: {len(read)} of {len(images)} read by OCR, "
                          f"{sum(len(image['lines']) for image in read)} lines\n")
            disputed = item.get("signals", {}).get("model_disputed") or {}
            for finding in item["findings"]:
                # A demoted claim finding says what the rule said, so a reviewer can weigh both.
                was = disputed.get(finding["rule_id"])
                severity = (f"{finding['severity']}, rule said {was}; the model reads ordinary text" if was
                            else finding["severity"])
                where = (" (in image " + ", ".join(f"{o['sha256'][:12]} line {o['line'] + 1}" for o in finding["ocr"])
                         + ")") if finding.get("ocr") else ""
                out.write(f"  {finding['rule_id']} [{severity}] {finding['category']}: "
                          f"{terminal_line(finding['excerpt'])}{where}\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
