"""The record pages and the account page in real Chromium against a live server: a supervisor signs in, reads
the audit log, the correction orders and the advertisers (crawled ad text shown as text: no script runs),
creates an API token on "my account", sees it once, and revokes it. Screenshots are saved in the test's
tmp folder (with `PHARMWATCH_SCREENSHOTS=DIR`, also there: how docs/screenshots/ was made)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from storage import db
from storage.audit import record_event
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: F401  (a fixture)
from tests.web.world import HOSTILE_TEXT, PASSWORD, World


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_a_supervisor_reads_the_records_and_manages_a_token(world: World, live_server: str,  # noqa: F811
                                                            tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with db.transaction(world.sessions) as session:
        record_event(session, actor="crawler", action="captured", subject="capture:2", details={"title": HOSTILE_TEXT})
    dialogs: list[str] = []
    errors: list[str] = []
    shots: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.on("console", lambda message: errors.append(message.text)
                    if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
            # Chromium asks for /favicon.ico on its own; anything else that fails is ours.
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

            def shot(name: str) -> None:
                shots.append(tmp_path / f"{name}.png")
                page.screenshot(path=str(shots[-1]), full_page=True)

            page.goto(f"{live_server}/login?next=/daily%3Fdate%3D{world.day}")
            page.fill("input[name=name]", "sam")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"**/daily?date={world.day}")
            shot("daily")

            page.click("nav a[href='/audit']")
            page.select_option("select[name=actor]", "crawler")  # app.js sends a filter form on change
            page.wait_for_url("**/audit?actor=crawler**")
            assert "<script>alert(1)</script>" in page.locator("table.list tbody td.url").first.inner_text()
            shot("audit")

            page.click("nav a[href='/orders']")
            assert page.locator("h1").inner_text() == "责令改正通知"
            shot("orders")
            page.click("nav a[href='/ads']")
            assert page.locator("td.site", has_text="某公司").count() == 1
            shot("ads")

            page.click("a[href='/account']")
            page.fill("input[name=name]", "月报脚本")
            page.click("form[action='/account/tokens'] button[type=submit]")
            token = page.locator("code.token").inner_text()
            assert token.startswith("pw_")
            shot("account-token")
            page.goto(f"{live_server}/account")
            assert page.locator("code.token").count() == 0 and token not in page.content()
            page.click("form[action$='/revoke'] button")
            page.wait_for_url("**/account?done=revoked")
            assert page.locator("td", has_text="月报脚本").count() == 0
        finally:
            browser.close()
    assert dialogs == [] and errors == []
    if target := os.environ.get("PHARMWATCH_SCREENSHOTS"):
        for path in shots:
            shutil.copy(path, Path(target) / path.name)
