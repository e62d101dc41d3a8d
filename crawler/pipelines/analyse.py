"""Analysis step: run the rule packs on a captured page's text, and on the text of search ads."""

from __future__ import annotations

from pathlib import Path

from scrapy.crawler import Crawler

from crawler.extract import extract_document
from crawler.items import CaptureItem, SerpPageItem
from rules import RuleSet, TextDocument, load_ruleset


class PageAnalysisPipeline:
    def __init__(self, crawler: Crawler, paths: list[Path]) -> None:
        self.crawler = crawler
        self.paths = paths
        self.ruleset: RuleSet | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageAnalysisPipeline:
        return cls(crawler, [Path(p) for p in crawler.settings.getlist("RULES_PATHS")])

    def open_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        # A caller that already loaded (and so validated) the packs hands them to the spider;
        # settings cannot carry them (Scrapy copies settings, and a compiled matcher does not copy).
        self.ruleset = getattr(self.crawler.spider, "ruleset", None) or load_ruleset(self.paths or None)

    def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def]
        if isinstance(item, CaptureItem) and item.html is not None:
            document = extract_document(item.html, item.final_url or item.url)
            item.text = document.text
            item.title = next(
                (document.text[s.start:s.end] for s in document.sections if s.scope == "title"), None
            )
            item.analysis = self._ruleset.analyse(document)
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
