"""A generated static web for the crawl benchmarks, served by Debian's nginx on loopback.

`build_static_web` writes shop sites of real-looking pages (nav, footer, inline style and scripts, 30-100 KB,
Chinese text from the corpus in tests/corpus/items, one product page in ten flagged) under `<folder>/hosts/
<host>/`; `StaticNginx` starts nginx as the current user with a temporary prefix (`daemon off`, no root
files touched) listening on 127.0.0.1 and serving `root <folder>/hosts/$host`. It answers the
absolute-form requests a forward proxy receives (`GET http://shop-7.test/p3.html`), so it is the crawl's
proxy exactly as the demo web is, and the `.test` names never reach DNS.
Large webs (the 100,000-page memory run) reuse a pool of distinct sites: host N is a symlink to pool
site N mod `distinct_sites`, so every URL is distinct while the disk holds the pool only.
"""

from __future__ import annotations

import getpass
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from rules.corpus import load_items

NGINX = "/usr/sbin/nginx"
CATEGORIES = 5  # category pages per site: index → category → product is depth 2 (the scan's default)


@dataclass(frozen=True)
class StaticWeb:
    """What `build_static_web` wrote: the hosts' entry URLs and the number of pages in all."""

    root: Path  # <root>/<host>/ holds each site's files
    entry_urls: list[str]
    pages: int
    bytes_per_page: int  # mean size of a distinct page


def host_name(number: int) -> str:
    return f"shop-{number}.test"


def build_static_web(folder: Path, *, sites: int, pages_per_site: int, distinct_sites: int | None = None,
                     seed: int = 18) -> StaticWeb:
    """Write `sites` sites of `pages_per_site` pages (index, categories, products) under `folder`."""
    if pages_per_site < CATEGORIES + 2:
        raise ValueError(f"a site needs at least {CATEGORIES + 2} pages (index, {CATEGORIES} categories, products)")
    items = load_items()
    flagged = [i for i in items if i.flagged and i.language == "zh" and i.scope != "ad"]
    benign = [i for i in items if not i.flagged and i.language == "zh"]
    chance = random.Random(seed)
    pool, hosts = folder / "pool", folder / "hosts"
    pool.mkdir(parents=True)
    hosts.mkdir()
    distinct = min(sites, distinct_sites or sites)
    written = 0
    for number in range(distinct):
        site = pool / f"s{number}"
        site.mkdir()
        for name, html in _site_pages(number, pages_per_site, chance, flagged, benign):
            data = html.encode("utf-8")
            (site / name).write_bytes(data)
            written += len(data)
    for number in range(sites):
        (hosts / host_name(number)).symlink_to(pool / f"s{number % distinct}", target_is_directory=True)
    return StaticWeb(hosts, [f"http://{host_name(n)}/" for n in range(sites)], sites * pages_per_site,
                     written // (distinct * pages_per_site))


def _site_pages(number: int, pages: int, chance: random.Random, flagged: list, benign: list):  # type: ignore[no-untyped-def]
    products = pages - 1 - CATEGORIES
    shop = f"康泰大药房第{number}分店"
    nav = "".join(f'<li><a href="/c{c}.html">分类 {c + 1}</a></li>' for c in range(CATEGORIES))
    yield "index.html", _page(shop, "首页", nav, chance, benign, links=[f"/p{p}.html" for p in range(min(4, products))])
    for category in range(CATEGORIES):
        links = [f"/p{p}.html" for p in range(products) if p % CATEGORIES == category]
        yield f"c{category}.html", _page(shop, f"分类 {category + 1}", nav, chance, benign, links=links)
    for product in range(products):
        source = flagged if chance.random() < 0.1 else benign
        siblings = [f"/p{(product + k) % products}.html" for k in (1, 2, 3)]
        yield f"p{product}.html", _page(shop, f"商品 {product}", nav, chance, source, links=siblings)


def _page(shop: str, heading: str, nav: str, chance: random.Random, source: list, links: list[str]) -> str:
    """One page: a realistic share of markup, style and script around 2,000-5,000 characters of text."""
    texts = [chance.choice(source) for _ in range(chance.randint(2, 5))]
    body = "".join(f'<section class="item"><h2>{t.title or heading}</h2>'
                   + "".join(f"<p>{line}</p>" for line in t.text.splitlines() if line.strip()) + "</section>"
                   for t in texts)
    filler = "".join(chance.choice(BENIGN_LINES) for _ in range(chance.randint(20, 60)))
    listing = "".join(f'<li class="goods"><a href="{href}"><img src="/img/{k}.jpg" alt="商品图片 {k}">'
                      f'<span class="name">{heading} 相关商品 {k}</span>'
                      f'<span class="price">￥{chance.randint(9, 999)}.00'
                      "</span></a></li>" for k, href in enumerate(links))
    script = "".join(f"window.__STATE__{k}={{\"sku\":{chance.randint(1, 10**9)},\"tracking\":\"{'x' * 200}\"}};"
                     for k in range(chance.randint(80, 300)))
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{heading} - {shop}</title>'
            f'<meta name="description" content="{shop}：正品保障，全国包邮">'
            '<meta name="viewport" content="width=device-width">'
            f"<style>{STYLE}</style><script src=\"/static/app.js\"></script></head><body>"
            f'<header><div class="logo">{shop}</div><ul class="nav">{nav}</ul>'
            '<form action="/search"><input name="q" placeholder="搜索药品"></form></header>'
            f'<main><h1>{heading}</h1>{body}<ul class="list">{listing}</ul><div class="notice">{filler}</div></main>'
            f'<footer><p>{shop} 版权所有 客服热线 400-800-{chance.randint(1000, 9999)}</p>'
            "<p>关于我们 | 帮助中心 | 隐私政策</p></footer>"
            f"<script>{script}</script></body></html>")


BENIGN_LINES = [
    "<p>本店所售商品均为正规渠道进货，支持七天无理由退换。</p>",
    "<p>温馨提示：请仔细阅读说明书并按说明使用或在药师指导下购买和使用。</p>",
    "<p>工作时间：周一至周日 9:00-21:00，节假日正常发货。</p>",
    "<p>满99元包邮，偏远地区除外；订单一般在24小时内发出。</p>",
    "<p>会员积分可抵扣现金，详情请咨询在线客服。</p>",
]
STYLE = ("body{margin:0;font-family:'PingFang SC','Microsoft YaHei',sans-serif;color:#333}"
         ".nav{display:flex;list-style:none}.nav li{margin:0 12px}.goods{display:inline-block;width:220px}"
         ".price{color:#e4393c;font-weight:700}footer{background:#f5f5f5;padding:20px;text-align:center}") * 12


class StaticNginx:
    """Debian's nginx serving `root` on a free loopback port, as the current user, until the block ends."""

    def __init__(self, root: Path, workers: int = 1) -> None:
        self.root = root
        self.workers = workers
        self.prefix = Path(tempfile.mkdtemp(prefix="pharmwatch-nginx-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> StaticNginx:
        if not os.access(NGINX, os.X_OK):
            raise SystemExit("nginx is not installed: apt-get install nginx-light (Debian)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        temps = "\n".join(f"  {kind}_temp_path {self.prefix}/{kind};" for kind in
                          ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root, nginx's workers would switch to `nobody`, who cannot read a private temp folder.
        user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
        (self.prefix / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes {self.workers};\npid {self.prefix}/nginx.pid;\n"
            f"error_log {self.prefix}/error.log warn;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\n{temps}\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 100000;\n"
            "  types { text/html html; }\n  default_type application/octet-stream;\n  charset utf-8;\n"
            f"  server {{\n    listen 127.0.0.1:{port};\n    server_name _;\n    root {self.root}/$host;\n"
            "    index index.html;\n  }\n}\n", encoding="utf-8")
        self.process = subprocess.Popen([NGINX, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
                                         "-e", str(self.prefix / "error.log")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"nginx did not start: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.process is not None:
            self.process.terminate()  # nginx's fast shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)
