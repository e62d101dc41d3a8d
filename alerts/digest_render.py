"""The morning digest as an e-mail or chat message: subject, plain text and HTML, in Chinese or English.

Owns `render_digest()`. Crawled text (domains, job reasons, scan errors) is made inert on the way out:
control characters dropped from the text part (`outputs.terminal_line`), HTML escaped by Jinja2's
autoescape. The subject says first whether anything needs attention, so a phone's notification is enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from alerts.digest import Digest
from cases.referrals import AUTHORITIES
from outputs import terminal_line
from rules.model import CATEGORY_ZH
from rules.reference.diseases import DISEASE_ZH

SEVERITY = {"zh": {"critical": "严重", "high": "高", "medium": "中", "low": "低"},
            "en": {"critical": "critical", "high": "high", "medium": "medium", "low": "low"}}
TROUBLE = {
    "zh": {"no_scan": "本时段没有任何扫描运行", "scan_failed": "有扫描失败", "engine_blocked": "有搜索引擎拦截了查询",
           "nothing_captured": "有扫描未抓取到任何页面", "job_problem": "有计划任务未正常完成"},
    "en": {"no_scan": "no scan ran in this period", "scan_failed": "a scan failed",
           "engine_blocked": "a search engine blocked queries", "nothing_captured": "a scan captured no page",
           "job_problem": "a scheduled job did not finish cleanly"},
}
RECHECK = {"zh": {"still_present": "违法内容仍在", "moved": "已迁移到其他网站", "violation_gone": "违法内容已消失",
                  "unreachable": "无法访问"},
           "en": {"still_present": "still present", "moved": "moved to another site",
                  "violation_gone": "violation gone", "unreachable": "unreachable"}}
STATES = {
    "zh": {"finished": "完成", "failed": "失败", "running": "运行中", "partial": "部分完成", "skipped": "已跳过",
           "correct": "责令改正", "suspend_sales": "暂停销售", "draft": "草稿", "sent": "已发送",
           "acknowledged": "已受理", "closed": "已办结", **AUTHORITIES},
    "en": {},
}
WORDS = {
    "zh": {
        "title": "PharmWatch 每日简报", "period": "时段", "trouble": "需要注意",
        "new_sites": "新发现的违规网站", "recurring": "再次出现", "flagged": "标记网站", "new": "新",
        "by_severity": "按风险", "by_area": "按疾病领域", "through_ads": "经付费广告到达", "ad": "广告",
        "more": "另有 {n} 个网站，见每日清单", "scans": "扫描运行情况", "pages": "页面", "failures": "失败",
        "minutes": "分钟", "usual": "通常", "blocked": "被拦截", "rechecks": "复查结果",
        "overdue": "逾期未复查的整改令",
        "deadline": "期限", "referrals": "移送状态变化", "jobs": "计划任务问题", "case": "案件",
        "nothing": "扫描已运行，无新发现。", "daily_list": "每日清单",
        "subject_new": "新发现 {new} 个违规网站（共标记 {total} 个）", "subject_none": "扫描已运行，无新发现",
        "subject_flagged": "标记 {total} 个网站，无新网站", "subject_trouble": "【需处理】",
        "subject_activity": "无新网站，有案件进展",
    },
    "en": {
        "title": "PharmWatch morning digest", "period": "Period", "trouble": "Needs attention",
        "new_sites": "Newly flagged sites", "recurring": "recurring", "flagged": "flagged sites", "new": "new",
        "by_severity": "By risk", "by_area": "By disease area", "through_ads": "Reached through paid ads", "ad": "ad",
        "more": "{n} more sites: see the daily list", "scans": "Scans", "pages": "pages", "failures": "failures",
        "minutes": "min", "usual": "usually", "blocked": "blocked", "rechecks": "Re-check outcomes",
        "overdue": "Correction orders past their deadline", "deadline": "deadline",
        "referrals": "Referral status changes", "jobs": "Scheduled job problems", "case": "case",
        "nothing": "The scans ran; nothing new.", "daily_list": "Daily list",
        "subject_new": "{new} newly flagged site(s) ({total} flagged)", "subject_none": "scans ran, nothing new",
        "subject_flagged": "{total} flagged site(s), none new", "subject_trouble": "[ATTENTION] ",
        "subject_activity": "no new sites; case activity",
    },
}
_ENV = Environment(loader=PackageLoader("alerts", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


def render_digest(digest: Digest, lang: str = "zh") -> RenderedDigest:
    words = WORDS[lang]
    zone = ZoneInfo(digest.timezone)

    def local(iso: str) -> str:
        return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def category(name: str) -> str:
        return CATEGORY_ZH.get(name, name) if lang == "zh" else name

    def area(name: str) -> str:
        return DISEASE_ZH.get(name, name) if lang == "zh" else name

    labels = {"severity": SEVERITY[lang], "trouble": TROUBLE[lang], "recheck": RECHECK[lang],
              "category": category, "area": area, "local": local, "words": words,
              "state": lambda name: STATES[lang].get(name, name),
              "names": lambda items, label: ", ".join(label(item) for item in items)}
    subject = _subject(digest, lang, local(digest.end)[:10])
    context = {"d": digest, "subject": subject, "lang": lang, "hidden": digest.flagged_total - len(digest.sites),
               **labels}
    html = _ENV.get_template("digest.html").render(**context)
    text = _ENV.get_template("digest.txt").render(**context, clean=terminal_line)
    return RenderedDigest(subject=terminal_line(subject), text=text, html=html)


def _subject(digest: Digest, lang: str, day: str) -> str:
    words = WORDS[lang]
    if digest.new_total:
        what = words["subject_new"].format(new=digest.new_total, total=digest.flagged_total)
    elif digest.flagged_total:
        what = words["subject_flagged"].format(total=digest.flagged_total)
    elif not digest.nothing_new:
        what = words["subject_activity"]
    else:
        what = words["subject_none"]
    if digest.trouble:
        what = f"{words['subject_trouble']}{TROUBLE[lang][digest.trouble[0]]}; {what}"
    return f"{words['title']} {day}: {what}"
