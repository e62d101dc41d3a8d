"""Chromium capture (crawler/browser.py) with real Chromium and the demo web: the render wait ends once a
page has settled but never before its scripts' timers and fetches are done, the fast full-page PNG is
Playwright's full-page screenshot pixel for pixel, and Chromium is relaunched after its page budget
while every page of the crawl is still captured."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from playwright.async_api import Browser, async_playwright
from sqlalchemy import select

import crawler.settings as defaults
from crawler.browser import SETTLE_SCRIPT, full_page_png, settle
from crawler.run import CrawlTargets, crawl
from pharmwatch.config import Settings
from rules import load_ruleset
from storage.db import make_engine, session_factory, upgrade
from storage.models import Capture
from tests.reliability.test_browser_crash import chromium_browsers

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def _browser(demo_web: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**defaults.PLAYWRIGHT_LAUNCH_OPTIONS, proxy={"server": demo_web})
        try:
            yield browser
        finally:
            await browser.close()


def in_chromium(demo_web: str, body) -> object:  # type: ignore[no-untyped-def]
    """Run `body(page)` in a fresh context carrying our settle script, as a capture's context does."""
    async def run() -> object:
        async for browser in _browser(demo_web):
            context = await browser.new_context()
            await context.add_init_script(SETTLE_SCRIPT % {"budget_ms": 1500})
            return await body(await context.new_page())
        raise AssertionError("no browser")
    return asyncio.run(run())


def test_the_render_wait_lasts_until_a_catalogue_built_by_a_timer_and_a_fetch_is_in_the_page(demo_web: str) -> None:
    async def body(page) -> str:  # type: ignore[no-untyped-def]
        await page.goto("http://js-shop.test/")  # app.js: a 300 ms splash timer, then fetch, then render
        await settle(page, 10_000)
        return await page.content()

    html = in_chromium(demo_web, body)
    assert "降糖神丸" in html and 'data-sku="JT001"' in html


def _wait_for_what_a_script_adds_after_load(demo_web: str, markup: str, budget_ms: int) -> tuple[float, bool]:
    """Seconds `settle` waited after a script added `markup` to a loaded page, and whether the page's
    images (lazy ones aside) had all arrived by then."""
    async def body(page) -> tuple[float, bool]:  # type: ignore[no-untyped-def]
        await page.goto("http://kangjian-pharmacy.test/")
        await page.evaluate("(markup) => setTimeout(() => document.body.insertAdjacentHTML('beforeend', markup), 0)",
                            markup)
        started = time.monotonic()
        await settle(page, budget_ms)
        waited = time.monotonic() - started
        return waited, await page.evaluate(
            "[...document.images].filter((image) => image.loading !== 'lazy').every((image) => image.complete)")

    return in_chromium(demo_web, body)  # type: ignore[return-value]


def test_the_render_wait_lasts_while_an_image_added_after_load_is_still_arriving(demo_web: str) -> None:
    waited, complete = _wait_for_what_a_script_adds_after_load(
        demo_web, "<img src='http://hostile.test/slow' alt='slow picture'>", 1200)  # drips a byte a second
    assert waited >= 1.1 and not complete  # the whole budget: the picture never arrived


def test_the_render_wait_lasts_while_a_script_added_after_load_is_still_arriving(demo_web: str) -> None:
    waited, _ = _wait_for_what_a_script_adds_after_load(
        demo_web, "<script src='http://hostile.test/slow'></script>", 1200)
    assert waited >= 1.1


def test_the_render_wait_ends_soon_after_an_added_image_has_arrived(demo_web: str) -> None:
    waited, complete = _wait_for_what_a_script_adds_after_load(
        demo_web, "<img src='http://tangan-cure.test/img/product.png' alt='product'>"
                  "<img src='http://hostile.test/slow' loading='lazy' alt='below the fold, never loaded'>", 3000)
    assert complete and waited < 2.0  # the picture is in; the lazy one is not waited for


def test_a_page_that_keeps_polling_never_settles_and_gets_the_whole_budget(demo_web: str) -> None:
    async def body(page) -> float:  # type: ignore[no-untyped-def]
        await page.set_content("<p>x</p><script>(function poll(){ setTimeout(poll, 100); })()</script>")
        started = time.monotonic()
        await settle(page, 800)
        return time.monotonic() - started

    assert in_chromium(demo_web, body) >= 0.8  # type: ignore[operator]


def test_the_fast_full_page_png_is_playwrights_full_page_screenshot_pixel_for_pixel(demo_web: str) -> None:
    async def body(page) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
        await page.goto("http://kangjian-pharmacy.test/")
        await settle(page, 1500)
        return await full_page_png(page), await page.screenshot(full_page=True, type="png")

    ours, playwrights = in_chromium(demo_web, body)  # type: ignore[misc]
    ours_image, their_image = Image.open(io.BytesIO(ours)), Image.open(io.BytesIO(playwrights))
    assert ours_image.format == "PNG" and ours_image.size == their_image.size
    assert ours_image.size[1] > 720  # the whole page, not the viewport
    assert ImageChops.difference(ours_image.convert("RGB"), their_image.convert("RGB")).getbbox() is None


def test_chromium_is_relaunched_after_its_page_budget_and_every_page_is_still_captured(
        demo_web: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    settings.crawl.proxy = demo_web
    settings.crawl.allow_private = ["127.0.0.0/8"]
    settings.crawl.max_depth = 0
    settings.crawl.render_wait_ms = 300
    upgrade(settings.db_url)
    sites = ["kangjian-pharmacy.test", "tangan-cure.test", "xueya-wen.test", "js-shop.test", "tongfeng-ling.test"]
    overrides = {**settings.crawl_overrides(), "CAPTURE_BROWSER_RECYCLE_PAGES": 2, "CONCURRENT_REQUESTS": 2}

    browsers: set[int] = set()
    crawling = threading.Event()

    def watch() -> None:  # every Chromium main process started under this test, while it runs
        while not crawling.is_set():
            browsers.update(chromium_browsers(os.getpid()))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run = crawl(CrawlTargets(urls=[f"http://{site}/" for site in sites]), overrides, ruleset=load_ruleset())
    finally:
        crawling.set()
        watcher.join()
    assert run.status == "finished"
    with session_factory(make_engine(settings.db_url))() as session:
        rendered = session.scalars(select(Capture).where(Capture.rendered)).all()
    assert sorted(c.url.split("/")[2] for c in rendered) == sorted(sites)
    assert all(c.screenshot_sha256 and not c.error for c in rendered)
    assert len(browsers) >= 2  # 5 rendered pages, 2 per browser: relaunched (3 launches expected)
