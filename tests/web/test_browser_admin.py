"""The admin pages in real Chromium against a live server: an admin reads the rule packs (lint and model state),
imports a registry file, first refused for its bad row (shown by line, its hostile cell as text), then with the
good rows only, and pauses a scheduled job; a monitor gets 403 on these pages and sees no link to them.
Screenshots in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from pharmwatch.config import load_settings
from pharmwatch.schedule_desk import SettingsScheduleDesk
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, served
from tests.web.test_browser_cases import sign_in
from tests.web.world import HOSTILE_TEXT, World
from web.app import WebConfig, create_app

REGISTRY_CSV = f"number,product_name\n国药准字H20051234,降糖胶囊\n{HOSTILE_TEXT},x\n".encode()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_an_admin_reads_rule_packs_and_imports_a_registry_and_a_monitor_is_refused(
        world: World, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    office = load_settings(environ={"PHARMWATCH_HOME": str(tmp_path / "home")})
    app = create_app(WebConfig(blob_dir=world.blob_dir, schedules=SettingsScheduleDesk(office)),
                     world.sessions.kw["bind"])
    with served(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            admin = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
            admin.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            sign_in(admin, base, "ada")

            admin.click("nav a[href='/rules']")
            admin.wait_for_url(f"{base}/rules")
            assert admin.locator("h1").inner_text() == "规则包"
            assert "没有问题" in admin.locator("#lint").inner_text()
            assert "一致" in admin.locator("#model").inner_text()  # the model was trained on this corpus
            assert admin.locator("section.pack").count() >= 10
            admin.screenshot(path=str(tmp_path / "rules.png"), full_page=True)

            admin.click("nav a[href='/registries']")
            admin.wait_for_url(f"{base}/registries")
            form = admin.locator("form[action='/registries/drug_approval/import']")
            form.locator("input[type=file]").set_input_files(
                {"name": "批准文号.csv", "mimeType": "text/csv", "buffer": REGISTRY_CSV})
            form.locator("button[type=submit]").click()
            admin.wait_for_load_state()
            report = admin.locator("#import-report")
            assert "未导入任何数据" in report.inner_text() and "批准文号.csv" in report.inner_text()
            assert admin.locator("table.rejects td").first.inner_text() == "3"  # the bad row's line
            assert "<script>alert(1)</script>" in admin.locator("table.rejects").inner_text()  # shown as text
            admin.screenshot(path=str(tmp_path / "registry-refused.png"), full_page=True)

            form = admin.locator("form[action='/registries/drug_approval/import']")
            form.locator("input[type=file]").set_input_files(
                {"name": "批准文号.csv", "mimeType": "text/csv", "buffer": REGISTRY_CSV})
            form.locator("input[name=skip_bad]").check()
            form.locator("button[type=submit]").click()
            admin.wait_for_load_state()
            assert "已导入" in admin.locator("#import-report").inner_text()
            row = admin.locator("#registries tr", has_text="drug_approval")
            assert row.locator("td").nth(1).inner_text() == "1"
            admin.screenshot(path=str(tmp_path / "registry-imported.png"), full_page=True)

            admin.click("nav a[href='/schedules']")
            admin.wait_for_url(f"{base}/schedules")
            admin.locator("form[action='/schedules/digest/pause'] button").click()
            admin.wait_for_url(f"{base}/schedules?done=paused")
            assert "已暂停" in admin.locator("#jobs tr", has_text="digest").inner_text()
            admin.screenshot(path=str(tmp_path / "schedules.png"), full_page=True)

            monitor = browser.new_context(locale="zh-CN").new_page()
            sign_in(monitor, base, "mona")
            assert monitor.locator("nav a[href='/rules'], nav a[href='/registries']").count() == 0
            for path in ("/rules", "/registries", "/schedules"):
                response = monitor.goto(f"{base}{path}")
                assert response is not None and response.status == 403, path
                assert monitor.locator("p.alert").inner_text() == "您的角色无权进行此操作。"
            monitor.screenshot(path=str(tmp_path / "monitor-refused.png"), full_page=True)
        finally:
            browser.close()
    assert dialogs == []
