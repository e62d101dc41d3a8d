"""Address guard middleware: Scrapy's requests go through the address policy (`crawler/addresses.py`).

A thin wrapper, as Scrapy's RetryMiddleware is over `get_retry_request`: the policy decides, this
refuses the request with the reason and counts it (`guard/refused`). Redirect hops come through
again as new requests. `request.meta["guard_allow"] = True` lets one request through.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request

from crawler.addresses import AddressPolicy


class AddressRefused(IgnoreRequest):
    """The request's address is private or reserved and not allow-listed."""


def policy_from_settings(settings) -> AddressPolicy:  # type: ignore[no-untyped-def]
    """The crawl's address policy: GUARD_ALLOW let through; names judged only without EGRESS_PROXY."""
    return AddressPolicy(settings.getlist("GUARD_ALLOW"), resolve_names=not settings.get("EGRESS_PROXY"))


class AddressGuardMiddleware:
    def __init__(self, policy: AddressPolicy, stats=None) -> None:  # type: ignore[no-untyped-def]
        self.policy = policy
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        if not crawler.settings.getbool("GUARD_ENABLED"):
            raise NotConfigured
        return cls(policy_from_settings(crawler.settings), stats=crawler.stats)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("guard_allow"):
            return None
        reason = await self.policy.refusal_async(request.url)  # DNS off the reactor thread
        if reason:
            if self.stats:
                self.stats.inc_value("guard/refused")
            raise AddressRefused(reason)
        return None
