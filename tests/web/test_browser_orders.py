"""A supervisor's paperwork in Chromium against a live server with the real CLI as its child command (the
office of tests/web/test_browser_cases.py, scanned from the demo web): confirm a case, refer it with a newly
exported evidence package (kept in the data folder, verified by `pharmwatch evidence verify`), write the
letter PDF (a download), order a correction with a deadline, and import a tip file with a bad row.
Screenshots of the pages are saved in the test's tmp folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import AuditEvent, CorrectionOrder, Referral, Tip
from tests.web.test_browser import served
from tests.web.test_browser_cases import (
    Office,
    chromium_page,
    needs_chromium,
    office,
    review_and_confirm,
    scanned_case,
    sign_in,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
__all__ = ["office"]  # the fixture, shared with test_browser_cases


@pytest.mark.browser
@needs_chromium
def test_a_supervisor_refers_with_a_package_writes_the_letter_pdf_and_orders_a_correction(
        office: Office, tmp_path: Path) -> None:
    case_id = scanned_case(office)
    with served(office.app()) as base, chromium_page() as page:
        sign_in(page, base, "sam")
        review_and_confirm(page, base, case_id)

        # Refer with a package exported now (by `pharmwatch evidence export` in a child process, kept).
        page.select_option("form.refer select[name=authority]", "police")
        page.select_option("form.refer select[name=package]", "new")
        page.click("button.refer", timeout=180_000)  # the click waits for the answer: the export is in it
        page.wait_for_url("**/referrals/*?done=created", timeout=180_000)
        referral_id = int(page.url.split("/referrals/")[1].split("?")[0])
        assert "sha256 " in page.locator("section.card dl").inner_text()
        page.screenshot(path=str(tmp_path / "referral-with-package.png"), full_page=True)

        # The letter as PDF: a download, as `pharmwatch referral letter -o letter.pdf` writes it.
        with page.expect_download(timeout=60_000) as download_info:
            page.click("button.letter-pdf")
        letter = tmp_path / download_info.value.suggested_filename
        download_info.value.save_as(letter)
        assert letter.name == f"pharmwatch-referral-{referral_id}.pdf"
        assert letter.read_bytes().startswith(b"%PDF-")

        # A correction order from the case page: the deadline proposed is after today; the page lists it.
        page.goto(f"{base}/cases/{case_id}")
        deadline = page.locator("form.order input[name=deadline]").input_value()
        page.select_option("form.order select[name=kind]", "correct")
        page.click("button.order")
        page.wait_for_url(f"**/cases/{case_id}?done=order#orders")
        assert deadline in page.locator("section.orders").inner_text()
        page.screenshot(path=str(tmp_path / "case-order.png"), full_page=True)
        page.goto(f"{base}/orders")
        assert page.locator("table.list tbody tr").count() == 1
        page.screenshot(path=str(tmp_path / "orders.png"), full_page=True)

        # A tip file with a bad row: refused whole, the row named; then its good rows on request.
        tips = tmp_path / "hotline.csv"
        tips.write_text("url,source\nhttp://pill-shop.example.com/,12315\nhttp://127.0.0.1/,12315\n", encoding="utf-8")
        page.goto(f"{base}/tips")
        page.set_input_files("form.tip-import input[type=file]", str(tips))
        page.click("form.tip-import button[type=submit]")
        page.wait_for_url(f"{base}/tips/import")
        assert "hotline.csv:3: url:" in page.locator("pre.import-errors").inner_text()
        page.screenshot(path=str(tmp_path / "tip-import-refused.png"), full_page=True)
        page.go_back()
        page.set_input_files("form.tip-import input[type=file]", str(tips))
        page.check("form.tip-import input[name=skip_bad]")
        page.click("form.tip-import button[type=submit]")
        page.wait_for_url(f"{base}/tips/import")
        assert page.locator("table.rejected tbody tr").count() == 1

    with office.sessions()() as session:
        referral = session.get_one(Referral, referral_id)
        exported = session.scalars(select(AuditEvent).where(AuditEvent.action == "exported")).one()
        assert (exported.actor, referral.package_sha256) == ("sam", exported.details["sha256"])
        package = Path(exported.details["file"])
        assert package.parent == office.home / "exports"
        assert hashlib.sha256(package.read_bytes()).hexdigest() == referral.package_sha256
        written = session.scalars(select(AuditEvent).where(AuditEvent.action == "referral_letter_written")).one()
        assert written.details["sha256"] == hashlib.sha256(letter.read_bytes()).hexdigest()
        order = session.scalars(select(CorrectionOrder)).one()
        assert (order.case_id, order.kind, order.deadline.isoformat(), order.created_by) == (
            case_id, "correct", deadline, "sam")
        assert list(session.scalars(select(Tip.url))) == ["http://pill-shop.example.com/"]
    fingerprint = office.pharmwatch("keys", "show", proxy=False).stdout.strip()
    verified = office.pharmwatch("evidence", "verify", str(package), "--fingerprint", fingerprint, proxy=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
