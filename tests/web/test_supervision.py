"""The supervisors' pages: the blacklist, referrals (with the letter served sandboxed), tips and scan runs,
each with its JSON twin; steps audited with the signed-in user, CSRF on form posts, hostile text escaped."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from storage.audit import verify_chain
from storage.models import AuditEvent, BlacklistEntry, Capture, SearchQueryRun, Tip
from tests.web.world import HOSTILE_TEXT, World


def _events(world: World, subject_prefix: str) -> list[tuple[str, str, str]]:
    with world.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.subject.startswith(subject_prefix))
                                 .order_by(AuditEvent.id))
        return [(e.actor, e.action, e.subject) for e in events]


def _escaped(html: str) -> None:
    assert "<script>alert(1)" not in html and '" onerror=alert(1)' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- blacklist ------------------------------------------------------------------------------------------
def test_a_supervisor_adds_and_lifts_blacklist_entries_audited(world: World,
                                                              signed_in: Callable[[str], TestClient]) -> None:
    sam, mona = signed_in("sam"), signed_in("mona")
    response = sam.post("/blacklist", data={"kind": "site", "value": "https://WWW.Evil.test/shop", "reason": "售假药"},
                        follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/blacklist?done=added"
    assert sam.post("/blacklist", data={"kind": "company", "value": HOSTILE_TEXT, "reason": "同一经营者"},
                    follow_redirects=False).status_code == 303
    assert sam.post("/blacklist", data={"kind": "site", "value": "evil.test", "reason": "again"}).status_code == 400
    assert sam.post("/blacklist", data={"kind": "rocket", "value": "x", "reason": "x"}).status_code == 400
    assert sam.post("/blacklist", data={"kind": "site", "value": "x.test", "reason": " "}).status_code == 400
    assert sam.post("/blacklist", data={"kind": "site", "value": "x.test", "reason": "x",
                                        "case_id": str(world.case_id)}).status_code == 400  # the case is open
    entries = mona.get("/api/blacklist").json()["data"]
    assert [(e["kind"], e["value"], e["added_by"]) for e in entries] == [
        ("site", "evil.test", "sam"), ("company", " ".join(HOSTILE_TEXT.split()), "sam")]
    html = mona.get("/blacklist").text
    assert '<td class="site">evil.test</td>' in html and "售假药" in html
    _escaped(html)
    assert 'method="post" action="/blacklist"' not in html and "/lift" not in html  # no supervisor's forms
    supervisor_html = sam.get("/blacklist").text
    assert 'method="post" action="/blacklist"' in supervisor_html
    assert f'action="/blacklist/{entries[0]["id"]}/lift"' in supervisor_html

    first = entries[0]["id"]
    assert sam.post(f"/blacklist/{first}/lift", data={"reason": ""}).status_code == 400
    assert sam.post(f"/blacklist/{first}/lift", data={"reason": "已整改"}, follow_redirects=False).status_code == 303
    assert sam.post(f"/blacklist/{first}/lift", data={"reason": "again"}).status_code == 409
    assert sam.post("/blacklist/999/lift", data={"reason": "x"}).status_code == 404
    assert [e["id"] for e in mona.get("/api/blacklist").json()["data"]] == [entries[1]["id"]]
    lifted = mona.get("/api/blacklist?lifted=true").json()["data"]
    assert lifted[0]["lifted"] is True and lifted[0]["lift_reason"] == "已整改"
    assert "已整改" in mona.get("/blacklist?lifted=true").text
    assert _events(world, "blacklist:") == [("sam", "blacklisted", f"blacklist:{first}"),
                                            ("sam", "blacklisted", f"blacklist:{entries[1]['id']}"),
                                            ("sam", "blacklist_lifted", f"blacklist:{first}")]
    with world.sessions() as session:
        assert verify_chain(session) == []


def test_blacklist_posts_need_a_supervisor_and_the_csrf_token(world: World, signed_in: Callable[[str], TestClient],
                                                              api_client: Callable[[str], TestClient]) -> None:
    mona, sam = signed_in("mona"), signed_in("sam")
    assert mona.post("/blacklist", data={"kind": "site", "value": "a.test", "reason": "x"}).status_code == 403
    del sam.headers["X-CSRF-Token"]
    assert sam.post("/blacklist", data={"kind": "site", "value": "a.test", "reason": "x"}).status_code == 403
    assert sam.post("/api/blacklist", json={"kind": "site", "value": "a.test", "reason": "x"}).status_code == 403
    with world.sessions() as session:
        assert session.scalar(select(BlacklistEntry.id)) is None
    assert api_client("mona").post("/api/blacklist", json={"kind": "qq", "value": "12345678",
                                                           "reason": "x"}).status_code == 403
    api = api_client("sam")
    response = api.post("/api/blacklist", json={"kind": "qq", "value": "12345678", "reason": "同一客服"})
    assert response.status_code == 200
    entry = response.json()["data"]
    assert entry["kind"] == "qq" and entry["value"] == "12345678" and entry["added_by"] == "sam"
    lifted = api.post(f"/api/blacklist/{entry['id']}/lift", json={"reason": "误报"}).json()["data"]
    assert lifted["lifted"] is True
    assert api.post("/api/blacklist", json={"kind": "qq", "value": "abc", "reason": "x"}).json()["ok"] is False


# --- referrals ------------------------------------------------------------------------------------------
def test_referrals_by_status_their_steps_and_the_sandboxed_letter(world: World,
                                                                  signed_in: Callable[[str], TestClient]) -> None:
    mona, sam = signed_in("mona"), signed_in("sam")
    listed = mona.get("/api/referrals").json()["data"]
    assert [(r["id"], r["site"], r["status"]) for r in listed] == [(world.referral_id, "evil.test", "draft")]
    assert mona.get("/api/referrals?status=sent").json()["data"] == []
    assert mona.get("/api/referrals?status=lost").status_code == 400
    html = mona.get("/referrals?status=draft").text
    assert f'<a href="/referrals/{world.referral_id}">' in html and "公安机关" in html
    assert "没有符合条件的移送" in mona.get("/referrals?status=closed").text

    page = mona.get(f"/referrals/{world.referral_id}").text
    assert f'<iframe sandbox src="/referrals/{world.referral_id}/letter"' in page
    assert 'action="/referrals/' not in page  # a monitor cannot move it
    letter = mona.get(f"/referrals/{world.referral_id}/letter")
    csp = letter.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "allow-" not in csp and "default-src 'none'" in csp
    assert letter.headers["content-type"] == "text/html; charset=utf-8"
    assert "evil.test" in letter.text and "公安机关" in letter.text
    assert "<script>alert(1)" not in letter.text and "&lt;script&gt;" in letter.text  # crawled titles escaped
    assert mona.get("/referrals/999").status_code == 404 and mona.get("/referrals/999/letter").status_code == 404

    assert mona.post(f"/referrals/{world.referral_id}/status", data={"status": "sent"}).status_code == 403
    assert sam.post(f"/referrals/{world.referral_id}/status", data={"status": "closed"}).status_code == 409
    assert sam.post(f"/referrals/{world.referral_id}/status", data={"status": "lost"}).status_code == 409
    page = sam.get(f"/referrals/{world.referral_id}").text
    assert 'name="status" value="sent"' in page and 'name="status" value="closed"' not in page
    response = sam.post(f"/referrals/{world.referral_id}/status",
                        data={"status": "sent", "their_reference": "公（网）受字〔2026〕12号"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("?done=sent")
    data = sam.get(f"/api/referrals/{world.referral_id}").json()["data"]
    assert data["status"] == "sent" and data["their_reference"] == "公（网）受字〔2026〕12号"
    assert data["next"] == ["acknowledged", "closed"]
    assert [(s["actor"], s["action"]) for s in data["steps"]] == [("sam", "sent")]
    page = mona.get(f"/referrals/{world.referral_id}").text
    assert "公（网）受字〔2026〕12号" in page and "已发送" in page


def test_referral_twin_moves_by_api_token_without_csrf(world: World, api_client: Callable[[str], TestClient],
                                                       signed_in: Callable[[str], TestClient]) -> None:
    sam = signed_in("sam")
    del sam.headers["X-CSRF-Token"]
    assert sam.post(f"/referrals/{world.referral_id}/status", data={"status": "sent"}).status_code == 403
    assert api_client("mona").post(f"/api/referrals/{world.referral_id}/status",
                                   json={"status": "sent"}).status_code == 403
    api = api_client("sam")
    for status in ("sent", "acknowledged", "closed"):
        response = api.post(f"/api/referrals/{world.referral_id}/status", json={"status": status})
        assert response.status_code == 200 and response.json()["data"]["status"] == status
    assert api.post(f"/api/referrals/{world.referral_id}/status", json={"status": "sent"}).status_code == 409
    assert api.post("/api/referrals/999/status", json={"status": "sent"}).status_code == 404
    actions = [a for _, a, _ in _events(world, "case:") if a.startswith("referral_")]
    assert actions == ["referral_sent", "referral_acknowledged", "referral_closed"]


# --- tips -----------------------------------------------------------------------------------------------
def test_a_monitor_adds_a_tip_by_pasting_a_url(world: World, signed_in: Callable[[str], TestClient],
                                               api_client: Callable[[str], TestClient]) -> None:
    mona = signed_in("mona")
    response = mona.post("/tips", data={"url": " “ｓｈｏｐ.example.com/药” ", "source": "12315热线",
                                        "note": HOSTILE_TEXT}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/tips?done=added"
    again = mona.post("/tips", data={"url": "shop.example.com/药", "source": "12315热线"}, follow_redirects=False)
    assert again.status_code == 303 and "done=already" in again.headers["location"]  # the same tip, not a new one
    for private in ("http://127.0.0.1/admin", "http://10.1.2.3/", "javascript:alert(1)", "", "a b"):
        assert mona.post("/tips", data={"url": private}).status_code == 400, private
    tips = mona.get("/api/tips").json()["data"]
    assert [(t["url"], t["source"], t["submitted_by"], t["status"]) for t in tips] == [
        ("http://shop.example.com/%E8%8D%AF", "12315热线", "mona", "pending")]
    assert mona.get("/api/tips?status=scanned").json()["data"] == []
    assert mona.get("/api/tips?status=lost").status_code == 400
    html = mona.get("/tips?status=pending").text
    assert "http://shop.example.com/%E8%8D%AF" in html and "待扫描" in html
    _escaped(html)
    assert _events(world, "tip:") == [("mona", "tip_submitted", f"tip:{tips[0]['id']}")]

    del mona.headers["X-CSRF-Token"]
    assert mona.post("/tips", data={"url": "other.example.com"}).status_code == 403
    api = api_client("mona")
    made = api.post("/api/tips", json={"url": "other.example.com", "source": "邮件"})
    assert made.status_code == 201 and made.json()["data"]["created"] is True
    same = api.post("/api/tips", json={"url": "other.example.com", "source": "邮件"})
    assert same.status_code == 200 and same.json()["data"]["created"] is False
    assert api.post("/api/tips", json={"url": "http://192.168.0.1/"}).json()["ok"] is False
    with world.sessions() as session:
        assert len(session.scalars(select(Tip)).all()) == 2


# --- scan runs ------------------------------------------------------------------------------------------
def test_scan_runs_show_blocked_engines_and_failures(world: World, signed_in: Callable[[str], TestClient]) -> None:
    with world.sessions() as session:
        run_id = session.scalar(select(Capture.scan_run_id))
        session.add(SearchQueryRun(scan_run_id=run_id, engine="baidu", query="根治", page=1, url="http://search.test/b",
                                   status="blocked", reason=f"captcha {HOSTILE_TEXT}"))
        session.add(Capture(scan_run_id=run_id, site_id=1, url="http://gone.test/", error="DNS lookup failed"))
        session.commit()
    mona = signed_in("mona")
    [run] = mona.get("/api/scans").json()["data"]
    assert run["id"] == run_id and run["status"] == "running" and run["blocked"] == {"baidu": 1}
    assert {"what": "http://gone.test/", "why": "DNS lookup failed"} in run["failed"] and run["failed_total"] == 2
    html = mona.get("/scans").text
    assert "baidu (1)" in html and "DNS lookup failed" in html and "进行中" in html
    _escaped(html)
    assert mona.get("/api/scans?limit=0").status_code == 400


# --- navigation -----------------------------------------------------------------------------------------
def test_the_navigation_links_the_new_pages(world: World, signed_in: Callable[[str], TestClient]) -> None:
    html = signed_in("mona").get("/tips").text
    nav = re.search(r"<nav>(.*?)</nav>", html, re.S).group(1)  # type: ignore[union-attr]
    for path in ("/referrals", "/blacklist", "/tips", "/scans"):
        assert f'href="{path}"' in nav, path
    assert '<a href="/tips" aria-current="page">' in nav and 'href="/users"' not in nav
