"""Renders cases (`cases.casebook`) as a table, CSV or JSON: the case list, one case, rule stats."""

from __future__ import annotations

import json
from typing import TextIO

from cases.casebook import CaseDetail, CaseSummary, RuleRecord
from outputs import SafeCsvWriter, terminal_line

FORMATS = ("table", "csv", "json")


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def render_case_list(cases: list[CaseSummary], fmt: str, out: TextIO) -> None:
    _check(fmt)
    if fmt == "json":
        out.write(json.dumps([c.to_json() for c in cases], ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = SafeCsvWriter(out)
        writer.writerow(["id", "site", "status", "risk", "categories", "diseases", "assignee", "opened_at",
                         "updated_at"])
        for c in cases:
            writer.writerow([c.id, c.site, c.status, c.risk, ";".join(c.categories), ";".join(c.diseases),
                             c.assignee or "", c.opened_at, c.updated_at])
    else:
        for c in cases:
            out.write(terminal_line(f"#{c.id:<5} {c.status:<12} {c.risk:<8} {c.site}  {', '.join(c.categories)}"
                                    + (f"  [{', '.join(c.diseases)}]" if c.diseases else "")
                                    + (f"  → {c.assignee}" if c.assignee else "")) + "\n")
        out.write(f"{len(cases)} case(s)\n")


def render_case(detail: CaseDetail, fmt: str, out: TextIO) -> None:
    if fmt not in ("table", "json"):
        raise ValueError(f"unknown format {fmt!r}; known: table, json")
    if fmt == "json":
        out.write(json.dumps(detail.to_json(), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    c = detail.case
    lines = [f"case #{c.id}  {c.site}  {c.status}  risk {c.risk}" + (f"  assigned to {c.assignee}" if c.assignee
                                                                      else ""),
             f"  categories: {', '.join(c.categories)}",
             f"  next: {', '.join(detail.allowed_actions)}",
             f"findings ({len(detail.findings)}):"]
    lines += [f"  [{f['severity']}] {f['rule_id']} {f['title']}: {f['excerpt']}" for f in detail.findings]
    lines.append(f"captures ({len(detail.captures)}):")
    lines += [f"  {p['fetched_at']} {p['url']} " + (f"failed: {p['error']}" if p["error"] else
                                                    f"HTTP {p['status_code']} risk {p['risk']}")
              for p in detail.captures]
    if detail.tips:
        lines.append(f"tips: {', '.join(f'#{t}' for t in detail.tips)}")
    if detail.network_id is not None:
        lines.append(f"operator network: #{detail.network_id} (`pharmwatch network show {detail.network_id}`)")
    lines.append(f"decisions ({len(detail.decisions)}):")
    lines += [f"  {d['at']} {d['actor']}: {d['action']} {d['from']} → {d['to']}"
              + (f" ({d['reason']})" if d["reason"] else "") for d in detail.decisions]
    out.write("".join(terminal_line(line) + "\n" for line in lines))


def render_rule_stats(records: list[RuleRecord], fmt: str, out: TextIO) -> None:
    _check(fmt)
    if fmt == "json":
        out.write(json.dumps([r.to_json() for r in records], ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = SafeCsvWriter(out)
        writer.writerow(["rule_id", "confirmed", "dismissed", "dismissal_rate"])
        for r in records:
            writer.writerow([r.rule_id, r.confirmed, r.dismissed, r.dismissal_rate])
    else:
        for r in records:
            rate = "-" if r.dismissal_rate is None else f"{r.dismissal_rate:.0%}"
            out.write(f"{r.rule_id:<40} confirmed {r.confirmed:>4}  dismissed {r.dismissed:>4}  dismissal {rate}\n")
        if not records:
            out.write("no review verdicts in this period\n")
