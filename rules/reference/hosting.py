"""Where a server is: offline IP → country with geoip2fast's bundled data (no network, no account).

Owns `server_country()`. Loopback, private, link-local, reserved and documentation addresses have no
country (None), nor has anything that is not an IP address. The data is loaded once, on first use.
"""

from __future__ import annotations

import ipaddress
import threading
from typing import Any

_LOCK = threading.Lock()
_GEOIP: Any = None


def _geoip() -> Any:
    global _GEOIP
    if _GEOIP is None:
        with _LOCK:
            if _GEOIP is None:
                from geoip2fast import GeoIP2Fast

                # The IPv6 file holds the IPv4 ranges too; both are shipped inside the package.
                _GEOIP = GeoIP2Fast(geoip2fast_data_file="geoip2fast-ipv6.dat.gz")
    return _GEOIP


def server_country(ip: str | None) -> str | None:
    """ISO 3166 country code of a public IP address (CN, US, HK, ...), or None when there is none."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global:
        return None
    code = getattr(_geoip().lookup(str(address)), "country_code", "")
    return code if isinstance(code, str) and len(code) == 2 and code.isalpha() and code != "--" else None
