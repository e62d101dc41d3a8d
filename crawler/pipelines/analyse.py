"""Analysis step: run the rule packs on a captured page's text, and on the text of search ads; with OCR on,
run them again on a page whose images were read (`ImageTextAnalysisPipeline`, after the image step, which
chooses pages from the first analysis).

Reference checks come first (rules.reference: licence and approval numbers against the
registries in the database, ICP, hosting country) and are handed to the rules as page signals.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy.orm import Session

from crawler.extract import extract_document
from crawler.items import CaptureItem, SerpPageItem
from crawler.ocr import with_ocr_text
from crawler.registry_lookup import SqlBlacklist, SqlRegistry
from rules import RuleSet, TextDocument, load_ruleset
from rules.reference.checks import reference_signals
from storage.db import make_engine, session_factory


class PageAnalysisPipeline:
    def __init__(self, crawler: Crawler, paths: list[Path], database_url: str) -> None:
        self.crawler = crawler
        self.paths = paths
        self.ruleset: RuleSet | None = None
        self.engine = make_engine(database_url) if database_url else None
        self.session: Session | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageAnalysisPipeline:
        return cls(crawler, [Path(p) for p in crawler.settings.getlist("RULES_PATHS")],
                   crawler.settings.get("STORE_DATABASE_URL", ""))

    def open_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        # A caller that already loaded (and so validated) the packs hands them to the spider;
        # settings cannot carry them (Scrapy copies settings, and a compiled matcher does not copy).
        self.ruleset = getattr(self.crawler.spider, "ruleset", None) or load_ruleset(self.paths or None)
        if self.engine is not None:
            self.session = session_factory(self.engine)()
            self.registry: SqlRegistry | None = SqlRegistry(self.session)
            self.blacklist: SqlBlacklist | None = SqlBlacklist(self.session)
        else:
            self.registry = None
            self.blacklist = None

    def close_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        if self.session is not None:
            self.session.close()
        if self.engine is not None:
            self.engine.dispose()

    def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def]
        if isinstance(item, CaptureItem) and item.html is not None:
            document = extract_document(item.html, item.final_url or item.url)
            item.body_chars = sum(part.end - part.start for part in document.sections if part.scope == "body")
            if item.ocr_results:  # text read in the page's images (ImageTextPipeline), scope "ocr"
                document, item.ocr_spans = with_ocr_text(document, item.ocr_results)
            item.text = document.text
            item.title = next(
                (document.text[s.start:s.end] for s in document.sections if s.scope == "title"), None
            )
            host = urlsplit(item.final_url or item.url).hostname
            signals = reference_signals(document.text, host=host, server_ip=item.server_ip, registry=self.registry,
                                        blacklist=self.blacklist)
            item.analysis = self._ruleset.analyse(document, signals=signals)
        elif isinstance(item, SerpPageItem):
            # Ad copy is an advertisement in its own right (广告法): analysed in scope "ad".
            item.ad_analyses = {
                index: self._ruleset.analyse(TextDocument.from_parts([("ad", f"{result.title}\n{result.snippet}")]))
                for index, result in enumerate(item.results) if result.is_ad
            }
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
