"""The case actions and background checks end to end: a data folder scanned by the real `pharmwatch` from the
demo web, the UI served on a loopback port with the real CLI as its child command, driven in Chromium.

A supervisor confirms a case, blacklists the site, refers it, previews the draft's letter (sandboxed) and
downloads the evidence package, which `pharmwatch evidence verify` accepts (exit 0); a monitor pastes a tip,
checks it now and sees the result appear; clicking twice starts one crawl, and the JSON twin says so.
Screenshots of the pages are saved in the test's tmp folder."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from storage import db
from storage.models import AuditEvent, Case, Tip
from tests.conftest import cli_env, run_cli
from tests.databases import database_url
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, served
from tests.web.world import PASSWORD
from web import auth
from web.app import WebConfig, create_app

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
FLAGGED_SITE = "http://tangan-cure.test/"  # the demo's diabetes-cure seller
TIP_SITE = "http://xueya-wen.test/"  # the demo's hypertension-cure seller


@dataclass
class Office:
    """A data folder with users of each role and a signing key; `pharmwatch` runs against it."""

    home: Path
    config: Path
    proxy: str

    def pharmwatch(self, *args: str, proxy: bool = True):  # type: ignore[no-untyped-def]
        return run_cli(*args, home=self.home, proxy=self.proxy if proxy else None, config=self.config)

    @property
    def cli(self) -> tuple[str, ...]:
        return (sys.executable, "-m", "pharmwatch", "--config", str(self.config))

    def sessions(self):  # type: ignore[no-untyped-def]
        return db.session_factory(db.make_engine(database_url(self.home)))

    def app(self):  # type: ignore[no-untyped-def]
        config = WebConfig(blob_dir=self.home / "blobs", home=self.home, cli=self.cli)
        return create_app(config, db.make_engine(database_url(self.home)))


@pytest.fixture
def office(tmp_path: Path, demo_web: str, monkeypatch: pytest.MonkeyPatch) -> Office:
    config = tmp_path / "pharmwatch.toml"
    config.write_text('[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\nmax_depth = 0\n',
                      encoding="utf-8")
    home = tmp_path / "home"
    # The server's children (checks, exports) inherit this process's environment: the data folder and the proxy.
    for name, value in cli_env(home, demo_web).items():
        if name.startswith("PHARMWATCH_"):
            monkeypatch.setenv(name, value)
    office = Office(home, config, demo_web)
    assert office.pharmwatch("db", "upgrade").returncode == 0
    assert office.pharmwatch("keys", "init").returncode == 0
    with db.transaction(office.sessions()) as session:
        for name, role in {"mona": "monitor", "sam": "supervisor"}.items():
            auth.add_user(session, name, role, PASSWORD, actor="test")
    return office


@contextmanager
def chromium_page() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                          accept_downloads=True)
            page = context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            yield page
            assert dialogs == []
        finally:
            browser.close()


def scanned_case(office: Office) -> int:
    """Scan the flagged demo site; the id of the one case it opens."""
    scanned = office.pharmwatch("scan", "--no-search", "--site", FLAGGED_SITE)
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    with office.sessions()() as session:
        return session.scalars(select(Case.id)).one()


def sign_in(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def review_and_confirm(page, base: str, case_id: int) -> None:  # type: ignore[no-untyped-def]
    """Open the case, take it for review and confirm it, as a monitor or supervisor does in the browser."""
    page.goto(f"{base}/cases/{case_id}")
    page.click("button.review")
    page.wait_for_url(f"**/cases/{case_id}?done=review")
    page.click("button.confirm")
    page.wait_for_url(f"**/cases/{case_id}?done=confirm")


needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")


@pytest.mark.browser
@needs_chromium
def test_a_supervisor_refers_a_case_and_downloads_evidence_that_verifies(office: Office, tmp_path: Path) -> None:
    case_id = scanned_case(office)
    with served(office.app()) as base, chromium_page() as page:
        sign_in(page, base, "sam")
        review_and_confirm(page, base, case_id)

        page.goto(f"{base}/blacklist")
        page.select_option("select[name=kind]", "site")
        page.fill("input[name=value]", "tangan-cure.test")
        page.fill("input[name=reason]", "宣称根治糖尿病")
        page.fill("input[name=case_id]", str(case_id))
        page.click("form[method=post][action='/blacklist'] button[type=submit]")
        page.wait_for_url("**/blacklist?done=added")
        assert page.locator("td", has_text="tangan-cure.test").count() >= 1

        # Refer: the suggested authority comes first; the draft's letter is previewed sandboxed.
        page.goto(f"{base}/cases/{case_id}")
        options = page.locator("form.refer select[name=authority] option").all_inner_texts()
        assert "建议" in options[0]
        page.select_option("form.refer select[name=authority]", "telecom")
        page.screenshot(path=str(tmp_path / "case-actions.png"), full_page=True)
        page.click("button.refer")
        page.wait_for_url("**/referrals/*?done=created")
        letter = page.frame_locator("iframe[sandbox]")
        letter.locator("text=tangan-cure.test").first.wait_for(timeout=10_000)
        assert "通信管理部门" in page.locator("section.card dl").inner_text()
        page.screenshot(path=str(tmp_path / "referral-draft.png"), full_page=True)

        # Re-check now: the case page polls the job's state until the crawl has finished, then shows the outcome.
        page.goto(f"{base}/cases/{case_id}")
        page.click("button.recheck")
        page.wait_for_selector("#recheck[data-state=running]", timeout=10_000)
        page.wait_for_selector("#recheck[data-state=finished]", timeout=120_000)
        assert page.locator("#recheck strong.outcome").inner_text() == "违规仍在"
        page.screenshot(path=str(tmp_path / "case-rechecked.png"), full_page=True)

        # The evidence package, made by `pharmwatch evidence export` in a child process, downloaded.
        started = time.monotonic()
        with page.expect_download(timeout=180_000) as download_info:
            # The click waits for the answer, and the export runs inside it (minutes on a loaded machine).
            page.click("button.export", timeout=180_000)
        package = tmp_path / download_info.value.suggested_filename
        assert package.name == f"pharmwatch-case-{case_id}.wacz"
        download_info.value.save_as(package)
        print(f"evidence package {package.stat().st_size} bytes in {time.monotonic() - started:.1f} s")

    fingerprint = office.pharmwatch("keys", "show", proxy=False).stdout.strip()
    verified = office.pharmwatch("evidence", "verify", str(package), "--fingerprint", fingerprint, proxy=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with office.sessions()() as session:
        exported = session.scalars(select(AuditEvent).where(AuditEvent.action == "exported")).one()
        assert (exported.actor, exported.subject) == ("sam", f"case:{case_id}")
        referred = session.scalars(select(AuditEvent).where(AuditEvent.action == "referral_created")).one()
        assert referred.actor == "sam" and referred.details["authority"] == "telecom"


@pytest.mark.browser
@needs_chromium
def test_a_monitor_pastes_a_tip_checks_it_now_and_sees_the_result(office: Office, tmp_path: Path) -> None:
    with served(office.app()) as base, chromium_page() as page:
        sign_in(page, base, "mona")
        page.goto(f"{base}/tips")
        page.fill("input[name=url]", " xueya-wen.test ")  # pasted as it came: no scheme, spaces
        page.click("button.check-now[value=now]")
        page.wait_for_url(f"{base}/tips?done=added")
        state = page.locator("#tip-1 .job-state")
        assert state.get_attribute("data-state") in ("running", "finished")
        page.screenshot(path=str(tmp_path / "tip-checking.png"), full_page=True)
        # htmx polls the fragment until the child process has finished, then shows the result.
        page.wait_for_selector("#tip-1 .job-state[data-state=finished]", timeout=120_000)
        verdict = page.locator("#tip-1 .verdict").inner_text()
        assert "已标记违规" in verdict and "HTTP 200" in verdict
        assert page.locator("#tip-1 ul.findings li").count() >= 1
        page.screenshot(path=str(tmp_path / "tip-checked.png"), full_page=True)
        page.click("#tip-1 .verdict a")  # the case the check opened
        page.wait_for_url("**/cases/*")
    with office.sessions()() as session:
        tip = session.get_one(Tip, 1)
        assert tip.status == "scanned" and tip.url == TIP_SITE


def test_check_now_twice_starts_one_crawl_and_the_json_twin_tells_its_state(office: Office) -> None:
    with TestClient(office.app()) as client:
        client.cookies.set("pw_session", _session(office, "mona"))
        client.headers["X-CSRF-Token"] = auth.csrf_token(client.cookies["pw_session"])
        added = client.post("/api/tips", json={"url": TIP_SITE}).json()["data"]
        first = client.post(f"/api/tips/{added['id']}/check")
        second = client.post(f"/api/tips/{added['id']}/check")
        assert (first.status_code, second.status_code) == (202, 200)  # started, then joined
        assert first.json()["data"]["job"]["id"] == second.json()["data"]["job"]["id"]
        assert second.json()["data"]["job"]["state"] == "running"
        # Another tip of the same page (another source) joins the same crawl too.
        other = client.post("/api/tips", json={"url": TIP_SITE, "source": "12315"}).json()["data"]
        assert client.post(f"/api/tips/{other['id']}/check").json()["data"]["job"]["id"] == \
            first.json()["data"]["job"]["id"]
        jobs = client.app.state.jobs  # type: ignore[attr-defined]
        jobs.wait(timeout=180)
        status = client.get(f"/api/tips/{added['id']}/check").json()["data"]
        assert status["job"]["state"] == "finished", status["job"]
        assert status["result"]["flagged"] and status["result"]["status"] == "scanned"
        assert "pw-zh-hypertension-cure-001" in {f["rule_id"] for f in status["result"]["findings"]}
        # Re-check the case the check opened, in the background too (the page is still violating).
        case_id = status["result"]["case_id"]
        assert client.post(f"/api/cases/{case_id}/recheck").status_code == 202
        jobs.wait(timeout=180)
        recheck = client.get(f"/api/cases/{case_id}/recheck").json()["data"]
        assert recheck["job"]["state"] == "finished", recheck["job"]
        assert recheck["last_recheck"]["outcome"] == "still_present"
        assert 'hx-trigger' not in client.get(f"/cases/{case_id}/recheck").text  # finished: polling stops
    with office.sessions()() as session:
        assert {tip.status for tip in session.scalars(select(Tip))} == {"scanned"}  # both tips of the page
        events = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.actor == "mona"))]
    assert events.count("tip_check_started") == 1 and events.count("case_recheck_started") == 1  # one each
    assert {"tip_submitted", "tip_scanned", "case_recheck"} <= set(events), events


def _session(office: Office, name: str) -> str:
    with db.transaction(office.sessions()) as session:
        user = session.scalar(select(auth.UserAccount).where(auth.UserAccount.name == name))
        return auth.start_session(session, user, hours=1)


def test_a_job_that_fails_says_why(office: Office) -> None:
    jobs = office.app().state.jobs
    job, started = jobs.start("tip_check", "url:nowhere", 999, ["tip", "check", "999"], started_by="mona")
    assert started
    jobs.wait(timeout=120)
    assert job.state == "failed" and job.returncode == 2
    assert "no tip 999" in job.failure() and job.to_json()["error"] == job.failure()
