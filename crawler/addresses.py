"""The address policy: which URLs the crawler may fetch, and the one home of host-name resolution.

Crawled links are hostile: a public-looking page, or a redirect it answers with, can point the
crawler at the regulator's own network (10.x, 127.x, the cloud metadata address 169.254.169.254).
`AddressPolicy.refusal(url)` is a plain function every fetch path asks — Scrapy's requests (the
`AddressGuardMiddleware` wraps it), every request inside Chromium (`crawler/browser.py`), each
redirect hop of `pharmwatch check`, and tips when they are entered (`cases/tips.py`).

With an egress proxy the proxy resolves names, so only literal addresses and `localhost` are
judged; without one, names are resolved (`HostResolver`, cached per host) and every address they
resolve to is judged. Resolution blocks, so callers on an event loop use `refusal_async`, which
resolves in a worker thread. Known limit: the guard and the download resolve separately, so a
name whose DNS answer changes in between (rebinding) is caught only by an egress proxy that
refuses private addresses itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections import OrderedDict
from collections.abc import Iterable
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

RESOLVER_CACHE_HOSTS = 10_000  # a long crawl meets many hosts: the oldest answers are forgotten first


class HostResolver:
    """Host name → its addresses, cached per host; `overrides` pin names like /etc/hosts does.

    Thread-safe (the guard resolves in worker threads). A name that does not resolve is cached as
    no addresses: the download itself then fails with the DNS error, which is recorded as the reason.
    """

    def __init__(self, overrides: dict[str, str] | None = None, max_hosts: int = RESOLVER_CACHE_HOSTS) -> None:
        self.overrides = {host.lower().rstrip("."): address for host, address in (overrides or {}).items()}
        self.max_hosts = max_hosts
        self._cache: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def addresses(self, host: str) -> tuple[str, ...]:
        """Every address `host` resolves to (overrides first), as strings; empty when it does not resolve."""
        host = host.lower().rstrip(".")
        if host in self.overrides:
            return (self.overrides[host],)
        with self._lock:
            if host in self._cache:
                self._cache.move_to_end(host)
                return self._cache[host]
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            found = tuple(dict.fromkeys(info[4][0].split("%")[0] for info in infos))
        except (OSError, UnicodeError):
            found = ()
        with self._lock:
            self._cache[host] = found
            while len(self._cache) > self.max_hosts:
                self._cache.popitem(last=False)
        return found

    def is_cached(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        with self._lock:
            return host in self.overrides or host in self._cache

    def resolve(self, host: str) -> str | None:
        """The first address of `host` (the one a connection would use), or None."""
        found = self.addresses(host)
        return found[0] if found else None


class AddressPolicy:
    """Refuses private, loopback, link-local, reserved and multicast addresses unless allow-listed.

    `allow`: CIDRs or host names let through (the demo allow-lists 127.0.0.0/8). `resolve_names`:
    judge the addresses a name resolves to (direct connections); off behind an egress proxy.
    """

    def __init__(self, allow: Iterable[str] = (), *, resolve_names: bool,
                 resolver: HostResolver | None = None) -> None:
        self.networks: list[Network] = []
        self.hosts: set[str] = set()
        for entry in allow:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.lower())
        self.resolve_names = resolve_names
        self.resolver = resolver or HostResolver()

    def refusal(self, url: str) -> str | None:
        """Why `url` must not be fetched, or None when it may. May block on DNS (see `refusal_async`)."""
        host = _host(url)
        if not host or host in self.hosts:
            return None
        for address in self._addresses(host):
            if _forbidden(address) and not any(address in net for net in self.networks):
                return f"refused: {host} is a private or reserved address ({address})"
        return None

    async def refusal_async(self, url: str) -> str | None:
        """`refusal` for code on an event loop: a name not yet resolved is resolved in a worker thread."""
        if self.needs_resolving(url):
            return await asyncio.to_thread(self.refusal, url)
        return self.refusal(url)

    def needs_resolving(self, url: str) -> bool:
        """Whether judging `url` would ask DNS (a name, direct connections, not cached yet)."""
        host = _host(url)
        return (self.resolve_names and bool(host) and host not in self.hosts and _literal(host) is None
                and not _is_localhost(host) and not self.resolver.is_cached(host))

    def _addresses(self, host: str) -> list[Address]:
        literal = _literal(host)
        if literal is not None:
            return [literal]
        if _is_localhost(host):
            return [ipaddress.ip_address("127.0.0.1")]
        if not self.resolve_names:
            return []
        return [address for text in self.resolver.addresses(host) if (address := _literal(text)) is not None]


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _forbidden(address: Address) -> bool:
    return not address.is_global or address.is_multicast
