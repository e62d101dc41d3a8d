"""The case page's actions without a crawl: referring a confirmed case (form and JSON twin, audited, the
suggested authority first), who sees which form, CSRF on every new POST, a monitor's API token refused, and
the states a check shows before any job ran. The crawls themselves: tests/web/test_browser_cases.py."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from storage.models import AuditEvent, Referral, Tip
from tests.web.world import World


def _confirm(client: TestClient, case_id: int) -> None:
    for step in ("review", "confirm"):
        assert client.post(f"/cases/{case_id}/{step}", follow_redirects=False).status_code == 303


def test_a_supervisor_refers_a_confirmed_case_from_its_page(world: World,
                                                            signed_in: Callable[[str], TestClient]) -> None:
    sam, mona = signed_in("sam"), signed_in("mona")
    html = sam.get(f"/cases/{world.case_id}").text
    assert f'action="/cases/{world.case_id}/referral"' not in html  # an open case is not referred yet
    assert sam.post(f"/cases/{world.case_id}/referral", data={"authority": "police"}).status_code == 409
    _confirm(sam, world.case_id)
    html = sam.get(f"/cases/{world.case_id}").text
    assert f'action="/cases/{world.case_id}/referral"' in html
    assert f'action="/cases/{world.case_id}/evidence"' in html
    first_option = html.split('name="authority">')[1].split("</option>")[0]
    assert 'value="telecom"' in first_option and "建议" in first_option  # a domestic seller: close it
    mona_html = mona.get(f"/cases/{world.case_id}").text
    assert "/referral\"" not in mona_html and "/evidence\"" not in mona_html  # no supervisor's forms
    assert f'hx-post="/cases/{world.case_id}/recheck"' in mona_html  # anyone may re-check

    response = sam.post(f"/cases/{world.case_id}/referral", data={"authority": "trademark"}, follow_redirects=False)
    assert response.status_code == 303
    referral_id = int(response.headers["location"].split("/referrals/")[1].split("?")[0])
    assert response.headers["location"] == f"/referrals/{referral_id}?done=created"
    page = sam.get(response.headers["location"]).text
    assert f'<iframe sandbox src="/referrals/{referral_id}/letter"' in page  # the draft's letter, previewed
    assert sam.post(f"/cases/{world.case_id}/referral", data={"authority": "nobody"}).status_code == 409
    twin = sam.post(f"/api/cases/{world.case_id}/referral", json={})
    assert twin.status_code == 201
    assert (twin.json()["data"]["authority"], twin.json()["data"]["status"]) == ("telecom", "draft")
    whole = sam.post(f"/api/cases/{world.case_id}/referral", json={"authority": "police", "network": True})
    assert whole.status_code == 201 and whole.json()["data"]["network_id"] == world.network_id
    assert f'href="/referrals/{referral_id}"' in sam.get(f"/cases/{world.case_id}").text  # listed on the case
    with world.sessions() as session:
        made = session.scalars(select(Referral).where(Referral.case_id == world.case_id).order_by(Referral.id)).all()
        assert [(r.authority, r.created_by) for r in made] == [("trademark", "sam"), ("telecom", "sam"),
                                                                ("police", "sam")]
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "referral_created")).all()
        assert [e.actor for e in events] == ["sam"] * 3


def test_every_new_post_needs_the_csrf_token(world: World, signed_in: Callable[[str], TestClient]) -> None:
    sam = signed_in("sam")
    del sam.headers["X-CSRF-Token"]
    for path in (f"/cases/{world.case_id}/referral", f"/cases/{world.case_id}/evidence",
                 f"/cases/{world.case_id}/recheck", "/tips/1/check"):
        response = sam.post(path, data={"authority": "police"}, follow_redirects=False)
        assert response.status_code == 403, path
        assert "did not come from this site" in response.text or "来自本站" in response.text


def test_a_monitors_api_token_cannot_refer_or_export(world: World, api_client: Callable[[str], TestClient]) -> None:
    mona = api_client("mona")
    assert mona.post(f"/api/cases/{world.case_id}/referral", json={}).status_code == 403
    assert mona.post(f"/api/cases/{world.case_id}/evidence").status_code == 403
    sam = api_client("sam")
    # No CSRF token with a bearer token; this test app has no pharmwatch command to export with.
    assert sam.post(f"/api/cases/{world.case_id}/evidence").json() == {
        "ok": False, "error": "evidence export needs the pharmwatch command: start the UI with `pharmwatch serve`"}


def test_before_any_check_a_tip_offers_check_now_and_a_case_its_last_recheck(
        world: World, signed_in: Callable[[str], TestClient]) -> None:
    mona = signed_in("mona")
    tip = mona.post("/api/tips", json={"url": "http://unchecked.example.com/"}).json()["data"]
    state = mona.get(f"/api/tips/{tip['id']}/check").json()["data"]
    assert state["job"] is None and state["result"]["status"] == "pending" and not state["result"]["flagged"]
    fragment = mona.get(f"/tips/{tip['id']}/check").text
    assert "<html" not in fragment and 'id="check-' in fragment  # a fragment, not a page
    assert f'hx-post="/tips/{tip["id"]}/check"' in fragment and "hx-trigger" not in fragment  # nothing to poll
    assert mona.get("/api/tips/999/check").status_code == 404
    recheck = mona.get(f"/api/cases/{world.case_id}/recheck").json()["data"]
    assert recheck == {"job": None, "last_recheck": None}
    assert mona.post("/api/cases/999/recheck").status_code == 404


def test_a_checked_tip_is_not_checked_again_and_htmx_is_told_why(world: World,
                                                                  signed_in: Callable[[str], TestClient]) -> None:
    mona = signed_in("mona")
    tip = mona.post("/api/tips", json={"url": "http://checked.example.com/"}).json()["data"]
    with world.sessions() as session:
        session.get_one(Tip, tip["id"]).status = "scanned"
        session.commit()
    assert mona.post(f"/api/tips/{tip['id']}/check").status_code == 409
    fragment = mona.post(f"/tips/{tip['id']}/check", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "已核查过" in fragment.text  # swapped in (in zh-CN), not dropped
    assert "hx-post" not in fragment.text  # no button for a checked tip
