"""The `search` spider's requests in-process: the search plan (resuming after stored pages), an
engine's own proxy, download slot and Chromium context, result pages parsed from the demo's mock
engine, next pages, blocks asked again after a back-off, and failures recorded."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse, Request
from twisted.python.failure import Failure

from crawler.items import SerpPageItem
from crawler.serp import build_search_url
from crawler.spiders.search import SearchSpider
from demo.search_engine import BLOCK_TRIGGER, handle
from tests.crawler.in_process import collect, fetch, project_crawler, with_spider


def search_spider(**settings: Any) -> SearchSpider:
    spider = with_spider(project_crawler(SearchSpider, **settings))
    assert isinstance(spider, SearchSpider)
    return spider


def answered(request: Request, demo_web: str | None = None) -> HtmlResponse:
    """The mock engine's answer: over HTTP from the demo web, or from its handler directly."""
    if demo_web:
        return fetch(demo_web, request.url, request)  # type: ignore[return-value]
    status, headers, body = handle(request.url)
    return HtmlResponse(request.url, status=status, headers=dict(headers), body=body, request=request)


def test_the_plan_becomes_first_pages_and_a_resumed_scan_continues_after_stored_pages() -> None:
    spider = search_spider(SERP_PLAN=[["mock", "降糖药", 2], ["mock", "治糖尿病", 1], ["mock", "降压药", 3]],
                           SERP_DONE_PAGES=[["mock", "治糖尿病", 1], ["mock", "降压药", 1]])
    requests = collect(spider.start())
    assert [(r.meta["query"], r.meta["page"], r.meta["pages"]) for r in requests] == [
        ("降糖药", 1, 2), ("降压药", 2, 3)]
    assert requests[1].url == build_search_url("mock", "降压药", 2)
    assert all(r.dont_filter and "proxy" not in r.meta and "playwright" not in r.meta for r in requests)


def test_an_engine_gets_its_own_proxy_slot_and_chromium_context() -> None:
    spider = search_spider(SERP_PLAN=[["mock", "降糖药", 1]], SERP_PROXIES={"mock": "http://127.0.0.1:9"},
                           SERP_DELAYS={"mock": 5}, SERP_RENDER=["mock"])
    (request,) = collect(spider.start())
    assert request.meta["proxy"] == "http://127.0.0.1:9" and request.meta["download_slot"] == "serp-mock"
    assert request.meta["playwright"] and request.meta["playwright_context"] == "serp-mock"
    assert request.meta["playwright_context_kwargs"]["proxy"]["server"] == "http://127.0.0.1:9"


def test_a_result_page_is_parsed_into_an_item_and_the_next_page_is_asked(demo_web: str) -> None:
    spider = search_spider(SERP_PLAN=[["mock", "降糖药", 2]])
    (first,) = collect(spider.start())
    item, next_page = collect(spider.parse_result_page(answered(first, demo_web)))
    assert isinstance(item, SerpPageItem) and (item.engine, item.query, item.page, item.status) == (
        "mock", "降糖药", 1, "ok")
    assert item.results and any(r.is_ad for r in item.results) and item.body
    assert isinstance(next_page, Request) and next_page.meta["page"] == 2
    last = collect(spider.parse_result_page(answered(next_page)))
    assert [type(x) for x in last] == [SerpPageItem]  # the plan's last page: nothing more is asked


def test_a_blocked_page_is_asked_again_then_recorded_as_blocked_with_its_attempts() -> None:
    spider = search_spider(SERP_PLAN=[["mock", f"降糖药 {BLOCK_TRIGGER}", 1]], SERP_BLOCK_RETRIES=1,
                           SERP_BLOCK_BACKOFF_SECONDS=0)
    (first,) = collect(spider.start())
    (retry,) = collect(spider.parse_result_page(answered(first)))
    assert isinstance(retry, Request) and retry.meta["block_attempt"] == 1 and retry.url == first.url
    (item,) = collect(spider.parse_result_page(answered(retry)))
    assert item.status == "blocked" and item.reason.endswith("(2 attempts)")  # never an empty success


def test_a_query_without_results_is_no_results_not_a_parse_error() -> None:
    spider = search_spider(SERP_PLAN=[["mock", "一个没有结果的查询词", 1]])
    (item,) = collect(spider.parse_result_page(answered(collect(spider.start())[0])))
    assert (item.status, item.results) == ("no_results", [])


def test_a_failed_download_is_recorded_with_its_reason() -> None:
    spider = search_spider(SERP_PLAN=[["mock", "降糖药", 1]])
    (request,) = collect(spider.start())
    failure = Failure(TimeoutError("took too long"))
    failure.request = request  # type: ignore[attr-defined]
    (item,) = list(spider.on_error(failure))
    assert (item.status, item.query, urlsplit(item.url).hostname) == ("failed", "降糖药", "search.test")
    assert item.reason
