"""Retry-After: a 429 or 503 that says when to come back is asked again then, not at once.

Scrapy's RetryMiddleware retries 429/503 immediately, which a rate-limiting server answers with
another refusal (and may count against us). Here a refusal with a Retry-After of at most
CAPTURE_RETRY_AFTER_MAX_SECONDS is asked again up to CAPTURE_RETRY_AFTER_TIMES times, each
time after the wait it names. The retry waits in this middleware, so it holds one of the crawl's
concurrent downloads meanwhile (bounded by the maximum wait); the host's other pages are not
slowed. A longer wait, or a refusal after the last retry, is recorded (the reason names the
Retry-After, crawler/failures.py) and not retried again.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.crawler import Crawler
from scrapy.http import Request, Response

REFUSAL_STATUSES = {429, 503}


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None if absent/unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("CAPTURE_RETRY_AFTER_MAX_SECONDS")
        self.max_times = crawler.settings.getint("CAPTURE_RETRY_AFTER_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider=None) -> Request | Response:  # type: ignore[no-untyped-def]
        if response.status not in REFUSAL_STATUSES:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None:
            return response  # no instruction: Scrapy's own retry decides
        times = request.meta.get("retry_after_times", 0)
        if wait > self.max_wait or times >= self.max_times:
            request.meta["dont_retry"] = True  # an immediate retry would only be refused again
            return response
        self.crawler.stats.inc_value("retry_after/retried")  # type: ignore[union-attr]
        retry = request.replace(dont_filter=True, priority=request.priority + 1)
        retry.meta["retry_after_times"] = times + 1
        retry.meta["retry_not_before"] = time.monotonic() + wait
        return retry

    async def process_request(self, request: Request, spider=None) -> None:  # type: ignore[no-untyped-def]
        not_before = request.meta.get("retry_not_before")
        if not_before is not None:
            await asyncio.sleep(max(0.0, not_before - time.monotonic()))
