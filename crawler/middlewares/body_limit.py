"""Body limit: a page larger than CAPTURE_MAX_BODY_BYTES is truncated there, kept, and marked.

Scrapy's own DOWNLOAD_MAXSIZE throws the whole response away; evidence must keep what arrived
up to the limit. The download is stopped from the `bytes_received` signal (StopDownload with
fail=False keeps the partial body); the response gets the flag "truncated". The same limit caps
decompression (gzip/brotli bombs) by setting `download_maxsize` before HttpCompressionMiddleware
reads it, so DOWNLOAD_MAXSIZE itself stays 0 (off).
"""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Request, Response


class BodyLimitMiddleware:
    def __init__(self, limit: int, stats=None) -> None:  # type: ignore[no-untyped-def]
        self.limit = limit
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BodyLimitMiddleware:
        limit = crawler.settings.getint("CAPTURE_MAX_BODY_BYTES")
        if limit <= 0:
            raise NotConfigured
        middleware = cls(limit, crawler.stats)
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def bytes_received(self, data: bytes, request: Request, spider=None) -> None:  # type: ignore[no-untyped-def]
        received = request.meta.get("body_bytes", 0) + len(data)
        request.meta["body_bytes"] = received
        if received >= self.limit:
            raise StopDownload(fail=False)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:  # type: ignore[no-untyped-def]
        request.meta["download_maxsize"] = self.limit
        if "download_stopped" in response.flags or len(response.body) > self.limit:
            if self.stats:
                self.stats.inc_value("capture/truncated")
            return response.replace(body=response.body[: self.limit], flags=[*response.flags, "truncated"])
        return response
