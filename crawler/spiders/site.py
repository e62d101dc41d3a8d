"""The `site` spider: crawls each target site within its registrable domain, depth and page budget.

Every page is first fetched plainly: that response, as received, is the evidentiary copy. Each
site's first page is then also rendered in Chromium (scrapy-playwright) with a full-page
screenshot, as evidence and because many sellers build their pages with scripts; other pages are
rendered when they look script-built (scripts, little visible text). Links are followed from the
rendered page when there is one. Every fetch, failed or not, becomes a CaptureItem; a failure is
recorded with its reason.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urldefrag, urlsplit

import scrapy
from scrapy.http import Request, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy_playwright.page import PageMethod
from twisted.python.failure import Failure
from w3lib.url import canonicalize_url

from crawler.addresses import HostResolver
from crawler.browser import CAPTURE_CONTEXT_PREFIX, BrowserTimeout, full_page_png, settle
from crawler.charset import binary_kind, decode_html
from crawler.domains import site_of
from crawler.extract import has_visible_text
from crawler.failures import describe_failure
from crawler.items import CaptureItem
from crawler.tls import response_certificate


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(self, targets: Iterable[str] | str = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # `scrapy crawl site -a targets=url1,url2` passes a string.
        self.targets = [t for t in (targets.split(",") if isinstance(targets, str) else targets) if t]
        self.scheduled: Counter[str] = Counter()
        self.seen: set[str] = set()
        self.resolver: HostResolver | None = None
        self.captures_rendered = itertools.count(1)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> SiteSpider:  # type: ignore[no-untyped-def]
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Through a proxy the connection's address is the proxy's: resolve the site's host instead.
        if crawler.settings.get("EGRESS_PROXY"):
            spider.resolver = HostResolver(crawler.settings.getdict("CAPTURE_HOST_ADDRESSES"))
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for url in self.targets:
            request = self._request(url, site_of(url), depth=0, render=False)
            if request:
                yield request

    def _request(self, url: str, site: str, depth: int, render: bool, force: bool = False) -> Request | None:
        url = urldefrag(url).url  # a fragment names a place in the page, not another page
        if not force:
            key = canonicalize_url(url)
            if key in self.seen or self.scheduled[site] >= self.settings.getint("CAPTURE_MAX_PAGES_PER_SITE"):
                return None
            self.seen.add(key)
            self.scheduled[site] += 1
        meta: dict[str, Any] = {"site": site, "site_depth": depth, "rendered": render}
        if render:
            wait_ms = self.settings.getint("CAPTURE_RENDER_WAIT_MS")
            meta.update(
                playwright=True,
                # A throwaway context per capture, closed after the page (crawler/browser.py). Bad
                # certificates are let through as the plain fetch does: sellers' often are.
                playwright_context=f"{CAPTURE_CONTEXT_PREFIX}{next(self.captures_rendered)}",
                playwright_context_kwargs={"ignore_https_errors": True},
                # Up to the render wait for scripts, less once the page has settled; then the evidence.
                playwright_page_methods=[PageMethod(settle, wait_ms), PageMethod(full_page_png)],
            )
        # The spider keeps its own seen-set: Scrapy's duplicate filter would silently drop a
        # redirect back to a seen URL (a redirect loop) instead of letting it fail with a reason.
        return Request(url, callback=self.parse_page, errback=self.on_error, meta=meta, dont_filter=True)

    def parse_page(self, response: Response) -> Any:
        meta = response.meta
        if not isinstance(response, TextResponse):
            yield self._capture(response, error=f"not a text page ({_content_type(response) or 'unknown type'})")
            return
        binary = binary_kind(response.body)
        if binary:
            yield self._capture(response, error=f"binary content ({binary}) served as {_content_type(response)}")
            return
        first_page = meta["site_depth"] == 0 and self.settings.getbool("CAPTURE_RENDER_FIRST_PAGE")
        if not meta["rendered"] and (first_page or self._looks_script_built(response)):
            # Keep the plain capture as evidence, then let Chromium run the scripts.
            yield self._capture(response)
            request = self._request(response.url, meta["site"], meta["site_depth"], render=True, force=True)
            if request:
                yield request
            return
        screenshot = None
        if meta["rendered"]:
            screenshot = meta["playwright_page_methods"][1].result
        yield self._capture(response, screenshot=screenshot)
        if meta["site_depth"] < self.settings.getint("CAPTURE_MAX_DEPTH"):
            extractor = LinkExtractor(allow_domains=[meta["site"]], unique=True)
            for link in extractor.extract_links(response):
                request = self._request(link.url, meta["site"], meta["site_depth"] + 1, render=False)
                if request:
                    yield request

    def _looks_script_built(self, response: TextResponse) -> bool:
        has_scripts = b"<script" in response.body[:200_000].lower()
        threshold = self.settings.getint("CAPTURE_JS_TEXT_THRESHOLD")
        return has_scripts and not has_visible_text(response.text, threshold)

    def _capture(self, response: Response, screenshot: bytes | None = None, error: str | None = None) -> CaptureItem:
        meta = response.meta
        text_response = isinstance(response, TextResponse)
        return CaptureItem(
            url=meta.get("redirect_urls", [response.url])[0],
            site=meta["site"],
            rendered=meta["rendered"],
            final_url=response.url,
            status_code=response.status,
            content_type=_content_type(response),
            server_ip=self._server_ip(response),
            body=response.body,
            html=(decode_html(response.body, response.url, _content_type(response))
                  if text_response and not error else None),
            screenshot=screenshot,
            error=error,
            truncated="truncated" in response.flags,
            request_headers=_header_pairs(response.request.headers) if response.request else [],
            response_headers=_header_pairs(response.headers),
            tls=response_certificate(response),
            redirect_hops=list(meta.get("redirect_urls", []))[1:],
        )

    def _server_ip(self, response: Response) -> str | None:
        if self.resolver is not None:
            return self.resolver.resolve(urlsplit(response.url).hostname or "")
        return str(response.ip_address) if response.ip_address else None

    def on_error(self, failure: Failure) -> Any:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(BrowserTimeout) and not request.meta.get("render_retried"):
            # The browser was wedged or killed and has been replaced: give the page one more go.
            retry = self._request(request.url, request.meta["site"], request.meta["site_depth"], render=True,
                                  force=True)
            if retry:
                retry.meta["render_retried"] = True
                yield retry
                return
        response = getattr(failure.value, "response", None)
        yield CaptureItem(
            url=request.meta.get("redirect_urls", [request.url])[0],
            final_url=request.url,
            site=request.meta.get("site") or site_of(request.url),
            rendered=bool(request.meta.get("rendered")),
            status_code=getattr(response, "status", None),
            body=getattr(response, "body", None),
            error=describe_failure(failure),
        )


def _header_pairs(headers) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() for value in values]


def _content_type(response: Response) -> str | None:
    value = response.headers.get("Content-Type")
    return value.decode("latin-1") if value else None
