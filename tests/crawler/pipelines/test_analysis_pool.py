"""PooledPageAnalysisPipeline: pages analysed in worker processes forked with the spider's rule packs
come back exactly as the reactor-thread analysis makes them (text, title, findings, signals of the
reference checks against the database's registries); ads of a result page likewise."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from cases.registries import import_csv
from crawler.items import CaptureItem
from crawler.pipelines.analysis_pool import PooledPageAnalysisPipeline
from crawler.spiders.site import SiteSpider
from rules import RuleSet
from storage.db import make_engine, session_factory, transaction
from tests.crawler.in_process import project_crawler, with_spider
from tests.crawler.pipelines.conftest import Store
from tests.crawler.pipelines.test_analyse import captured, mock_serp_item, opened

ROOT = Path(__file__).resolve().parents[3]
PAGES = ["http://kangjian-pharmacy.test/", "http://tangan-cure.test/", "http://gbk-yaofang.test/",
         "http://overseas-meds.test/"]


def pooled(ruleset: RuleSet, **settings: object) -> PooledPageAnalysisPipeline:
    crawler = project_crawler(SiteSpider, **settings)
    with_spider(crawler, ruleset=ruleset)
    pipeline = PooledPageAnalysisPipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def analysed(item: CaptureItem) -> tuple[object, ...]:
    analysis = item.analysis
    assert analysis is not None
    return (item.text, item.title, item.body_chars, analysis.risk, analysis.signals,
            [(f.rule_id, f.severity, f.spans, f.excerpt) for f in analysis.findings])


def test_pages_analysed_in_worker_processes_match_the_analysis_in_the_crawl_process(
        ruleset: RuleSet, store: Store, demo_web: str) -> None:
    with transaction(session_factory(make_engine(store.url))) as session:
        for path in sorted((ROOT / "demo" / "registry").glob("*.csv")):
            import_csv(session, path.stem, path)
    here = opened(ruleset, STORE_DATABASE_URL=store.url)
    expected = [analysed(here.process_item(captured(demo_web, url))) for url in PAGES]
    here.close_spider()

    pool = pooled(ruleset, STORE_DATABASE_URL=store.url, ANALYSE_WORKERS=2)
    assert pool.pool is not None
    workers = set(pool.pool._processes)  # the forked workers, started when the pipeline opened

    async def analyse_all() -> list[object]:
        return await asyncio.gather(*(pool.process_item(captured(demo_web, url)) for url in PAGES))

    items = asyncio.run(analyse_all())
    pool.close_spider()
    assert len(workers) == 2 and os.getpid() not in workers
    assert [analysed(item) for item in items] == expected  # type: ignore[arg-type]
    assert expected[0][4]["licence_valid"] is True  # the registry was read in the worker too


def test_ads_are_analysed_in_a_worker_and_failed_captures_pass_unanalysed(ruleset: RuleSet) -> None:
    item = mock_serp_item()
    failed = CaptureItem(url="http://unknown-host.test/", site="unknown-host.test", error="DNS lookup failed")
    pool = pooled(ruleset, ANALYSE_WORKERS=1)

    async def analyse_both() -> list[object]:
        return [await pool.process_item(item), await pool.process_item(failed)]

    asyncio.run(analyse_both())
    pool.close_spider()
    ads = {i for i, r in enumerate(item.results) if r.is_ad}
    assert ads and set(item.ad_analyses) == ads and any(a.flagged for a in item.ad_analyses.values())
    assert failed.analysis is None


def test_with_no_workers_pages_are_analysed_in_the_crawl_process(ruleset: RuleSet, demo_web: str) -> None:
    pipeline = pooled(ruleset, ANALYSE_WORKERS=0)
    assert pipeline.pool is None
    item = asyncio.run(pipeline.process_item(captured(demo_web, "http://tangan-cure.test/")))
    pipeline.close_spider()
    assert item.analysis.flagged  # type: ignore[attr-defined]
