"""What Chromium routes through Python (crawler/browser.py: judged_urls): everything when the address policy
resolves names; behind a proxy, only URLs with literal addresses or localhost names (all the policy can
refuse there) and the page's own navigation; nothing else waits for a round trip through Python."""

from __future__ import annotations

import re

import pytest

from crawler.addresses import AddressPolicy
from crawler.browser import judged_urls

BEHIND_A_PROXY = AddressPolicy([], resolve_names=False)


def _routed(url: str, page_url: str = "http://shop1.test/") -> bool:
    pattern = judged_urls(BEHIND_A_PROXY, page_url)
    assert isinstance(pattern, re.Pattern)
    return pattern.search(url) is not None


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/pixel.png", "http://192.168.1.1:8080/admin", "https://[::1]/", "http://[fe80::1]/frame",
    "http://localhost/", "http://intranet.localhost./x", "http://user@172.16.0.1/", "http://127.0.0.1",
])
def test_urls_the_policy_can_refuse_behind_a_proxy_are_routed(url: str) -> None:
    assert _routed(url)
    assert BEHIND_A_PROXY.refusal(url) is not None


@pytest.mark.parametrize("url", [
    "http://shop1.test/style.css", "http://cdn.example.com/a.png", "http://1.2.3.4.example.com/",
    "http://localhostx.com/", "http://example.com/?next=http://10.0.0.1/", "http://127.0.0.1.nip.io/",
])
def test_sub_resources_on_named_hosts_are_not_routed_behind_a_proxy(url: str) -> None:
    assert not _routed(url)
    assert BEHIND_A_PROXY.refusal(url) is None  # the policy would have let them through anyway


def test_the_page_itself_is_routed_with_or_without_its_trailing_slash() -> None:
    assert _routed("http://shop1.test/") and _routed("http://shop1.test", "http://shop1.test/")
    assert _routed("http://shop1.test/a?b=1&c=(2)", "http://shop1.test/a?b=1&c=(2)")
    assert not _routed("http://shop1.test/a?b=1", "http://shop1.test/a")


def test_everything_is_routed_when_the_policy_resolves_names() -> None:
    assert judged_urls(AddressPolicy([], resolve_names=True), "http://shop1.test/") == "**"


def test_without_a_guard_only_the_page_is_routed_and_a_context_routes_nothing() -> None:
    pattern = judged_urls(None, "http://shop1.test/")
    assert isinstance(pattern, re.Pattern) and pattern.search("http://shop1.test/")
    assert not pattern.search("http://10.0.0.1/")
    assert judged_urls(None) is None
