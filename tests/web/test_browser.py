"""The web UI in real Chromium against a live uvicorn server on a loopback port: a monitor signs in, sees the
day's list, opens a hostile site's case (no script of it runs: no dialog) and confirms another case.
Screenshots of the main pages are saved in the test's tmp folder."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from tests.web.world import PASSWORD, World
from web.app import WebConfig, create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@contextmanager
def served(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """`app` served by uvicorn on a free loopback port, in a thread, for as long as the block runs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def live_server(world: World) -> Iterator[str]:
    with served(create_app(WebConfig(blob_dir=world.blob_dir), world.sessions.kw["bind"])) as url:
        yield url


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_a_monitor_reviews_and_confirms_a_case_in_chromium(world: World, live_server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            leaks: list[str] = []  # requests that reached anywhere but our server
            blocked: list[str] = []  # requests the captured page tried, stopped by its CSP before leaving
            page.on("requestfailed", lambda r: (blocked if r.failure == "csp" else leaks).append(r.url))
            page.on("requestfinished", lambda r: leaks.append(r.url) if not r.url.startswith(live_server) else None)

            page.goto(f"{live_server}/daily?date={world.day}")
            assert "/login" in page.url
            page.screenshot(path=str(tmp_path / "login.png"))
            page.fill("input[name=name]", "mona")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"**/daily?date={world.day}")
            assert page.locator("td.site", has_text="tangan-cure.test").count() == 1
            assert page.locator("td.site", has_text="evil.test").count() == 1
            page.screenshot(path=str(tmp_path / "daily.png"), full_page=True)

            # The hostile site's case: its title and excerpt are text, its page is framed sandboxed.
            page.click(f"a[href='/cases/{world.hostile_case_id}']")
            page.wait_for_url(f"**/cases/{world.hostile_case_id}")
            page.click("details summary")
            frame = page.frame_locator("iframe[sandbox]")
            frame.locator("text=三个疗程根治糖尿病").wait_for(timeout=10_000)
            page.wait_for_timeout(500)
            assert "<script>alert(1)</script>" in page.locator("article.finding strong").first.inner_text()
            page.screenshot(path=str(tmp_path / "case-hostile.png"), full_page=True)

            # The plain case: review, then confirm (each a POST form with the CSRF token).
            page.goto(f"{live_server}/cases/{world.case_id}")
            page.click("button.review")
            page.wait_for_url(f"**/cases/{world.case_id}?done=review")
            page.click("button.confirm")
            page.wait_for_url(f"**/cases/{world.case_id}?done=confirm")
            assert page.locator("dd.status").inner_text() == "已确认"
            page.screenshot(path=str(tmp_path / "case-confirmed.png"), full_page=True)

            # The operator network of both sites: its graph drawn on the server, the hostile QR target as text.
            page.goto(f"{live_server}/networks/{world.network_id}")
            assert page.locator("svg.network rect").count() == 2  # the two sites
            labels = page.locator("svg.network text").all_text_contents()
            assert any("javascript:<script>alert(1)</script>" in label for label in labels)
            page.screenshot(path=str(tmp_path / "network.png"), full_page=True)
            page.goto(f"{live_server}/dashboard?from={world.day}&to={world.day}")
            assert page.locator("svg.chart").count() >= 2
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

            page.goto(f"{live_server}/lang/en?next=/cases")
            assert page.locator("h1").inner_text() == "Cases"
            page.screenshot(path=str(tmp_path / "cases-en.png"), full_page=True)
        finally:
            browser.close()
    assert dialogs == []  # no script of the captured page or of a crawled text ran
    assert leaks == []  # the captured page loaded nothing from its seller's servers (or anywhere else)
    assert "http://tracker.test/pixel.png" in blocked
    with world.sessions() as session:
        from storage.models import Case

        assert session.get_one(Case, world.case_id).status == "confirmed"
