"""The record pages: the audit log (filters, paging), correction orders (open, overdue, done: the rows of
`pharmwatch order list`) and ads and advertisers (the histories of `pharmwatch report ads`), each with
its JSON twin, in Chinese by default, crawled text escaped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cases.advertisers import advertiser_history
from cases.orders import create_order, list_orders
from storage import db
from storage.models import CorrectionOrder
from tests.web.world import HOSTILE, World
from web.routes import audit


def test_the_audit_log_filters_by_actor_action_object_and_days(world: World,
                                                              signed_in: Callable[[str], TestClient]) -> None:
    sam = signed_in("sam")
    data = sam.get("/api/audit?actor=test&action=user_added").json()["data"]
    assert sorted(e["subject"] for e in data["events"]) == ["user:ada", "user:mona", "user:sam"]
    assert data["total"] == 3 and "test" in data["actors"] and "network_created" in data["actions"]
    users = sam.get("/api/audit?subject=user:").json()["data"]  # a kind of object: every user
    assert {e["action"] for e in users["events"]} == {"user_added", "login"}
    assert sam.get("/api/audit?subject=user:mona").json()["data"]["total"] == 1
    day, before = world.day.isoformat(), (world.day - timedelta(days=1)).isoformat()
    assert sam.get(f"/api/audit?from={day}&to={day}&action=user_added").json()["data"]["total"] == 3
    assert sam.get(f"/api/audit?to={before}").json()["data"]["total"] == 0
    assert sam.get(f"/api/audit?from={day}&to={before}").status_code == 400
    html = sam.get("/audit?action=user_added").text
    assert "审计日志" in html and "user:mona" in html


def test_the_audit_log_pages_newest_first(world: World, signed_in: Callable[[str], TestClient],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    sam = signed_in("sam")
    first = sam.get("/api/audit?action=user_added").json()["data"]
    assert first["pages"] == 2 and [e["subject"] for e in first["events"]] == ["user:ada", "user:sam"]
    second = sam.get("/api/audit?action=user_added&page_no=2").json()["data"]
    assert [e["subject"] for e in second["events"]] == ["user:mona"]
    assert sam.get("/api/audit?action=user_added&page_no=99").json()["data"]["page"] == 2
    assert "较早" in sam.get("/audit?action=user_added").text  # the link to the next page


def test_the_audit_log_shows_hostile_details_escaped(world: World, signed_in: Callable[[str], TestClient]) -> None:
    with db.transaction(world.sessions) as session:
        from storage.audit import record_event
        record_event(session, actor="crawler", action="captured", subject="capture:1", details={"title": HOSTILE[0]})
    html = signed_in("sam").get("/audit?actor=crawler").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_correction_orders_open_overdue_and_done(world: World, signed_in: Callable[[str], TestClient]) -> None:
    mona = signed_in("mona")
    for step in ("review", "confirm"):
        assert mona.post(f"/cases/{world.case_id}/{step}", follow_redirects=False).status_code == 303
    with db.transaction(world.sessions) as session:
        later = create_order(session, world.case_id, kind="correct", deadline=world.day + timedelta(days=30),
                             actor="sam", today=world.day)
        late = create_order(session, world.case_id, kind="suspend_sales", product="降糖胶囊",
                            deadline=world.day - timedelta(days=1), actor="sam", today=world.day - timedelta(days=3))
        done = create_order(session, world.case_id, kind="correct", deadline=world.day - timedelta(days=2),
                            actor="sam", today=world.day - timedelta(days=3))
        session.get_one(CorrectionOrder, done.id).status = "complied"
        ids = {"open": later.id, "overdue": late.id, "done": done.id}
    data = mona.get("/api/orders").json()["data"]
    assert {o["id"]: o["state"] for o in data["orders"]} == {v: k for k, v in ids.items()}
    assert data["counts"] == {"open": 1, "overdue": 1, "done": 1}
    with world.sessions() as session:  # the rows of `pharmwatch order list`, plus their state
        assert [{k: v for k, v in o.items() if k != "state"} for o in data["orders"]] == list_orders(session)
    assert [o["id"] for o in mona.get("/api/orders?state=overdue").json()["data"]["orders"]] == [late.id]
    html = mona.get("/orders?state=overdue").text
    assert "降糖胶囊" in html and "已逾期" in html and "暂停销售" in html
    assert mona.get("/api/orders?state=nonsense").status_code == 400


def test_ads_and_advertisers_are_the_reports_histories(world: World, signed_in: Callable[[str], TestClient]) -> None:
    mona = signed_in("mona")
    data = mona.get("/api/ads").json()["data"]
    with world.sessions() as session:
        assert data == [h.to_json() for h in advertiser_history(session)]
    assert [h["advertiser"] for h in data] == ["某公司"] and data[0]["landing_sites"] == ["evil.test"]
    assert mona.get("/api/ads?domain=tangan-cure.test").json()["data"] == []
    assert len(mona.get("/api/ads?advertiser=公司").json()["data"]) == 1
    html = mona.get("/ads").text
    assert "广告与广告主" in html and "某公司" in html and "根治糖尿病" in html


def test_the_audit_forms_empty_days_mean_no_bound(world: World, signed_in: Callable[[str], TestClient]) -> None:
    sam = signed_in("sam")
    assert sam.get("/audit?actor=test&action=&subject=&from=&to=").status_code == 200
    assert sam.get("/api/audit?from=2026-13-01").status_code == 400
