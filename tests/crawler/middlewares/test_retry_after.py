"""RetryAfterMiddleware in-process: a 429/503 naming a short wait is asked again after it, a
long wait or the last retry is recorded (and not retried at once by Scrapy either)."""

from __future__ import annotations

import asyncio
import time

import pytest
from scrapy.http import Request, Response

from crawler.middlewares.retry_after import RetryAfterMiddleware
from tests.crawler.in_process import project_crawler


@pytest.fixture
def middleware() -> RetryAfterMiddleware:
    crawler = project_crawler(CAPTURE_RETRY_AFTER_MAX_SECONDS=30, CAPTURE_RETRY_AFTER_TIMES=2)
    return RetryAfterMiddleware.from_crawler(crawler)


def refusal(request: Request, status: int = 429, retry_after: str | None = "2") -> Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Response(request.url, status=status, headers=headers, request=request)


@pytest.mark.parametrize("status", [429, 503])
def test_a_short_wait_is_retried_after_it_and_counted(middleware: RetryAfterMiddleware, status: int) -> None:
    request = Request("http://hostile.test/rate-limited", priority=3)
    before = time.monotonic()
    retry = middleware.process_response(request, refusal(request, status, "2"))
    assert isinstance(retry, Request) and retry.url == request.url
    assert retry.dont_filter and retry.priority == 4
    assert retry.meta["retry_after_times"] == 1
    assert before + 2 <= retry.meta["retry_not_before"] <= time.monotonic() + 2
    assert middleware.crawler.stats.get_value("retry_after/retried") == 1


def test_the_retries_stop_at_the_configured_number(middleware: RetryAfterMiddleware) -> None:
    request = Request("http://hostile.test/rate-limited")
    for _ in range(2):
        request = middleware.process_response(request, refusal(request, retry_after="0"))
        assert isinstance(request, Request)
    last = refusal(request, retry_after="0")
    assert middleware.process_response(request, last) is last
    assert request.meta["dont_retry"] is True  # Scrapy's RetryMiddleware must not ask again at once


def test_a_wait_longer_than_the_maximum_is_recorded_not_waited_for(middleware: RetryAfterMiddleware) -> None:
    request = Request("http://hostile.test/retry-after-long")
    response = refusal(request, retry_after="3600")
    assert middleware.process_response(request, response) is response
    assert request.meta["dont_retry"] is True
    assert middleware.crawler.stats.get_value("retry_after/retried") is None


def test_other_answers_and_refusals_without_retry_after_pass_untouched(middleware: RetryAfterMiddleware) -> None:
    request = Request("http://tangan-cure.test/")
    for response in (Response(request.url, status=200, request=request),
                     Response(request.url, status=503, request=request),  # Scrapy's own retry decides
                     refusal(request, retry_after="soon")):
        assert middleware.process_response(request, response) is response
    assert "dont_retry" not in request.meta


def test_the_retry_waits_in_process_request_until_its_time(middleware: RetryAfterMiddleware) -> None:
    request = Request("http://hostile.test/rate-limited", meta={"retry_not_before": time.monotonic() + 0.3})
    started = time.monotonic()
    assert asyncio.run(middleware.process_request(request)) is None
    assert time.monotonic() - started >= 0.29
    started = time.monotonic()
    asyncio.run(middleware.process_request(Request("http://tangan-cure.test/")))  # a first request never waits
    assert time.monotonic() - started < 0.1
