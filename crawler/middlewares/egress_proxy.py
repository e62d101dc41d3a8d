"""Egress proxy: every plain Scrapy request leaves through EGRESS_PROXY when it is set.

(Chromium gets the same proxy at launch, in `crawler.run.scrapy_settings`; scrapy-playwright
ignores `meta["proxy"]`.) A request that already names a proxy keeps it.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request


class EgressProxyMiddleware:
    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EgressProxyMiddleware:
        proxy = crawler.settings.get("EGRESS_PROXY")
        if not proxy:
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request: Request, spider=None) -> None:  # type: ignore[no-untyped-def]
        request.meta.setdefault("proxy", self.proxy)
        return None
