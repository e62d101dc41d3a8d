"""A site's icon: found where browsers look for it (the page's icon link, else /favicon.ico), fingerprinted
only when it is an image, fetched once per site per crawl through the crawler's downloader, and kept with
the capture's signals and as evidence."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.favicons import icon_fingerprint, icon_url
from demo.server import SITES_DIR, DemoWeb
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory
from storage.models import Capture, Site
from tests.conftest import run_cli
from tests.databases import database_url

HEAD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>糖安康胶囊官网</title>
<link rel="apple-touch-icon" href="/touch-180.png"><link rel="stylesheet" href="/style.css">
<LINK REL="Shortcut Icon" HREF="//cdn.tangankang.test/static/logo.ico?v=2&amp;t=1">
<link rel="icon" href="/second.png"></head><body>"""


def test_the_icon_is_the_first_icon_link_of_the_page_else_favicon_ico_at_its_origin() -> None:
    assert icon_url(HEAD, "https://www.tangankang.test/p/index.html") == \
        "https://cdn.tangankang.test/static/logo.ico?v=2&t=1"  # scheme-relative, entities decoded
    assert icon_url('<link rel="icon" href="img/f.png">', "http://a.test/shop/list.html") == "http://a.test/shop/img/f.png"
    assert icon_url('<link rel="mask-icon" href="/m.svg"><p>无图标</p>', "http://a.test:8080/x?y=1") == \
        "http://a.test:8080/favicon.ico"
    assert icon_url('<link rel="icon" href="javascript:alert(1)">', "http://a.test/") == "http://a.test/favicon.ico"
    inline = "data:image/png;base64,iVBORw0KGgo="
    assert icon_url(f'<link rel="icon" href="{inline}">', "http://a.test/") == inline
    assert icon_url("<p>saved page</p>", "file:///tmp/page.html") is None


def test_only_images_are_fingerprinted() -> None:
    ico = (SITES_DIR / "fengshi-gutong.test" / "favicon.ico").read_bytes()
    png = (SITES_DIR / "tangan-cure.test" / "img" / "favicon.png").read_bytes()
    assert icon_fingerprint(ico) == hashlib.sha256(ico).hexdigest()
    assert icon_fingerprint(png) == hashlib.sha256(png).hexdigest()
    svg = b'<?xml version="1.0"?>\n<!-- logo --><svg xmlns="http://www.w3.org/2000/svg"></svg>'
    assert icon_fingerprint(svg) == hashlib.sha256(svg).hexdigest()
    # A server answering every path with its "not found" page (status 200 or not) has no icon.
    assert icon_fingerprint(b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>") is None
    assert icon_fingerprint(b"") is None


@pytest.mark.slow
def test_a_scan_keeps_each_sites_icon_fetched_once_through_the_proxy(demo_server: DemoWeb, demo_web: str,
                                                                     tmp_path: Path) -> None:
    config = tmp_path / "pharmwatch.toml"
    config.write_text(
        'watchlist = ["http://fengshi-gutong.test/", "http://tangan-cure.test/", "http://kangjian-pharmacy.test/"]\n'
        '[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\nmax_pages_per_site = 4\n'
        '[search]\nengines = []\n', encoding="utf-8")
    home = tmp_path / "home"
    before = {host: demo_server.hits(host) for host in ("fengshi-gutong.test", "tangan-cure.test")}
    scan = run_cli("scan", "--no-tips", home=home, proxy=demo_web, config=config)
    assert scan.returncode == 0, scan.stdout + scan.stderr
    with session_factory(make_engine(database_url(home)))() as session:
        captures = {domain: [c for c in session.scalars(select(Capture).join(Site).where(Site.domain == domain))]
                    for domain in ("fengshi-gutong.test", "tangan-cure.test", "kangjian-pharmacy.test")}
    ico = (SITES_DIR / "fengshi-gutong.test" / "favicon.ico").read_bytes()
    png = (SITES_DIR / "tangan-cure.test" / "img" / "favicon.png").read_bytes()
    expected = {"fengshi-gutong.test": {"url": "http://fengshi-gutong.test/favicon.ico",
                                        "sha256": hashlib.sha256(ico).hexdigest()},
                "tangan-cure.test": {"url": "http://tangan-cure.test/img/favicon.png",
                                     "sha256": hashlib.sha256(png).hexdigest()}}
    for domain, icon in expected.items():
        assert len(captures[domain]) > 1
        assert all(capture.signals["favicon"] == icon for capture in captures[domain])  # every page of the site
        # Every request to the site was a page, but one: its icon, asked for once in the crawl.
        assert demo_server.hits(domain) - before[domain] == len(captures[domain]) + 1
        assert BlobStore(home / "blobs").verify(icon["sha256"], ".img")  # the icon itself is evidence
    # kangjian-pharmacy.test has no icon: /favicon.ico answers the server's HTML "404 Not Found".
    plain = captures["kangjian-pharmacy.test"]
    assert plain and not any("favicon" in capture.signals for capture in plain)
