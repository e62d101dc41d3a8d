"""A host name that resolves to a private or loopback address is refused, not only a literal address.

Real DNS, no fixture resolver: this machine's own host name resolves (through /etc/hosts / NSS) to
a loopback or private address, as an attacker's name pointing into the regulator's network would.
The demo web listens there, so an allow-listed scan reaches it and a default scan must not.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from demo.server import DemoWeb
from storage.db import make_engine, session_factory
from storage.models import Capture
from tests.conftest import run_cli
from tests.databases import database_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def own_name_resolving_privately() -> tuple[str, str]:
    name = socket.gethostname()
    try:
        address = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)[0][4][0]
    except OSError:
        pytest.skip(f"this machine's name {name!r} does not resolve")
    if ipaddress.ip_address(address).is_global or name.lower() in {"localhost"}:
        pytest.skip(f"this machine's name {name!r} resolves to a public address ({address})")
    return name, address


def scan_direct(url: str, allow: list[str], home: Path, tmp_path: Path) -> Capture:
    config = tmp_path / f"{home.name}.toml"
    config.write_text(f'watchlist = ["{url}"]\n[crawl]\nallow_private = {allow!r}\nrender_first_page = false\n'
                      "max_depth = 0\ndownload_timeout = 10\n".replace("'", '"'), encoding="utf-8")
    result = run_cli("scan", "--no-search", home=home, proxy=None, config=config)  # no proxy: the crawler resolves
    # One page, refused or answered 404 by the demo web: a scan that captured nothing says so (exit 5).
    assert result.returncode in (0, 5), result.stdout + result.stderr
    with session_factory(make_engine(database_url(home)))() as session:
        return session.scalars(select(Capture).where(Capture.url == url)).one()


def test_a_name_resolving_to_a_private_address_is_refused_unless_allow_listed(
        demo_server: DemoWeb, tmp_path: Path) -> None:
    name, address = own_name_resolving_privately()
    url = f"http://{name}:{urlsplit(demo_server.url).port}/"

    refused = scan_direct(url, [], tmp_path / "default", tmp_path)
    assert refused.error and "private or reserved" in refused.error and address in refused.error, refused.error
    assert demo_server.hits(name.lower()) == 0, "the refused request reached the server"

    allowed = scan_direct(url, [f"{address}/32"], tmp_path / "allowed", tmp_path)
    assert allowed.status_code is not None, allowed.error  # the demo web answered (any status)
    assert demo_server.hits(name.lower()) > 0
