"""The address policy: one verdict for every fetch path, names resolved once per host."""

from __future__ import annotations

import asyncio

import pytest

from crawler.addresses import AddressPolicy, HostResolver


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/admin", "http://10.0.0.5/", "http://192.168.1.1/", "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://localhost:8080/", "http://0.0.0.0/",
    "http://[fe80::1]/", "http://224.0.0.1/", "http://app.localhost/",
])
def test_private_reserved_and_multicast_addresses_are_refused(url: str) -> None:
    reason = AddressPolicy([], resolve_names=False).refusal(url)
    assert reason is not None and "private or reserved" in reason


def test_allow_list_takes_networks_and_host_names() -> None:
    policy = AddressPolicy(["127.0.0.0/8", "intranet.example"], resolve_names=False)
    assert policy.refusal("http://127.0.0.2:8765/") is None
    assert policy.refusal("http://10.1.2.3/") is not None


def test_names_are_judged_only_when_connections_are_direct() -> None:
    resolver = HostResolver({"internal.example": "10.0.0.7", "public.example": "8.8.8.8"})
    direct = AddressPolicy([], resolve_names=True, resolver=resolver)
    assert "10.0.0.7" in (direct.refusal("http://internal.example/") or "")
    assert direct.refusal("http://public.example/") is None
    proxied = AddressPolicy([], resolve_names=False, resolver=resolver)
    assert proxied.refusal("http://internal.example/") is None  # the egress proxy resolves names


def test_a_name_is_resolved_once_and_off_the_event_loop() -> None:
    resolver = HostResolver()
    policy = AddressPolicy([], resolve_names=True, resolver=resolver)
    assert policy.needs_resolving("http://localhost.localdomain/")
    asyncio.run(policy.refusal_async("http://localhost.localdomain/"))
    assert resolver.is_cached("localhost.localdomain")
    assert not policy.needs_resolving("http://localhost.localdomain/other")


def test_the_resolver_cache_is_bounded() -> None:
    resolver = HostResolver(max_hosts=2)
    for host in ("a.invalid", "b.invalid", "c.invalid"):
        assert resolver.addresses(host) == ()  # does not resolve: cached as no address
    assert not resolver.is_cached("a.invalid") and resolver.is_cached("c.invalid")
