"""Which site a URL belongs to: the registrable domain, computed offline."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

# An empty URL list keeps tldextract on its bundled suffix snapshot: scans never fetch it live.
_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """`shop.example.com.cn` → `example.com.cn`; names under no public suffix (`.test`) stay whole."""
    host = host.lower().rstrip(".")
    parts = _extract(host)
    if not parts.suffix or not parts.domain:
        return host.removeprefix("www.")
    return f"{parts.domain}.{parts.suffix}"


def site_of(url: str) -> str:
    return registrable_domain(urlsplit(url).hostname or "")
