"""Immediate alerts: the conditions after a scan that must not wait for the morning digest.

Owns `CONDITIONS`, `Alert` and `alerts_for_scan()`. Each condition met by a scan gives one alert with a
stable key (`alert:scan:<id>:<condition>`), so enqueueing it again after a crash or a resumed scan stores
no second message (`alerts.outbox.enqueue` is idempotent by key). Which conditions an office wants is the
`[alerts] alert_on` setting. Crawled text in the alert (domains, excerpts) is made inert for terminals
(`outputs.terminal_line`); the chat channels show it as plain text.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outputs import terminal_line
from rules.model import FLAGGING_SEVERITIES
from storage.models import Finding, ScanRun, Site
from storage.scans import blocked_engines

#: Condition → (Chinese, English) heading.
CONDITIONS: Final[Mapping[str, tuple[str, str]]] = {
    "critical": ("发现严重风险网站", "critical findings"),
    "controlled_or_additive": ("发现管制药品销售或非法添加", "controlled substances or illegal additives"),
    "blacklisted_operator": ("重点监管对象出现在新网站", "a blacklisted operator on a new site"),
    "scan_failed": ("扫描失败", "a scan failed"),
    "engine_blocked": ("搜索引擎拦截了查询", "a search engine blocked queries"),
    "nothing_captured": ("扫描未抓取到任何页面", "a scan captured no page"),
}
#: Rule tags that mark controlled substances and hidden drug additives (see rules/packs/README.md).
CONTROLLED_TAGS: Final = frozenset({"sale.controlled", "indicator.adulteration"})
#: Sites listed in one alert; the count covers all.
LISTED: Final = 20


@dataclass(frozen=True)
class Alert:
    key: str  # alert:scan:<id>:<condition>: one message per scan and condition, however often enqueued
    condition: str
    subject: str
    text: str


def alerts_for_scan(session: Session, scan_run_id: int, *, conditions: Collection[str],
                    rule_tags: Mapping[str, Sequence[str]] | None = None, lang: str = "zh",
                    base_url: str = "") -> list[Alert]:
    """The alerts scan `scan_run_id` raises for the wanted `conditions` (a subset of CONDITIONS)."""
    unknown = set(conditions) - set(CONDITIONS)
    if unknown:
        raise ValueError(f"unknown alert condition(s) {sorted(unknown)}; known: {', '.join(CONDITIONS)}")
    run = session.get_one(ScanRun, scan_run_id)
    tags = rule_tags or {}
    flagging = session.execute(
        select(Finding, Site.domain).join(Site, Site.id == Finding.site_id)
        .where(Finding.scan_run_id == scan_run_id, Finding.severity.in_(FLAGGING_SEVERITIES))
        .order_by(Finding.id)).all()
    matched: dict[str, list[tuple[Finding, str]]] = {
        "critical": [(f, d) for f, d in flagging if f.severity == "critical"],
        "controlled_or_additive": [(f, d) for f, d in flagging if f.category == "illegal_additive"
                                   or CONTROLLED_TAGS & set(tags.get(f.rule_id, ()))],
        "blacklisted_operator": [(f, d) for f, d in flagging if f.category == "blacklisted_operator"
                                 and not _seen_before(session, f)],
    }
    out = []
    for condition in CONDITIONS:
        if condition not in conditions:
            continue
        if condition in matched:
            if matched[condition]:
                out.append(_finding_alert(run, condition, matched[condition], lang, base_url))
            continue
        detail = _scan_problem(session, run, condition)
        if detail is not None:
            out.append(_alert(run, condition, lang, [detail]))
    return out


def _seen_before(session: Session, finding: Finding) -> bool:
    """Whether the site already showed a blacklisted operator in an earlier scan (then it is not new)."""
    return bool(session.scalar(select(func.count()).select_from(Finding).where(
        Finding.site_id == finding.site_id, Finding.category == "blacklisted_operator",
        Finding.scan_run_id < finding.scan_run_id)))


def _scan_problem(session: Session, run: ScanRun, condition: str) -> str | None:
    if condition == "scan_failed" and run.status == "failed":
        return f"scan {run.id}: {run.error or 'failed'}"
    if condition == "nothing_captured" and run.status == "finished" and run.pages == 0:
        return f"scan {run.id}: 0 pages"
    if condition == "engine_blocked":
        blocked = blocked_engines(session, [run.id]).get(run.id)
        if blocked:
            return f"scan {run.id}: " + ", ".join(f"{engine} × {count}" for engine, count in blocked.items())
    return None


def _finding_alert(run: ScanRun, condition: str, found: list[tuple[Finding, str]], lang: str,
                   base_url: str) -> Alert:
    by_site: dict[str, Finding] = {}
    for finding, domain in found:
        by_site.setdefault(domain, finding)
    lines = []
    for domain, finding in list(by_site.items())[:LISTED]:
        link = f" {base_url.rstrip('/')}/sites/{domain}" if base_url else ""
        lines.append(f"{domain} [{finding.severity}] {finding.title}: {finding.excerpt[:120]}{link}")
    if len(by_site) > LISTED:
        lines.append(f"… +{len(by_site) - LISTED}")
    return _alert(run, condition, lang, lines, count=len(by_site))


def _alert(run: ScanRun, condition: str, lang: str, lines: list[str], count: int | None = None) -> Alert:
    heading = CONDITIONS[condition][0 if lang == "zh" else 1]
    counted = "" if count is None else (f"：{count} 个网站" if lang == "zh" else f": {count} site(s)")
    subject = f"PharmWatch {'警报' if lang == 'zh' else 'alert'}: {heading}{counted}"
    body = "\n".join([subject, f"scan {run.id}", *(f"- {terminal_line(line)}" for line in lines)])
    return Alert(key=f"alert:scan:{run.id}:{condition}", condition=condition, subject=subject, text=body)
