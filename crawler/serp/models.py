"""Result types and errors of the SERP parser: SerpResult, SerpPage and their JSON shape.

``SerpPage.to_json()`` is the stable contract printed by ``pharmwatch serp parse --json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SerpParseError(Exception):
    """The parser cannot work at all: unknown or undetectable engine, unusable engine spec.

    A page that parses but yields nothing is not an exception: it comes back as a SerpPage with
    ``parse_error`` set, so a scan can record the failure next to the query.
    """


class EngineSpecError(SerpParseError):
    """An engine YAML file is broken; the message names every offending file and field."""


@dataclass
class SerpResult:
    """One organic result or paid ad.

    ``rank`` is 1-based within its kind on this page: organic results count 1, 2, 3... in page
    order, and ads count 1, 2, 3... separately (top ads first, then bottom ones, in page order).
    ``page`` (1-based) says which result page it came from.
    """

    rank: int
    page: int
    title: str
    url: str
    displayed_url: str | None
    snippet: str | None
    is_ad: bool
    ad_label: str | None
    advertiser: str | None
    raw_url: str
    # For ads: "top" (before every organic result), "bottom" (after all) or "middle"; None otherwise.
    ad_position: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "title": self.title,
            "url": self.url,
            "displayed_url": self.displayed_url,
            "snippet": self.snippet,
            "is_ad": self.is_ad,
            "ad_label": self.ad_label,
            "advertiser": self.advertiser,
        }


@dataclass
class SerpPage:
    """Everything parsed from one result page.

    Exactly one of these holds for a page worth trusting: ``blocked`` (a verification/CAPTCHA page,
    reason in ``block_reason``), ``no_results`` (the engine says it found nothing), or ``results``
    non-empty. Otherwise ``parse_error`` explains why the page could not be read.
    """

    engine: str
    query: str | None
    page: int
    blocked: bool = False
    block_reason: str | None = None
    no_results: bool = False
    results: list[SerpResult] = field(default_factory=list)
    next_url: str | None = None
    parse_error: str | None = None
    # Related searches (#rs and in-column "others also searched"): leads for new queries, never results.
    related: list[str] = field(default_factory=list)

    @property
    def organic(self) -> list[SerpResult]:
        return [r for r in self.results if not r.is_ad]

    @property
    def ads(self) -> list[SerpResult]:
        return [r for r in self.results if r.is_ad]

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "query": self.query,
            "blocked": self.blocked,
            "results": [r.to_json() for r in self.results],
            "page": self.page,
            "block_reason": self.block_reason,
            "no_results": self.no_results,
            "parse_error": self.parse_error,
        }
