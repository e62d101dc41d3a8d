"""PageAnalysisPipeline in-process: the site spider's capture of a real demo page is analysed with
the spider's rule packs (reference checks against the database's registries as signals), and the
ads of a result page are analysed in scope "ad"."""

from __future__ import annotations

import shutil
from pathlib import Path

from scrapy.http import Request

from cases.registries import import_csv
from crawler.items import CaptureItem, SerpPageItem
from crawler.pipelines.analyse import PageAnalysisPipeline
from crawler.serp import build_search_url, parse_serp
from crawler.spiders.site import SiteSpider
from demo.search_engine import handle
from rules import RuleSet
from storage.db import make_engine, session_factory, transaction
from tests.crawler.in_process import fetch, project_crawler, with_spider
from tests.crawler.pipelines.conftest import Store

ROOT = Path(__file__).resolve().parents[3]


def captured(demo_web: str, url: str) -> CaptureItem:
    """What the site spider yields first for a site's home page fetched from the demo web."""
    request = Request(url, meta={"site": url.split("/")[2], "site_depth": 0, "rendered": False})
    spider = with_spider(project_crawler(SiteSpider))
    item = next(iter(spider.parse_page(fetch(demo_web, url, request))))
    assert isinstance(item, CaptureItem)
    return item


def opened(ruleset: RuleSet | None, **settings: object) -> PageAnalysisPipeline:
    crawler = project_crawler(SiteSpider, **settings)
    with_spider(crawler, **({"ruleset": ruleset} if ruleset else {}))
    pipeline = PageAnalysisPipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def test_a_captured_claim_page_gets_text_title_and_findings(ruleset: RuleSet, demo_web: str) -> None:
    pipeline = opened(ruleset)
    item = pipeline.process_item(captured(demo_web, "http://tangan-cure.test/"))
    pipeline.close_spider()
    assert item.analysis.flagged and item.analysis.risk in {"medium", "high", "critical"}
    assert item.title and item.title in item.text
    assert any(f.category == "disease_cure_claim" for f in item.analysis.findings)
    for finding in item.analysis.findings:
        assert all(0 <= start < end <= len(item.text) for start, end in finding.spans)


def test_reference_checks_use_the_registries_in_the_database(ruleset: RuleSet, store: Store,
                                                            demo_web: str) -> None:
    with transaction(session_factory(make_engine(store.url))) as session:
        for path in sorted((ROOT / "demo" / "registry").glob("*.csv")):
            import_csv(session, path.stem, path)
    without = opened(ruleset)
    with_registry = opened(ruleset, STORE_DATABASE_URL=store.url)
    plain = without.process_item(captured(demo_web, "http://kangjian-pharmacy.test/")).analysis.signals
    checked = with_registry.process_item(captured(demo_web, "http://kangjian-pharmacy.test/")).analysis.signals
    with_registry.close_spider()
    assert plain["shows_licence"] is True and plain.get("licence_valid") is None  # no registry: not checked
    assert checked["licence_valid"] is True  # the pharmacy's licence is in demo/registry


def test_a_failed_capture_passes_unanalysed(ruleset: RuleSet) -> None:
    item = CaptureItem(url="http://unknown-host.test/", site="unknown-host.test", error="DNS lookup failed")
    assert opened(ruleset).process_item(item).analysis is None


def mock_serp_item() -> SerpPageItem:
    """The mock engine's first result page for 降糖药 (it has ads), as the search spider yields it."""
    url = build_search_url("mock", "降糖药", 1)
    status, _headers, body = handle(url)
    assert status == 200
    page = parse_serp(body, url=url, engine="mock")
    return SerpPageItem(engine="mock", query="降糖药", page=1, url=url, status="ok", body=body,
                        results=list(page.results))


def test_ads_on_a_result_page_are_analysed_in_scope_ad(ruleset: RuleSet) -> None:
    item = mock_serp_item()
    opened(ruleset).process_item(item)
    ads = {i for i, r in enumerate(item.results) if r.is_ad}
    assert ads and set(item.ad_analyses) == ads
    assert any(analysis.flagged for analysis in item.ad_analyses.values())


def test_without_a_handed_ruleset_the_packs_in_rules_paths_are_loaded(tmp_path: Path) -> None:
    pack = tmp_path / "disease_cure_claim"
    pack.mkdir()
    shutil.copy(ROOT / "rules" / "packs" / "disease_cure_claim" / "gout_cure.yaml", pack)
    pipeline = opened(None, RULES_PATHS=[str(tmp_path)])
    assert [rule.path.name for rule in pipeline.ruleset.rules] == ["gout_cure.yaml"]
