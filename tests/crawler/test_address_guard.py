"""The address guard refuses private and reserved addresses unless allow-listed."""

from __future__ import annotations

import pytest
from scrapy.http import Request

from crawler.middlewares.address_guard import AddressGuardMiddleware, AddressRefused


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/admin", "http://10.0.0.5/", "http://192.168.1.1/", "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://localhost:8080/", "http://0.0.0.0/",
])
def test_private_and_reserved_addresses_are_refused(url: str) -> None:
    guard = AddressGuardMiddleware(allow=[], resolve_names=False)
    with pytest.raises(AddressRefused, match="private or reserved"):
        guard.process_request(Request(url))


def test_allow_listed_networks_pass() -> None:
    guard = AddressGuardMiddleware(allow=["127.0.0.0/8"], resolve_names=False)
    assert guard.process_request(Request("http://127.0.0.1:8765/")) is None
    with pytest.raises(AddressRefused):
        guard.process_request(Request("http://10.1.2.3/"))


def test_public_addresses_and_proxied_names_pass() -> None:
    guard = AddressGuardMiddleware(allow=[], resolve_names=False)
    assert guard.process_request(Request("http://8.8.8.8/")) is None
    assert guard.process_request(Request("http://tangan-cure.test/")) is None


def test_names_resolving_to_private_addresses_are_refused_without_a_proxy() -> None:
    guard = AddressGuardMiddleware(allow=[], resolve_names=True)
    with pytest.raises(AddressRefused):
        guard.process_request(Request("http://localhost/"))
