"""The morning digest says what the night found, what happened to cases, and whether the scans were healthy."""

from __future__ import annotations

from datetime import date, timedelta

from alerts.digest import morning_digest
from alerts.digest_render import render_digest
from storage import db
from storage.models import (
    Case,
    CaseDecision,
    CorrectionOrder,
    Referral,
    ScheduleRun,
    SearchQueryRun,
    SerpObservation,
)
from tests.alerts.world import NOW, TZ, flag, scan


def test_a_night_with_findings_lists_new_sites_first_with_areas_ads_and_case_work(sessions):
    with db.transaction(sessions) as session:
        old = scan(session, hours_ago=48)
        flag(session, old, "again-pharmacy.test", severity="medium", excerpt="降压特效药")
        night = scan(session, hours_ago=6, minutes=45)
        session.add(SearchQueryRun(scan_run_id=night.id, engine="baidu", query="降糖", page=1, url="http://b/",
                                   status="blocked"))
        session.flush()
        new = flag(session, night, "tangan-cure.test", severity="critical")
        flag(session, night, "again-pharmacy.test", severity="medium", excerpt="降压特效药")
        query_run = session.query(SearchQueryRun).one()
        session.add(SerpObservation(query_run_id=query_run.id, scan_run_id=night.id, site_id=new.id, engine="baidu",
                                    query="降糖", page=1, rank=1, is_ad=True, title="t", snippet="s",
                                    url="http://tangan-cure.test/", displayed_url="tangan-cure.test",
                                    observed_at=NOW - timedelta(hours=5)))
        case = Case(site_id=new.id, risk="critical", categories=["disease_cure_claim"])
        session.add(case)
        session.flush()
        session.add(CaseDecision(case_id=case.id, actor="scheduler", action="recheck", from_status="confirmed",
                                 to_status="confirmed", reason="still_present: http://tangan-cure.test/ ...",
                                 at=NOW - timedelta(hours=2)))
        session.add(CorrectionOrder(case_id=case.id, kind="correct", deadline=date(2026, 12, 1), created_by="li"))
        session.add(CorrectionOrder(case_id=case.id, kind="correct", deadline=date(2026, 12, 20), created_by="li"))
        session.add(Referral(case_id=case.id, authority="telecom", status="sent", created_by="li",
                             updated_at=NOW - timedelta(hours=1)))
        session.add(Referral(case_id=case.id, authority="police", status="draft", created_by="li",
                             updated_at=NOW - timedelta(days=3)))

    with sessions() as session:
        digest = morning_digest(session, end=NOW, timezone=TZ, base_url="http://pw.local:8000")

    assert (digest.flagged_total, digest.new_total, digest.through_ads) == (2, 1, 1)
    assert [s.domain for s in digest.sites] == ["tangan-cure.test", "again-pharmacy.test"]
    assert digest.by_severity == {"critical": 1, "medium": 1}
    assert digest.by_area == {"diabetes": 1, "hypertension": 1}
    assert [(r.case_id, r.outcome) for r in digest.rechecks] == [(case.id, "still_present")]
    assert [o.deadline for o in digest.overdue_orders] == ["2026-12-01"]
    assert [(r.authority, r.status) for r in digest.referral_changes] == [("telecom", "sent")]
    assert digest.scans[0].blocked == {"baidu": 1} and digest.scans[0].usual_minutes == 30.0
    assert digest.trouble == ["engine_blocked"]

    zh = render_digest(digest)
    assert zh.subject == ("PharmWatch 每日简报 2026-12-08: 【需处理】有搜索引擎拦截了查询; "
                          "新发现 1 个违规网站（共标记 2 个）")
    assert "[严重] tangan-cure.test (新) [广告] 宣称治愈疾病; 糖尿病" in zh.text
    assert f"http://pw.local:8000/cases/{case.id}" in zh.text and "违法内容仍在" in zh.text
    assert "baidu 被拦截 1" in zh.text and "45.0 分钟 (通常 30.0)" in zh.text
    assert f'<a href="http://pw.local:8000/cases/{case.id}">tangan-cure.test</a>' in zh.html
    en = render_digest(digest, "en")
    assert "newly flagged site(s)" in en.subject and "Re-check outcomes" in en.text


def test_a_night_that_found_nothing_still_sends_a_message_that_says_so(sessions):
    with db.transaction(sessions) as session:
        scan(session, hours_ago=6)
    with sessions() as session:
        digest = morning_digest(session, end=NOW, timezone=TZ)
    rendered = render_digest(digest)
    assert digest.nothing_new and digest.trouble == []
    assert rendered.subject == "PharmWatch 每日简报 2026-12-08: 扫描已运行，无新发现"
    assert "扫描已运行，无新发现。" in rendered.text and "http" not in rendered.text  # no base URL: no links


def test_no_scan_a_failed_scan_and_a_missed_job_are_trouble_in_the_subject(sessions):
    with sessions() as session:
        assert morning_digest(session, end=NOW, timezone=TZ).trouble == ["no_scan"]
    with db.transaction(sessions) as session:
        scan(session, hours_ago=5, status="failed", pages=0, error="<script>alert(1)</script>\x1b[31m")
        session.add(ScheduleRun(job_name="nightly", trigger="schedule", outcome="skipped", reason="missed",
                                scheduled_for=NOW - timedelta(hours=6)))
    with sessions() as session:
        digest = morning_digest(session, end=NOW, timezone=TZ)
    rendered = render_digest(digest)
    assert digest.trouble == ["scan_failed", "job_problem"]
    assert rendered.subject.startswith("PharmWatch 每日简报 2026-12-08: 【需处理】有扫描失败")
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "\x1b" not in rendered.text and "nightly: 已跳过 missed" in rendered.text
