"""EgressProxyMiddleware in-process: every plain request leaves through EGRESS_PROXY when set;
a request that names its own proxy (a search engine's, crawler/spiders/search.py) keeps it."""

from __future__ import annotations

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import Request

from crawler.middlewares.egress_proxy import EgressProxyMiddleware
from tests.crawler.in_process import project_crawler


def test_no_proxy_set_switches_it_off() -> None:
    with pytest.raises(NotConfigured):
        EgressProxyMiddleware.from_crawler(project_crawler())


def test_requests_get_the_egress_proxy_unless_they_name_their_own(demo_web: str) -> None:
    middleware = EgressProxyMiddleware.from_crawler(project_crawler(EGRESS_PROXY=demo_web))
    plain = Request("http://tangan-cure.test/")
    assert middleware.process_request(plain) is None and plain.meta["proxy"] == demo_web
    own = Request("http://search.test/s?wd=x", meta={"proxy": "http://127.0.0.1:9"})
    middleware.process_request(own)
    assert own.meta["proxy"] == "http://127.0.0.1:9"


def test_it_runs_before_the_address_guard_judges_the_request() -> None:
    from crawler.settings import DOWNLOADER_MIDDLEWARES_BASE_PHARMWATCH as order

    guard = order["crawler.middlewares.address_guard.AddressGuardMiddleware"]
    assert order["crawler.middlewares.egress_proxy.EgressProxyMiddleware"] < guard  # the guard sees the proxy
