"""BodyLimitMiddleware in-process: a body past CAPTURE_MAX_BODY_BYTES is cut there, kept and marked
`truncated`; the same limit caps decompression; a limit of 0 switches it off."""

from __future__ import annotations

import pytest
from scrapy import signals
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Request, Response

from crawler.middlewares.body_limit import BodyLimitMiddleware
from tests.crawler.in_process import fetch, project_crawler

LIMIT = 1000


@pytest.fixture
def middleware() -> BodyLimitMiddleware:
    return BodyLimitMiddleware.from_crawler(project_crawler(CAPTURE_MAX_BODY_BYTES=LIMIT))


def test_a_limit_of_zero_switches_it_off() -> None:
    with pytest.raises(NotConfigured):
        BodyLimitMiddleware.from_crawler(project_crawler(CAPTURE_MAX_BODY_BYTES=0))


def test_the_download_stops_once_the_limit_has_arrived_keeping_what_came() -> None:
    crawler = project_crawler(CAPTURE_MAX_BODY_BYTES=LIMIT)
    middleware = BodyLimitMiddleware.from_crawler(crawler)  # kept: signals hold receivers weakly
    request = Request("http://hostile.test/huge")
    outcomes = crawler.signals.send_catch_log(signals.bytes_received, data=b"x" * 600, request=request, spider=None)
    assert all(not failure_or_none(result) for _, result in outcomes)
    outcomes = crawler.signals.send_catch_log(signals.bytes_received, data=b"x" * 600, request=request, spider=None)
    (failure,) = [result for _, result in outcomes if failure_or_none(result)]
    assert failure.check(StopDownload) and failure.value.fail is False  # a partial body, not an error
    assert request.meta["body_bytes"] == 1200
    assert middleware.limit == LIMIT


def failure_or_none(result: object) -> object:
    from twisted.python.failure import Failure

    return result if isinstance(result, Failure) else None


def test_a_stopped_or_oversized_body_is_cut_at_the_limit_and_marked(middleware: BodyLimitMiddleware,
                                                                     demo_web: str) -> None:
    request = Request("http://tangan-cure.test/")
    fetched = fetch(demo_web, request.url, request)
    oversized = fetched.replace(body=fetched.body * (LIMIT // len(fetched.body) + 2))
    truncated = middleware.process_response(request, oversized)
    assert len(truncated.body) == LIMIT and truncated.body == oversized.body[:LIMIT]
    assert "truncated" in truncated.flags
    assert request.meta["download_maxsize"] == LIMIT  # caps HttpCompressionMiddleware's decompression
    stopped = Response(request.url, body=b"y" * 10, flags=["download_stopped"], request=request)
    assert "truncated" in middleware.process_response(request, stopped).flags
    assert middleware.stats.get_value("capture/truncated") == 2


def test_a_page_within_the_limit_is_untouched(demo_web: str) -> None:
    middleware = BodyLimitMiddleware.from_crawler(project_crawler())  # the default limit, 10 MiB
    request = Request("http://tangan-cure.test/")
    page = fetch(demo_web, request.url, request)
    assert middleware.process_response(request, page) is page and "truncated" not in page.flags
