"""A site's icon (favicon) as an operator's trace: where a page says its icon is, and the icon's fingerprint.

Owns `icon_url` (the page's `<link rel="icon">` or `rel="shortcut icon"`, else `/favicon.ico` at the
page's origin, where browsers look) and `icon_fingerprint` (SHA-256 of the icon's bytes, when they are an
image: a server answering every path with its HTML "not found" page has no icon). Shodan and most
threat-intelligence tools hash favicons with MurmurHash3 of the base64 text (`http.favicon.hash`); mmh3 is
not installed here and SHA-256 of the bytes is what the evidence store already uses, so an analyst
comparing with Shodan computes its hash from the icon kept as evidence. The fetch itself is the pipeline's
(`crawler/pipelines/favicon.py`), through Scrapy's downloader like every request of a crawl.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Final
from urllib.parse import urljoin, urlsplit

#: Icons are in the head: the start of the page is enough (and a huge page is not scanned twice).
HEAD_CHARS: Final = 65_536
_LINK: Final = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE: Final = re.compile(r"""([a-zA-Z_:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
#: Image formats by their first bytes; an SVG icon is text, told by its root element.
_IMAGE_MAGIC: Final = (b"\x00\x00\x01\x00", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"BM")
_SVG: Final = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg\b",
                         re.IGNORECASE | re.DOTALL)


def icon_url(page_html: str, page_url: str) -> str | None:
    """The address of the page's icon: the first `<link>` whose rel names `icon` (`icon`, `shortcut icon`;
    not `apple-touch-icon` or `mask-icon`, which are other pictures), resolved against the page, else
    `/favicon.ico` of the page's origin (also when the link is no http(s) or `data:` address); None for a
    page that is not on the web (a saved file)."""
    for tag in _LINK.finditer(page_html[:HEAD_CHARS]):
        attributes = {name.lower(): html.unescape(value.strip("\"'"))
                      for name, value in _ATTRIBUTE.findall(tag.group())}
        if "icon" in attributes.get("rel", "").lower().split() and attributes.get("href", "").strip():
            href = attributes["href"].strip()
            if href.lower().startswith("data:"):
                return href
            url = urljoin(page_url, href)
            if urlsplit(url).scheme in ("http", "https"):
                return url
    parts = urlsplit(page_url)
    return f"{parts.scheme}://{parts.netloc}/favicon.ico" if parts.scheme in ("http", "https") else None


def icon_fingerprint(data: bytes) -> str | None:
    """SHA-256 (hex) of an icon's bytes, or None when they are no image (empty, an HTML error page)."""
    if not data:
        return None
    is_image = data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP") \
        or _SVG.match(data[:4096]) is not None
    return hashlib.sha256(data).hexdigest() if is_image else None
