"""StorePipeline and the site rows: a site is looked up once per crawl, yet every page still moves its
`last_seen`, and a site row created in a transaction that failed is never taken as stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crawler.items import CaptureItem
from crawler.pipelines.store import StorePipeline
from storage.models import Capture, Site
from tests.crawler.in_process import project_crawler
from tests.crawler.pipelines.conftest import Store


def page(url: str) -> CaptureItem:
    return CaptureItem(url=url, site="shop-1.test", final_url=url, status_code=200,
                       content_type="text/html; charset=utf-8", body=b"<html><body>page</body></html>")


def test_every_page_moves_its_site_s_last_seen_with_one_row_per_site(store: Store) -> None:
    keep = StorePipeline.from_crawler(project_crawler(**store.settings()))
    keep.process_item(page("http://shop-1.test/"))
    with store.session() as session:
        first_seen_then = session.scalar(select(Site.last_seen))
    keep.process_item(page("http://shop-1.test/p1.html"))
    keep.close_spider()
    with store.session() as session:
        (site,) = session.scalars(select(Site)).all()
        assert site.domain == "shop-1.test" and site.last_seen > first_seen_then
        assert {c.site_id for c in session.scalars(select(Capture))} == {site.id}


def test_a_site_created_by_a_failed_store_is_created_again_by_the_next_page(store: Store) -> None:
    keep = StorePipeline.from_crawler(project_crawler(**store.settings()))
    broken = page("http://shop-1.test/")
    broken.url = None  # type: ignore[assignment]  # the database refuses a capture without its URL
    with pytest.raises(IntegrityError):
        keep.process_item(broken)
    keep.process_item(page("http://shop-1.test/p1.html"))
    keep.close_spider()
    with store.session() as session:
        (site,) = session.scalars(select(Site)).all()
        (capture,) = session.scalars(select(Capture)).all()
        assert capture.site_id == site.id
