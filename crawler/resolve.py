"""Which server a page came from: the host's address, resolved at capture time.

Through an egress proxy the connection's address is the proxy's, so the host name is resolved
here (cached per host) and that address is recorded, as a regulator needs it (domestic or
overseas hosting). `overrides` pin names to addresses like /etc/hosts does: the demo web uses
them to place its `.test` sites abroad or at home.
"""

from __future__ import annotations

import socket


class HostResolver:
    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        self.cache: dict[str, str | None] = {k.lower(): v for k, v in (overrides or {}).items()}

    def resolve(self, host: str) -> str | None:
        host = host.lower().rstrip(".")
        if host not in self.cache:
            try:
                self.cache[host] = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)[0][4][0]
            except (OSError, IndexError):
                self.cache[host] = None
        return self.cache[host]
