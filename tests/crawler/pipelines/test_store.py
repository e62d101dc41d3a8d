"""StorePipeline in-process: each analysed item becomes rows, blobs (body, text, WARC) and an
audit event in one transaction; storing the same item again in the same scan adds nothing."""

from __future__ import annotations

import io

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from crawler.items import CaptureItem, SerpPageItem
from crawler.pipelines.analyse import PageAnalysisPipeline
from crawler.pipelines.store import StorePipeline
from crawler.serp import build_search_url, parse_serp
from crawler.spiders.site import SiteSpider
from demo.search_engine import handle
from rules import RuleSet
from storage.audit import verify_chain
from storage.blobs import BlobStore
from storage.models import AuditEvent, Capture, Finding, SearchQueryRun, SerpObservation
from tests.crawler.in_process import fetch, project_crawler, with_spider
from tests.crawler.pipelines.conftest import Store


def pipelines(ruleset: RuleSet, store: Store) -> tuple[PageAnalysisPipeline, StorePipeline]:
    crawler = project_crawler(SiteSpider, **store.settings(), USER_AGENT="PharmWatch test", EGRESS_PROXY="")
    with_spider(crawler, ruleset=ruleset)
    analyse = PageAnalysisPipeline.from_crawler(crawler)
    analyse.open_spider()
    return analyse, StorePipeline.from_crawler(crawler)


def test_without_a_database_and_scan_run_it_is_off() -> None:
    with pytest.raises(NotConfigured):
        StorePipeline.from_crawler(project_crawler())


def test_a_flagged_capture_is_stored_with_its_findings_blobs_warc_and_audit_event(
        ruleset: RuleSet, store: Store, demo_web: str) -> None:
    analyse, keep = pipelines(ruleset, store)
    url = "http://tangan-cure.test/"
    spider = with_spider(project_crawler(SiteSpider))
    response = fetch(demo_web, url, Request(url, meta={"site": "tangan-cure.test", "site_depth": 0,
                                                       "rendered": False}))
    item = analyse.process_item(next(iter(spider.parse_page(response))))
    keep.process_item(item)
    keep.process_item(item)  # a resumed scan stores the same page again: nothing is duplicated
    keep.close_spider()
    with store.session() as session:
        (capture,) = session.scalars(select(Capture)).all()
        findings = session.scalars(select(Finding)).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "captured")).all()
        assert verify_chain(session) == []  # the audit log stays one intact chain
    assert (capture.scan_run_id, capture.url, capture.status_code) == (store.scan_run_id, url, 200)
    assert capture.risk == item.analysis.risk and capture.title == item.title
    assert {f.rule_id for f in findings} == {f.rule_id for f in item.analysis.findings}
    assert all(f.capture_id == capture.id and f.serp_observation_id is None for f in findings)
    blobs = BlobStore(store.blob_dir)
    assert blobs.get(capture.body_sha256, ".html") == response.body
    assert blobs.get(capture.text_sha256, ".txt").decode("utf-8") == item.text
    kinds = [r.rec_type for r in ArchiveIterator(io.BytesIO(blobs.get(capture.warc_sha256, ".warc.gz")))]
    assert kinds == ["request", "response", "metadata"]
    (event,) = events
    assert event.subject == f"capture:{capture.id}" and event.details["warc_sha256"] == capture.warc_sha256


def test_the_hops_of_a_redirect_chain_are_kept_in_the_captures_signals(ruleset: RuleSet, store: Store,
                                                                      demo_web: str) -> None:
    from cases.networks import redirect_chain

    analyse, keep = pipelines(ruleset, store)
    door, hop, shop = ("http://door-a.test/", "http://search.test/link?url=http%3A%2F%2Ftangan-cure.test%2F",
                       "http://tangan-cure.test/")
    spider = with_spider(project_crawler(SiteSpider))
    # As Scrapy's RedirectMiddleware leaves it: every URL before the final one, the first the one asked for.
    response = fetch(demo_web, shop, Request(shop, meta={"site": "door-a.test", "site_depth": 0, "rendered": False,
                                                         "redirect_urls": [door, hop]}))
    item = next(iter(spider.parse_page(response)))
    assert (item.url, item.redirect_hops, item.final_url) == (door, [hop], shop)
    keep.process_item(analyse.process_item(item))
    with store.session() as session:
        (capture,) = session.scalars(select(Capture)).all()
    assert capture.signals["redirect_hops"] == [hop]
    assert redirect_chain(capture) == ["door-a.test", "search.test", "tangan-cure.test"]


def test_a_failed_fetch_is_stored_with_its_reason_and_no_warc(ruleset: RuleSet, store: Store) -> None:
    _, keep = pipelines(ruleset, store)
    keep.process_item(CaptureItem(url="http://unknown-host.test/", site="unknown-host.test",
                                  error="DNS lookup failed: unknown-host.test"))
    with store.session() as session:
        (capture,) = session.scalars(select(Capture)).all()
    assert capture.error.startswith("DNS lookup failed") and capture.warc_sha256 is None
    assert capture.body_sha256 is None and capture.risk == "none"


def test_a_result_page_is_stored_with_its_results_and_the_findings_of_its_ads(ruleset: RuleSet,
                                                                               store: Store) -> None:
    analyse, keep = pipelines(ruleset, store)
    url = build_search_url("mock", "降糖药", 1)
    _, _, body = handle(url)
    item = analyse.process_item(SerpPageItem(engine="mock", query="降糖药", page=1, url=url, status="ok",
                                             body=body, results=list(parse_serp(body, url=url, engine="mock").results)))
    keep.process_item(item)
    keep.process_item(item)
    with store.session() as session:
        (query_run,) = session.scalars(select(SearchQueryRun)).all()
        observations = session.scalars(select(SerpObservation).order_by(SerpObservation.id)).all()
        ad_findings = session.scalars(select(Finding).where(Finding.serp_observation_id.is_not(None))).all()
    assert (query_run.engine, query_run.query, query_run.status) == ("mock", "降糖药", "ok")
    assert [(o.rank, o.is_ad, o.url) for o in observations] == [(r.rank, r.is_ad, r.url) for r in item.results]
    flagged_ads = {i for i, analysis in item.ad_analyses.items() if analysis.findings}
    assert flagged_ads and {f.serp_observation_id for f in ad_findings} == {observations[i].id for i in flagged_ads}
    assert all(f.capture_id is None for f in ad_findings)
