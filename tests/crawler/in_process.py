"""Scrapy components in-process: a crawler built by `scrapy.utils.test.get_crawler` with the
project's defaults (crawler/settings.py), and real responses fetched from the demo web.

No reactor runs: components are called directly, as the engine would call them.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

import crawler.settings as project_settings

# Not wanted in-process: the reactor is not started, and Chromium is not launched.
NOT_IN_PROCESS = {"TWISTED_REACTOR", "DOWNLOAD_HANDLERS", "EXTENSIONS"}


def project_crawler(spidercls: type[Spider] | None = None, **overrides: Any) -> Crawler:
    """A configured-but-not-started crawler with crawler/settings.py's defaults plus `overrides`."""
    settings = {name: value for name, value in vars(project_settings).items()
                if name.isupper() and name not in NOT_IN_PROCESS}
    return get_crawler(spidercls, {**settings, **overrides})


def with_spider(crawler: Crawler, **kwargs: Any) -> Spider:
    """Create the crawler's spider (as `crawl()` would) and attach it."""
    crawler.spider = crawler._create_spider(**kwargs)
    return crawler.spider


def collect(generator: AsyncIterator[Any]) -> list[Any]:
    """Everything an async generator (a spider's `start` or an async callback) yields."""
    async def run() -> list[Any]:
        return [item async for item in generator]
    return asyncio.run(run())


def fetch(demo_web: str, url: str, request: Request | None = None) -> Response:
    """`url` fetched for real from the demo web (through it as the proxy), as a Scrapy response."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": demo_web}))
    with opener.open(url, timeout=20) as answer:
        body, status = answer.read(), answer.status
        headers = {name: value for name, value in answer.headers.items()}
    return HtmlResponse(url=url, status=status, headers=headers, body=body, request=request or Request(url))
