"""Address guard: the crawler refuses private, loopback, link-local and reserved addresses.

Crawled links are hostile: a public-looking page can point the crawler at the regulator's own
network. Allow-listed networks or host names (GUARD_ALLOW) pass; the demo allow-lists loopback.
With an egress proxy the proxy resolves names, so only literal addresses and `localhost` are
judged here; without one, names are resolved and every address they resolve to is judged.
`request.meta["guard_allow"] = True` lets one request through. Refusals are counted in stats.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(IgnoreRequest):
    """The request's address is private or reserved and not allow-listed."""


class AddressGuardMiddleware:
    def __init__(self, allow: list[str], resolve_names: bool, stats=None) -> None:  # type: ignore[no-untyped-def]
        self.networks: list[Network] = []
        self.hosts: set[str] = set()
        for entry in allow:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.lower())
        self.resolve_names = resolve_names
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        if not crawler.settings.getbool("GUARD_ENABLED"):
            raise NotConfigured
        return cls(
            allow=crawler.settings.getlist("GUARD_ALLOW"),
            resolve_names=not crawler.settings.get("EGRESS_PROXY"),
            stats=crawler.stats,
        )

    def process_request(self, request: Request, spider=None) -> None:  # type: ignore[no-untyped-def]
        if request.meta.get("guard_allow"):
            return None
        reason = self.refusal(request.url)
        if reason:
            if self.stats:
                self.stats.inc_value("guard/refused")
            raise AddressRefused(reason)
        return None

    def refusal(self, url: str) -> str | None:
        """Why this URL must not be fetched, or None when it may."""
        host = (urlsplit(url).hostname or "").lower()
        if not host or host in self.hosts:
            return None
        for address in self._addresses(host):
            if self._forbidden(address) and not any(address in net for net in self.networks):
                return f"refused: {host} is a private or reserved address ({address})"
        return None

    def _addresses(self, host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        if host == "localhost" or host.endswith(".localhost"):
            return [ipaddress.ip_address("127.0.0.1")]
        if not self.resolve_names:
            return []
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError:
            return []  # the download itself will fail with the DNS error, recorded as the reason
        return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]

    @staticmethod
    def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return not address.is_global or address.is_multicast
