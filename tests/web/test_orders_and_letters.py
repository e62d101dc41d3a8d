"""A supervisor's paperwork from the UI without a crawl: a correction order (责令改正) made from the case page
(form and JSON twin, the CLI's `create_order` rules, audited), the referral letter written as PDF (audited,
a download), a referral travelling with an evidence package the case exported before (chosen by its SHA-256,
never by a path), and the case list in pages. Exporting a new package needs the real CLI:
tests/web/test_browser_orders.py."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from storage import db
from storage.audit import record_event
from storage.models import AuditEvent, Case, CorrectionOrder, Referral, Site, utcnow
from tests.web.world import HOSTILE, World
from web import auth
from web.app import WebConfig, create_app


def _confirm(client: TestClient, case_id: int) -> None:
    for step in ("review", "confirm"):
        assert client.post(f"/cases/{case_id}/{step}", follow_redirects=False).status_code == 303


def test_a_supervisor_orders_a_correction_from_the_case_page(world: World,
                                                            signed_in: Callable[[str], TestClient]) -> None:
    sam, mona = signed_in("sam"), signed_in("mona")
    in_a_month = (date.today() + timedelta(days=30)).isoformat()
    assert f'action="/cases/{world.case_id}/order"' not in sam.get(f"/cases/{world.case_id}").text
    response = sam.post(f"/cases/{world.case_id}/order", data={"kind": "correct", "deadline": in_a_month})
    assert response.status_code == 409 and "only a confirmed case gets an order" in response.text
    _confirm(sam, world.case_id)
    html = sam.get(f"/cases/{world.case_id}").text
    assert f'action="/cases/{world.case_id}/order"' in html and 'type="date" name="deadline"' in html
    assert f'action="/cases/{world.case_id}/order"' not in mona.get(f"/cases/{world.case_id}").text

    response = sam.post(f"/cases/{world.case_id}/order", data={"kind": "correct", "deadline": in_a_month},
                        follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{world.case_id}?done=order#orders"
    page = sam.get(response.headers["location"]).text
    assert f"{in_a_month}" in page and 'id="orders"' in page  # listed on the case
    # The CLI's rules, its words: a past deadline, a suspension without its product, an unknown kind.
    for form, why in (({"kind": "correct", "deadline": "2020-01-01"}, "is not after today"),
                      ({"kind": "suspend_sales", "deadline": in_a_month}, "names its product"),
                      ({"kind": "close_down", "deadline": in_a_month}, "unknown order kind"),
                      ({"kind": "correct", "deadline": "next week"}, "expected a day, YYYY-MM-DD")):
        response = sam.post(f"/cases/{world.case_id}/order", data=form)
        assert response.status_code in (400, 409) and why in response.text, form
    twin = sam.post(f"/api/cases/{world.case_id}/order",
                    json={"kind": "suspend_sales", "deadline": in_a_month, "product": HOSTILE[0]})
    assert twin.status_code == 201
    assert twin.json()["data"] | {"id": 0} == {"id": 0, "case_id": world.case_id, "kind": "suspend_sales",
                                                 "product": HOSTILE[0], "deadline": in_a_month, "status": "open",
                                                 "resolution": None}
    html = sam.get(f"/cases/{world.case_id}").text
    assert HOSTILE[0] not in html and "&lt;script&gt;" in html  # a typed product is escaped like crawled text
    listed = sam.get("/api/orders").json()["data"]["orders"]
    assert [(o["kind"], o["state"]) for o in listed] == [("suspend_sales", "open"), ("correct", "open")]
    with world.sessions() as session:
        orders = session.scalars(select(CorrectionOrder).order_by(CorrectionOrder.id)).all()
        assert [(o.kind, o.created_by) for o in orders] == [("correct", "sam"), ("suspend_sales", "sam")]
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "order_created")).all()
        assert [(e.actor, e.subject) for e in events] == [("sam", f"case:{world.case_id}")] * 2


def test_the_letter_is_written_as_pdf_for_supervisors_and_audited(world: World,
                                                                 signed_in: Callable[[str], TestClient],
                                                                 api_client: Callable[[str], TestClient]) -> None:
    sam, mona = signed_in("sam"), signed_in("mona")
    page = sam.get(f"/referrals/{world.referral_id}").text
    assert f'action="/referrals/{world.referral_id}/letter.pdf"' in page
    assert f'action="/referrals/{world.referral_id}/letter.pdf"' not in mona.get(f"/referrals/{world.referral_id}").text
    response = sam.post(f"/referrals/{world.referral_id}/letter.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="pharmwatch-referral-{world.referral_id}.pdf"')
    assert mona.post(f"/referrals/{world.referral_id}/letter.pdf").status_code == 403
    assert api_client("mona").post(f"/api/referrals/{world.referral_id}/letter.pdf").status_code == 403
    by_token = api_client("sam").post(f"/api/referrals/{world.referral_id}/letter.pdf")
    assert by_token.status_code == 200 and by_token.content.startswith(b"%PDF-")
    assert sam.post("/api/referrals/999/letter.pdf").json() == {"ok": False, "error": "no referral 999"}
    with world.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "referral_letter_written")).all()
        assert [(e.actor, e.subject, e.details["referral"]) for e in events] == [
            ("sam", f"case:{world.hostile_case_id}", world.referral_id)] * 2
        assert events[0].details["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_a_referral_travels_with_a_package_the_case_exported(world: World, tmp_path: Path,
                                                            signed_in: Callable[[str], TestClient],
                                                            api_client: Callable[[str], TestClient]) -> None:
    sam = signed_in("sam")
    _confirm(sam, world.case_id)
    package = tmp_path / "case.wacz"
    package.write_bytes(b"a signed package, as far as this test goes")
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    gone = tmp_path / "deleted.wacz"
    with db.transaction(world.sessions) as session:  # what `pharmwatch evidence export --case` records
        for path in (package, gone):
            record_event(session, actor="sam", action="exported", subject=f"case:{world.case_id}",
                         details={"file": str(path), "sha256": digest if path == package else "f" * 64})
    html = sam.get(f"/cases/{world.case_id}").text
    assert f'<option value="{digest}">case.wacz' in html and "f" * 64 not in html  # a file still there only
    assert sam.get(f"/api/cases/{world.case_id}/packages").json()["data"][0]["sha256"] == digest
    mona = api_client("mona")
    assert mona.get(f"/api/cases/{world.case_id}/packages").status_code == 403
    # A path or an unknown digest is no choice; a new export needs the pharmwatch command (not in this app).
    for choice, status in ((str(package), 400), ("../case.wacz", 409), ("0" * 64, 409), ("new", 503)):
        response = sam.post(f"/cases/{world.case_id}/referral", data={"authority": "police", "package": choice})
        assert response.status_code == status, choice
    response = sam.post(f"/cases/{world.case_id}/referral", data={"authority": "police", "package": digest},
                        follow_redirects=False)
    assert response.status_code == 303
    page = sam.get(response.headers["location"]).text
    assert f"sha256 {digest}" in page
    twin = sam.post(f"/api/cases/{world.case_id}/referral", json={"package": digest})
    assert twin.status_code == 201 and twin.json()["data"]["package_sha256"] == digest
    with world.sessions() as session:
        assert set(session.scalars(select(Referral.package_sha256).where(Referral.case_id == world.case_id))) == {
            digest}

    # A draft made without one gets its case's package on the referral page (as `referral attach`).
    hostile = tmp_path / "hostile.wacz"
    hostile.write_bytes(b"the hostile case's package")
    hostile_digest = hashlib.sha256(hostile.read_bytes()).hexdigest()
    with db.transaction(world.sessions) as session:
        record_event(session, actor="sam", action="exported", subject=f"case:{world.hostile_case_id}",
                     details={"file": str(hostile), "sha256": hostile_digest})
    page = sam.get(f"/referrals/{world.referral_id}").text
    assert f'action="/referrals/{world.referral_id}/package"' in page and f'value="{hostile_digest}"' in page
    assert f'value="{digest}"' not in page  # another case's package is no choice
    assert sam.post(f"/referrals/{world.referral_id}/package", data={"package": digest}).status_code == 409
    response = sam.post(f"/referrals/{world.referral_id}/package", data={"package": hostile_digest},
                        follow_redirects=False)
    assert response.headers["location"] == f"/referrals/{world.referral_id}?done=package"
    assert f"sha256 {hostile_digest}" in sam.get(f"/referrals/{world.referral_id}").text
    assert mona.post(f"/api/referrals/{world.referral_id}/package", json={"package": hostile_digest}).status_code == 403
    assert sam.post(f"/referrals/{world.referral_id}/status", data={"status": "sent"}).status_code == 200
    refused = sam.post(f"/api/referrals/{world.referral_id}/package", json={"package": hostile_digest})
    assert refused.status_code == 409 and "while it is a draft" in refused.json()["error"]
    with world.sessions() as session:
        attached = session.scalars(select(AuditEvent).where(AuditEvent.action == "referral_package_attached")).one()
        assert (attached.actor, attached.details["package_sha256"]) == ("sam", hostile_digest)


def test_the_case_list_comes_in_pages(world: World, signed_in: Callable[[str], TestClient]) -> None:
    with db.transaction(world.sessions) as session:
        for n in range(120):
            site = Site(domain=f"seller-{n}.test", first_seen=utcnow())
            session.add(site)
            session.flush()
            session.add(Case(site_id=site.id, status="open", risk="high", categories=[]))
    sam = signed_in("sam")
    first = sam.get("/api/cases").json()["data"]
    assert (first["total"], first["page"], first["pages"], len(first["cases"])) == (122, 1, 3, 50)
    assert first["cases"][0]["site"] == "seller-119.test"  # newest first
    last = sam.get("/api/cases?page_no=3").json()["data"]
    assert len(last["cases"]) == 22 and {c["site"] for c in last["cases"]} >= {"evil.test", "tangan-cure.test"}
    assert sam.get("/api/cases?page_no=99").json()["data"]["page"] == 3  # past the end: the last page
    filtered = sam.get("/api/cases?status=open&assignee=nobody").json()["data"]
    assert (filtered["total"], filtered["pages"], filtered["cases"]) == (0, 1, [])
    html = sam.get("/cases?status=open&page_no=2").text
    assert "seller-69.test" in html and "seller-70.test" not in html
    assert 'href="/cases?status=open&amp;assignee=&amp;page_no=3"' in html


def test_a_supervisor_starts_the_check_of_overdue_orders_in_the_background(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    home = world.blob_dir.parent
    monkeypatch.setenv("PHARMWATCH_HOME", str(home))  # the child `pharmwatch order check-due` works on this folder
    app = create_app(WebConfig(blob_dir=world.blob_dir, home=home, cli=(sys.executable, "-m", "pharmwatch")),
                     world.sessions.kw["bind"])
    with TestClient(app) as sam:
        sam.cookies.set("pw_session", _session(world, "sam"))
        sam.headers["X-CSRF-Token"] = auth.csrf_token(sam.cookies["pw_session"])
        assert 'action="/orders/check-due"' in sam.get("/orders").text
        started = sam.post("/api/orders/check-due")
        assert started.status_code in (200, 202) and started.json()["data"]["kind"] == "order_check_due"
        app.state.jobs.wait(timeout=120)
        job = sam.get("/api/orders").json()["data"]["check_due"]
        assert (job["state"], job["started_by"], job["error"]) == ("finished", "sam", None)
        assert 'data-state="finished"' in sam.get("/orders").text
    with world.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "orders_check_due_started")).all()
        assert [e.actor for e in events] == ["sam"]


def _session(world: World, name: str) -> str:
    with db.transaction(world.sessions) as session:
        user = session.scalar(select(auth.UserAccount).where(auth.UserAccount.name == name))
        return auth.start_session(session, user, hours=1)
