"""The `search` spider: runs the search plan (engine x query x pages).

Every result page becomes a SerpPageItem with its outcome (ok, no results, blocked, parse
error, failed) and its ranked results and ads; the scan hands the result URLs to the `site`
spider. A blocked page (CAPTCHA, verification) is asked again after an exponential back-off,
SERP_BLOCK_RETRIES times, and recorded as blocked with the number of attempts if it stays so.
Engines and their markup are data: crawler/serp/engines/*.yaml.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.failures import describe_failure
from crawler.items import SerpPageItem
from crawler.serp import SerpParseError, build_search_url, parse_serp


class SearchSpider(scrapy.Spider):
    name = "search"

    async def start(self) -> AsyncIterator[Any]:
        settings = self.crawler.settings
        done: dict[tuple[str, str], int] = {}
        for engine, query, page in settings.getlist("SERP_DONE_PAGES"):
            done[(engine, query)] = max(page, done.get((engine, query), 0))
        for engine, query, pages in settings.getlist("SERP_PLAN"):
            # A resumed scan continues after the last page it stored for this query.
            next_page = done.get((engine, query), 0) + 1
            if next_page <= pages:
                yield self._request(engine, query, next_page, pages)

    def _request(self, engine: str, query: str, page: int, pages: int) -> Request:
        settings = self.crawler.settings
        meta: dict[str, Any] = {"engine": engine, "query": query, "page": page, "pages": pages}
        proxy = settings.getdict("SERP_PROXIES").get(engine)
        if proxy:
            meta["proxy"] = proxy
        if engine in settings.getdict("SERP_DELAYS"):
            meta["download_slot"] = f"serp-{engine}"
        if engine in settings.getlist("SERP_RENDER"):
            meta["playwright"] = True
            if proxy:
                # Chromium takes proxies per context: one context per engine with its own proxy
                # (the kwargs travel with every request, so a replaced browser gets it back).
                meta["playwright_context"] = f"serp-{engine}"
                meta["playwright_context_kwargs"] = {"proxy": {"server": proxy, "bypass": "localhost,127.0.0.1"}}
        return Request(build_search_url(engine, query, page), callback=self.parse_result_page,
                       errback=self.on_error, meta=meta, dont_filter=True)

    async def parse_result_page(self, response: Response) -> AsyncIterator[Any]:
        meta = response.meta
        try:
            parsed = parse_serp(response.body, url=response.url, engine=meta["engine"],
                                encoding=getattr(response, "encoding", None))
        except SerpParseError as exc:  # a broken engine spec: recorded per page, the scan goes on
            yield SerpPageItem(engine=meta["engine"], query=meta["query"], page=meta["page"], url=response.url,
                               status="parse_error", reason=str(exc), body=response.body)
            return
        attempt = meta.get("block_attempt", 0)
        if parsed.blocked and attempt < self.settings.getint("SERP_BLOCK_RETRIES"):
            # Back off, then ask again later in the run: a blocked engine must never pass for
            # "no illegal results", and blocks are often lifted after a pause.
            await asyncio.sleep(self.settings.getfloat("SERP_BLOCK_BACKOFF_SECONDS") * 2**attempt)
            retry = self._request(meta["engine"], meta["query"], meta["page"], meta["pages"])
            retry.meta["block_attempt"] = attempt + 1
            yield retry
            return
        if parsed.blocked:
            status, reason = "blocked", f"{parsed.block_reason} ({attempt + 1} attempts)"
        elif parsed.no_results:
            status, reason = "no_results", None
        elif parsed.parse_error:
            status, reason = "parse_error", parsed.parse_error
        else:
            status, reason = "ok", f"blocked {attempt} time(s) before" if attempt else None
        yield SerpPageItem(
            engine=meta["engine"], query=meta["query"], page=meta["page"], url=response.url,
            status=status, reason=reason, body=response.body, results=list(parsed.results),
        )
        if status == "ok" and parsed.next_url and meta["page"] < meta["pages"]:
            yield self._request(meta["engine"], meta["query"], meta["page"] + 1, meta["pages"])

    def on_error(self, failure: Failure) -> Any:
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        yield SerpPageItem(
            engine=meta["engine"], query=meta["query"], page=meta["page"], url=request.url,
            status="failed", reason=describe_failure(failure),
        )
