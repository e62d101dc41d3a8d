"""Analysis step: run the rule packs on a captured page's text, and on the text of search ads; with OCR on,
run them again on a page whose images were read (`ImageTextAnalysisPipeline`, after the image step, which
chooses pages from the first analysis).

Reference checks come first (rules.reference: licence and approval numbers against the
registries in the database, ICP, hosting country) and are handed to the rules as page signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler.extract import extract_document
from crawler.items import CaptureItem, SerpPageItem
from crawler.ocr import with_ocr_text
from crawler.registry_lookup import SqlBlacklist, SqlRegistry
from rules import RuleSet, TextDocument, load_ruleset
from rules.model import Analysis
from rules.reference.checks import reference_signals
from storage.db import make_engine, session_factory

if TYPE_CHECKING:
    from crawler.serp import SerpResult


@dataclass
class PageAnalysis:
    """What the analysis adds to a captured page: plain values, so a worker process can hand it back."""

    text: str
    title: str | None
    body_chars: int
    ocr_spans: list[Any] | None  # where the lines read in images went; None: no OCR text
    analysis: Analysis

    def apply_to(self, item: CaptureItem) -> None:
        item.text, item.title, item.body_chars = self.text, self.title, self.body_chars
        item.analysis = self.analysis
        if self.ocr_spans is not None:
            item.ocr_spans = self.ocr_spans


class PageAnalyser:
    """The analysis of one page or one result page's ads, with the rule packs and the reference lookups:
    the same function on the reactor's thread (`PageAnalysisPipeline`) and in a worker process
    (`crawler.pipelines.analysis_pool`)."""

    def __init__(self, ruleset: RuleSet, registry: SqlRegistry | None = None,
                 blacklist: SqlBlacklist | None = None) -> None:
        self.ruleset = ruleset
        self.registry = registry
        self.blacklist = blacklist

    def page(self, html: str, url: str, server_ip: str | None, ocr_results: list[Any]) -> PageAnalysis:
        document = extract_document(html, url)
        body_chars = sum(part.end - part.start for part in document.sections if part.scope == "body")
        ocr_spans: list[Any] | None = None
        if ocr_results:  # text read in the page's images (ImageTextPipeline), scope "ocr"
            document, ocr_spans = with_ocr_text(document, ocr_results)
        title = next((document.text[s.start:s.end] for s in document.sections if s.scope == "title"), None)
        signals = reference_signals(document.text, host=urlsplit(url).hostname, server_ip=server_ip,
                                    registry=self.registry, blacklist=self.blacklist)
        return PageAnalysis(text=document.text, title=title, body_chars=body_chars, ocr_spans=ocr_spans,
                            analysis=self.ruleset.analyse(document, signals=signals))

    def ads(self, results: list[SerpResult]) -> dict[int, Analysis]:
        # Ad copy is an advertisement in its own right (广告法): analysed in scope "ad".
        return {
            index: self.ruleset.analyse(TextDocument.from_parts([("ad", f"{result.title}\n{result.snippet}")]))
            for index, result in enumerate(results) if result.is_ad
        }


def open_analyser(ruleset: RuleSet, engine: Engine | None) -> tuple[PageAnalyser, Session | None]:
    """An analyser with reference lookups in a session of its own on `engine` (None: no lookups), and that
    session (the caller closes it)."""
    if engine is None:
        return PageAnalyser(ruleset), None
    session = session_factory(engine)()
    return PageAnalyser(ruleset, SqlRegistry(session), SqlBlacklist(session)), session


class PageAnalysisPipeline:
    def __init__(self, crawler: Crawler, paths: list[Path], database_url: str) -> None:
        self.crawler = crawler
        self.paths = paths
        self.database_url = database_url
        self.ruleset: RuleSet | None = None
        self.engine = make_engine(database_url) if database_url else None
        self.session: Session | None = None
        self.analyser: PageAnalyser | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageAnalysisPipeline:
        return cls(crawler, [Path(p) for p in crawler.settings.getlist("RULES_PATHS")],
                   crawler.settings.get("STORE_DATABASE_URL", ""))

    def open_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        self.ruleset = self._load_ruleset()
        self.analyser = self._open_analyser()

    def _load_ruleset(self) -> RuleSet:
        # A caller that already loaded (and so validated) the packs hands them to the spider;
        # settings cannot carry them (Scrapy copies settings, and a compiled matcher does not copy).
        cache = self.crawler.settings.get("RULES_CACHE_DIR")
        return getattr(self.crawler.spider, "ruleset", None) or load_ruleset(
            self.paths or None, cache_dir=Path(cache) if cache else None)

    def _open_analyser(self) -> PageAnalyser:
        self.analyser, self.session = open_analyser(self._ruleset, self.engine)
        return self.analyser

    def close_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        if self.session is not None:
            self.session.close()
        if self.engine is not None:
            self.engine.dispose()

    def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def]
        assert self.analyser is not None, "open_spider loads the rule packs"
        if isinstance(item, CaptureItem) and item.html is not None:
            self.analyser.page(item.html, item.final_url or item.url, item.server_ip, item.ocr_results).apply_to(item)
        elif isinstance(item, SerpPageItem):
            item.ad_analyses = self.analyser.ads(item.results)
        return item

    @property
    def _ruleset(self) -> RuleSet:
        assert self.ruleset is not None, "open_spider loads the rule packs"
        return self.ruleset


class ImageTextAnalysisPipeline(PageAnalysisPipeline):
    """The analysis of a page again, with the lines read in its images (scope `ocr`), when the image step
    read any; other items pass untouched. Off with OCR (NotConfigured)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImageTextAnalysisPipeline:
        if not crawler.settings.getbool("OCR_ENABLED"):
            raise NotConfigured
        return cls(crawler, [Path(p) for p in crawler.settings.getlist("RULES_PATHS")],
                   crawler.settings.get("STORE_DATABASE_URL", ""))

    def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def]
        if isinstance(item, CaptureItem) and item.ocr_results:
            return super().process_item(item, spider)
        return item
