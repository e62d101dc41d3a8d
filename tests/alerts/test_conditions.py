"""A scan raises an immediate alert for each wanted condition it meets, once per scan and condition."""

from __future__ import annotations

import pytest

from alerts.conditions import CONDITIONS, alerts_for_scan
from storage import db
from storage.models import SearchQueryRun
from tests.alerts.world import flag, scan


def test_each_condition_is_one_alert_with_a_stable_key(sessions):
    with db.transaction(sessions) as session:
        earlier = scan(session, hours_ago=30)
        flag(session, earlier, "known-operator.test", category="blacklisted_operator", excerpt="微信 abc123")
        run = scan(session, hours_ago=2)
        flag(session, run, "tangan-cure.test", severity="critical")
        flag(session, run, "pills.test", severity="high", excerpt="含西地那非")
        flag(session, run, "known-operator.test", category="blacklisted_operator", excerpt="微信 abc123")
        flag(session, run, "new-front.test", category="blacklisted_operator", excerpt="微信 abc123")
        session.add(SearchQueryRun(scan_run_id=run.id, engine="bing", query="q", page=1, url="http://b/",
                                   status="blocked"))
        run_id = run.id
    tags = {"pw-cure": ("claim.cure",)}
    with sessions() as session:
        alerts = alerts_for_scan(session, run_id, conditions=CONDITIONS, rule_tags=tags)
    assert [(a.condition, a.key) for a in alerts] == [
        ("critical", f"alert:scan:{run_id}:critical"),
        ("blacklisted_operator", f"alert:scan:{run_id}:blacklisted_operator"),
        ("engine_blocked", f"alert:scan:{run_id}:engine_blocked")]
    assert alerts[0].subject == "PharmWatch 警报: 发现严重风险网站：1 个网站"
    assert "tangan-cure.test [critical]" in alerts[0].text and "pills.test" not in alerts[0].text
    assert "new-front.test" in alerts[1].text and "known-operator.test" not in alerts[1].text  # seen before
    assert "bing × 1" in alerts[2].text

    with sessions() as session:
        controlled = alerts_for_scan(session, run_id, conditions=["controlled_or_additive"],
                                     rule_tags={"pw-cure": ("sale.controlled",)}, lang="en")
    assert [a.subject for a in controlled] == ["PharmWatch alert: controlled substances or illegal additives: "
                                               "4 site(s)"]


def test_a_failed_or_empty_scan_alerts_and_a_clean_one_does_not(sessions):
    with db.transaction(sessions) as session:
        failed = scan(session, hours_ago=1, status="failed", pages=0, error="killed by signal SIGKILL").id
        empty = scan(session, hours_ago=1, pages=0).id
        clean = scan(session, hours_ago=1).id
    with sessions() as session:
        assert [a.text.splitlines()[-1] for a in alerts_for_scan(session, failed, conditions=CONDITIONS)] == [
            f"- scan {failed}: killed by signal SIGKILL"]
        assert [a.condition for a in alerts_for_scan(session, empty, conditions=CONDITIONS)] == ["nothing_captured"]
        assert alerts_for_scan(session, clean, conditions=CONDITIONS) == []
        with pytest.raises(ValueError, match="unknown alert condition"):
            alerts_for_scan(session, clean, conditions=["everything"])
