"""What the spiders hand to the pipelines: one result page of a search, or one captured page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class SerpPageItem:
    """One search-engine result page: its outcome and the results and ads on it."""

    engine: str
    query: str
    page: int
    url: str
    status: str  # ok | no_results | blocked | parse_error | failed
    reason: str | None = None
    body: bytes | None = None
    results: list[Any] = field(default_factory=list)  # crawler.serp.SerpResult
    ad_analyses: dict[int, Any] = field(default_factory=dict)  # index in results → rules.Analysis


@dataclass
class CaptureItem:
    """One fetched page (or a failed fetch with its reason), as evidence and for analysis."""

    url: str
    site: str
    rendered: bool = False
    final_url: str | None = None
    status_code: int | None = None
    content_type: str | None = None
    server_ip: str | None = None
    body: bytes | None = None
    html: str | None = None  # decoded body (the DOM after scripts when rendered)
    screenshot: bytes | None = None
    truncated: bool = False
    error: str | None = None
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    tls: dict[str, Any] | None = None  # certificate summary when fetched over HTTPS (crawler.tls)
    # The redirect hops between `url` and `final_url` (Scrapy's meta["redirect_urls"] after the first):
    # a tracker or cloaker several doorway domains pass through ties them (cases.networks).
    redirect_hops: list[str] = field(default_factory=list)
    # Filled by FaviconPipeline: the site's icon ({"url", "sha256"}) and its bytes (kept as evidence).
    favicon: dict[str, str] | None = None
    favicon_image: bytes | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Filled by ImageTextPipeline when OCR is on: one crawler.ocr.OcrResult per distinct image read, a block
    # per image tried (as `check --json`'s `ocr`), and the bytes of the images read, by SHA-256 (evidence).
    ocr_results: list[Any] = field(default_factory=list)
    ocr_blocks: list[dict[str, Any]] | None = None
    ocr_images: dict[str, bytes] = field(default_factory=dict)
    ocr_spans: list[Any] = field(default_factory=list)  # crawler.ocr.OcrSpan, by PageAnalysisPipeline
    # Filled by PageAnalysisPipeline:
    title: str | None = None
    text: str | None = None
    body_chars: int | None = None  # visible body text, in characters (the image step: "mostly images"?)
    analysis: Any = None  # rules.Analysis
