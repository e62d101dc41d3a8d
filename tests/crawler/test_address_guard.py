"""The address guard middleware refuses Scrapy requests the address policy refuses, and counts them."""

from __future__ import annotations

import asyncio

import pytest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from crawler.addresses import AddressPolicy
from crawler.middlewares.address_guard import AddressGuardMiddleware, AddressRefused


def _guard(allow: list[str], resolve_names: bool) -> AddressGuardMiddleware:
    return AddressGuardMiddleware(AddressPolicy(allow, resolve_names=resolve_names))


def _process(guard: AddressGuardMiddleware, url: str, **meta: object) -> None:
    return asyncio.run(guard.process_request(Request(url, meta=meta)))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/admin", "http://10.0.0.5/", "http://192.168.1.1/", "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://localhost:8080/", "http://0.0.0.0/",
])
def test_private_and_reserved_addresses_are_refused(url: str) -> None:
    guard = _guard([], False)
    with pytest.raises(AddressRefused, match="private or reserved"):
        _process(guard, url)


def test_allow_listed_networks_pass() -> None:
    guard = _guard(["127.0.0.0/8"], False)
    assert _process(guard, "http://127.0.0.1:8765/") is None
    with pytest.raises(AddressRefused):
        _process(guard, "http://10.1.2.3/")


def test_public_addresses_and_proxied_names_pass() -> None:
    guard = _guard([], False)
    assert _process(guard, "http://8.8.8.8/") is None
    assert _process(guard, "http://tangan-cure.test/") is None


def test_names_resolving_to_private_addresses_are_refused_without_a_proxy() -> None:
    guard = _guard([], True)
    with pytest.raises(AddressRefused):
        _process(guard, "http://localhost/")


def test_the_middleware_is_built_from_settings_and_counts_refusals() -> None:
    crawler = get_crawler(settings_dict={"GUARD_ENABLED": True, "GUARD_ALLOW": ["127.0.0.0/8"],
                                         "EGRESS_PROXY": "http://127.0.0.1:1"})
    guard = AddressGuardMiddleware.from_crawler(crawler)
    assert _process(guard, "http://127.0.0.1/") is None
    with pytest.raises(AddressRefused):
        _process(guard, "http://10.0.0.1/")
    assert _process(guard, "http://10.0.0.1/", guard_allow=True) is None  # one request let through
    assert crawler.stats.get_value("guard/refused") == 1


def test_the_middleware_is_off_when_the_guard_is_disabled() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        AddressGuardMiddleware.from_crawler(get_crawler(settings_dict={"GUARD_ENABLED": False}))
