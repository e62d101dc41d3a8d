"""Icon step: fetch each site's icon (favicon) once per crawl and hand its fingerprint to the capture.

Owns which icon a site has (`crawler.favicons.icon_url` of the site's first page with HTML) and its fetch
through Scrapy's downloader, so the address guard, the egress proxy, the body limit and the timeouts apply
as to pages. Every capture of the site then carries `{"url", "sha256"}` as `item.favicon` (stored in the
capture's signals; the operator networks read it) and the icon's bytes as evidence. A site whose icon
cannot be had (refused, failed, not 200, not an image, too large) has none. On unless `FAVICON_ENABLED` is
off. Stats: `favicon/found`, `favicon/none`, `favicon/failed`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from urllib.parse import unquote_to_bytes

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.favicons import icon_fingerprint, icon_url
from crawler.items import CaptureItem

#: What a site's icon fetch gave: ({"url", "sha256"}, the bytes), or None.
Icon = tuple[dict[str, str], bytes] | None


class FaviconPipeline:
    def __init__(self, crawler: Crawler, *, max_bytes: int) -> None:
        self.crawler = crawler
        self.max_bytes = max_bytes
        self.by_site: dict[str, asyncio.Future[Icon]] = {}  # one fetch per site, shared by its pages

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FaviconPipeline:
        if not crawler.settings.getbool("FAVICON_ENABLED"):
            raise NotConfigured
        return cls(crawler, max_bytes=crawler.settings.getint("FAVICON_MAX_BYTES"))

    async def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def]
        if not isinstance(item, CaptureItem) or item.html is None:
            return item
        if item.site not in self.by_site:
            self.by_site[item.site] = asyncio.ensure_future(self._icon(icon_url(item.html, item.final_url or item.url)))
        icon = await self.by_site[item.site]
        if icon is not None:
            item.favicon, item.favicon_image = icon
        return item

    async def _icon(self, url: str | None) -> Icon:
        if url is None:
            return self._none()
        if url.lower().startswith("data:"):
            data = _data_uri(url)
        else:
            assert self.crawler.engine is not None
            try:
                response = await self.crawler.engine.download_async(Request(url, dont_filter=True))
            except Exception:  # noqa: BLE001 - refused by the guard, timed out, reset: the site has no icon
                self._count("favicon/failed")
                return None
            data = response.body if response.status == 200 and "truncated" not in response.flags else None
        fingerprint = icon_fingerprint(data) if data and len(data) <= self.max_bytes else None
        if fingerprint is None:
            return self._none()
        self._count("favicon/found")
        return {"url": url if not url.lower().startswith("data:") else "data:", "sha256": fingerprint}, data

    def _none(self) -> None:
        self._count("favicon/none")

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)


def _data_uri(source: str) -> bytes | None:
    """The bytes of an icon written inline in the page (`data:image/png;base64,...`)."""
    header, _, payload = source.partition(",")
    try:
        return base64.b64decode(payload) if header.lower().endswith(";base64") else unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None
