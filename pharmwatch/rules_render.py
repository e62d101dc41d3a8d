"""Renders the loaded rules (`pharmwatch rules list`) as a table, CSV or JSON.

Lives in pharmwatch/ rather than beside rules/ for now (rules/ is being refactored elsewhere);
it only reads the public `RuleSet`. One JSON shape: {"digest": ..., "rules": [row, ...]}.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from outputs import SafeCsvDictWriter
from rules import RuleSet

FORMATS = ("table", "csv", "json")
COLUMNS = ["id", "version", "status", "category", "severity", "title_zh", "title_en", "diseases", "legal_basis",
           "path", "sha256"]


def rule_rows(ruleset: RuleSet) -> list[dict[str, Any]]:
    return [{"id": r.id, "version": r.version, "status": r.status, "category": r.category, "severity": r.severity,
             "title_zh": r.title_zh, "title_en": r.title_en, "diseases": list(r.diseases),
             "legal_basis": list(r.legal_basis), "path": str(r.path), "sha256": r.sha256} for r in ruleset.rules]


def render_rules(ruleset: RuleSet, fmt: str, out: TextIO) -> None:
    rows = rule_rows(ruleset)
    if fmt == "json":
        out.write(json.dumps({"digest": ruleset.digest, "rules": rows}, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = SafeCsvDictWriter(out, fieldnames=COLUMNS)  # packs may be an office's own
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "diseases": ";".join(row["diseases"]),
                             "legal_basis": ";".join(row["legal_basis"])})
    elif fmt == "table":
        for row in rows:
            out.write(f"{row['id']:<36} v{row['version']} {row['severity']:<8} {row['category']:<26} "
                      f"{row['title_zh']}\n")
        out.write(f"{len(rows)} rules, digest {ruleset.digest[:16]}\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
