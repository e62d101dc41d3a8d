"""The `site` spider's requests in-process: targets, its own seen-set and page budget, the plain
fetch then the Chromium render of a first page, links followed within the site and depth, and
failures turned into captures with their reason. Pages are real demo-web responses."""

from __future__ import annotations

from typing import Any

from scrapy.http import HtmlResponse, Request, Response
from twisted.python.failure import Failure

from crawler.browser import CAPTURE_CONTEXT_PREFIX, BrowserTimeout, full_page_png, settle
from crawler.items import CaptureItem
from crawler.spiders.site import SiteSpider
from tests.crawler.in_process import collect, fetch, project_crawler, with_spider

HOME = "http://kangjian-pharmacy.test/"


def site_spider(targets: list[str] | str = (), **settings: Any) -> SiteSpider:
    spider = with_spider(project_crawler(SiteSpider, **settings), targets=targets)
    assert isinstance(spider, SiteSpider)
    return spider


def page(demo_web: str, url: str, *, depth: int = 0, rendered: bool = False, site: str = "kangjian-pharmacy.test",
         **meta: Any) -> Response:
    return fetch(demo_web, url, Request(url, meta={"site": site, "site_depth": depth, "rendered": rendered, **meta}))


def test_targets_become_one_plain_request_each_deduplicated_and_within_budget() -> None:
    spider = site_spider([HOME, HOME + "#top", "http://tangan-cure.test/", "http://tangan-cure.test/order",
                          "http://tangan-cure.test/cases"], CAPTURE_MAX_PAGES_PER_SITE=2)
    requests = collect(spider.start())
    assert [r.url for r in requests] == [HOME, "http://tangan-cure.test/", "http://tangan-cure.test/order"]
    assert all(r.dont_filter and r.callback == spider.parse_page and r.errback == spider.on_error for r in requests)
    assert [(r.meta["site"], r.meta["site_depth"], r.meta["rendered"]) for r in requests] == [
        ("kangjian-pharmacy.test", 0, False), ("tangan-cure.test", 0, False), ("tangan-cure.test", 0, False)]
    assert not any("playwright" in r.meta for r in requests)


def test_targets_given_on_the_scrapy_command_line_are_split() -> None:
    assert site_spider("http://a.test/,http://b.test/").targets == ["http://a.test/", "http://b.test/"]


def test_a_first_page_is_kept_plain_then_rendered_with_a_screenshot(demo_web: str) -> None:
    spider = site_spider(CAPTURE_RENDER_WAIT_MS=500)
    capture, render = list(spider.parse_page(page(demo_web, HOME)))
    assert isinstance(capture, CaptureItem) and not capture.rendered and capture.status_code == 200
    assert capture.url == HOME and capture.html and "<html" in capture.html.lower()
    assert isinstance(render, Request) and render.url == HOME and render.meta["rendered"]
    assert render.meta["playwright"] and render.meta["playwright_context"].startswith(CAPTURE_CONTEXT_PREFIX)
    wait, screenshot = render.meta["playwright_page_methods"]
    assert (wait.method, wait.args) == (settle, (500,))  # up to 500 ms, less once the page has settled
    assert screenshot.method is full_page_png
    again = list(spider.parse_page(page(demo_web, HOME)))[1]
    assert again.meta["playwright_context"] != render.meta["playwright_context"]  # a fresh context per capture


def test_links_are_followed_within_the_site_once_each_and_not_past_the_depth(demo_web: str) -> None:
    spider = site_spider(CAPTURE_RENDER_FIRST_PAGE=False, CAPTURE_MAX_DEPTH=2)
    capture, *requests = list(spider.parse_page(page(demo_web, HOME)))
    assert isinstance(capture, CaptureItem)
    urls = [r.url for r in requests]
    assert urls and len(urls) == len(set(urls)) and "http://kangjian-pharmacy.test/otc" in urls
    assert all(u.startswith(HOME) and "#" not in u for u in urls)  # fragments name places, not pages
    assert {(r.meta["site_depth"], r.meta["rendered"]) for r in requests} == {(1, False)}
    deepest = list(spider.parse_page(page(demo_web, HOME + "otc", depth=2)))
    assert [type(x) for x in deepest] == [CaptureItem]  # depth 2 of 2: captured, nothing followed


def test_the_rendered_page_carries_the_screenshot_and_its_links_are_followed(demo_web: str) -> None:
    spider = site_spider()
    render = list(spider.parse_page(page(demo_web, HOME)))[1]
    response = page(demo_web, HOME, rendered=True, **{k: v for k, v in render.meta.items()
                                                      if k not in {"site", "site_depth", "rendered"}})
    render.meta["playwright_page_methods"][1].result = b"\x89PNG screenshot"
    capture, *follow = list(spider.parse_page(response))
    assert capture.rendered and capture.screenshot == b"\x89PNG screenshot"
    assert follow and all(isinstance(r, Request) and r.meta["site_depth"] == 1 for r in follow)


def test_a_binary_body_served_as_html_is_captured_with_its_kind_not_analysed() -> None:
    spider = site_spider()
    request = Request("http://hostile.test/pdf", meta={"site": "hostile.test", "site_depth": 0, "rendered": False})
    response = HtmlResponse(request.url, body=b"%PDF-1.4 ...", headers={"Content-Type": "text/html"},
                            request=request)
    (capture,) = list(spider.parse_page(response))
    assert capture.error == "binary content (PDF) served as text/html" and capture.html is None


def test_a_failed_fetch_becomes_a_capture_with_its_reason() -> None:
    spider = site_spider()
    request = Request("http://unknown-host.test/", meta={"site": "unknown-host.test", "site_depth": 0,
                                                         "rendered": False})
    failure = Failure(ConnectionRefusedError("connection refused"))
    failure.request = request  # type: ignore[attr-defined]
    (capture,) = list(spider.on_error(failure))
    assert isinstance(capture, CaptureItem) and capture.site == "unknown-host.test" and capture.error


def test_a_browser_timeout_is_rendered_once_more_then_recorded() -> None:
    spider = site_spider()
    request = Request(HOME, meta={"site": "kangjian-pharmacy.test", "site_depth": 0, "rendered": True})
    failure = Failure(BrowserTimeout("browser did not answer"))
    failure.request = request  # type: ignore[attr-defined]
    (retry,) = list(spider.on_error(failure))
    assert isinstance(retry, Request) and retry.meta["render_retried"] and retry.meta["playwright"]
    failure.request = retry  # type: ignore[attr-defined]
    (capture,) = list(spider.on_error(failure))
    assert isinstance(capture, CaptureItem) and capture.rendered and capture.error


def test_behind_a_proxy_the_server_address_is_the_hosts_not_the_proxys(demo_web: str) -> None:
    spider = site_spider(EGRESS_PROXY=demo_web, CAPTURE_HOST_ADDRESSES={"kangjian-pharmacy.test": "203.0.113.9"},
                         CAPTURE_RENDER_FIRST_PAGE=False, CAPTURE_MAX_DEPTH=0)
    (capture,) = list(spider.parse_page(page(demo_web, HOME)))
    assert capture.server_ip == "203.0.113.9"
