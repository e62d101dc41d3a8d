"""The demo web: one loopback server that is every fake `.test` site, reachable as an HTTP proxy or by
Host header, and fixture sites that match what demo/manifest.yaml says about them."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from demo.manifest import DemoSite, ManifestError, load_manifest, load_search_engine_host
from demo.server import SITES_DIR, TEXT_TYPES, DemoWeb, discover_sites

ROOT = Path(__file__).resolve().parents[2]
SITES = load_manifest()
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoWeb]:
    with DemoWeb() as web:
        yield web


# --------------------------------------------------------------------------------------------- helpers


@dataclass
class Fetched:
    status: int
    headers: Message
    body: bytes

    @property
    def charset(self) -> str:
        return self.headers.get_content_charset() or "utf-8"

    @property
    def text(self) -> str:
        return self.body.decode(self.charset)


def via_proxy(demo: DemoWeb, url: str) -> Fetched:
    """Fetch `url` the way a crawler does: the demo web is its HTTP proxy (absolute-form requests)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": demo.url}))
    try:
        with opener.open(url, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read())


def by_host(demo: DemoWeb, host: str, path: str = "/", method: str = "GET",
            body: bytes | None = None, headers: dict[str, str] | None = None) -> Fetched:
    """Fetch like a browser talking to the site's own server: origin-form path plus Host header."""
    connection = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        return Fetched(response.status, response.msg, response.read())
    finally:
        connection.close()


def raw_exchange(demo: DemoWeb, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", demo.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


class PageParser(HTMLParser):
    """Collects the links a crawler would follow and the visible text nodes."""

    LINK_ATTRS = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
                  ("form", "action"), ("iframe", "src")}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text_nodes: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.links += [value for name, value in attrs if (tag, name) in self.LINK_ATTRS and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.text_nodes.append(data)


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


@dataclass
class SiteCrawl:
    pages: dict[str, Fetched] = field(default_factory=dict)
    broken: list[tuple[str, str, int]] = field(default_factory=list)  # (page, link, status)


def crawl_site(demo: DemoWeb, site: DemoSite) -> SiteCrawl:
    """Follow every same-site link (pages, images, scripts, styles, form actions) from the start URL."""
    result = SiteCrawl()
    queue: list[tuple[str, str]] = [("(start)", site.start_url)]
    seen = {site.start_url}
    while queue:
        referrer, url = queue.pop()
        fetched = via_proxy(demo, url)
        if fetched.status != 200:
            result.broken.append((referrer, url, fetched.status))
            continue
        result.pages[url] = fetched
        if fetched.headers.get_content_type() != "text/html":
            continue
        for link in parse(fetched.text).links:
            target = urldefrag(urljoin(url, link)).url
            if urlsplit(target).netloc == site.domain and target not in seen:
                seen.add(target)
                queue.append((url, target))
    return result


def site_text(demo: DemoWeb, site: DemoSite) -> str:
    """All visible text of all HTML pages of a site, one text node per line."""
    pages = crawl_site(demo, site).pages.values()
    return "\n".join(node for page in pages if page.headers.get_content_type() == "text/html"
                     for node in parse(page.text).text_nodes)


# --------------------------------------------------------------------------------------------- routing


def test_a_site_is_served_when_the_server_is_used_as_an_http_proxy(demo: DemoWeb) -> None:
    page = via_proxy(demo, "http://kangjian-pharmacy.test/?from=search")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(page.headers["Content-Length"]) == len(page.body)
    assert "康健大药房" in page.text


def test_a_site_is_served_by_host_header_like_an_ordinary_web_server(demo: DemoWeb) -> None:
    page = by_host(demo, "yaoshun-rx.test", "/order")
    assert page.status == 200
    assert "加微信 yaoshun88 下单" in page.text


def test_host_names_are_matched_without_case_port_or_trailing_dot(demo: DemoWeb) -> None:
    for host in ("TANGAN-CURE.TEST", "tangan-cure.test:80", "tangan-cure.test."):
        assert by_host(demo, host).status == 200, host


def test_path_without_suffix_serves_the_html_file_of_that_name(demo: DemoWeb) -> None:
    assert via_proxy(demo, "http://kangjian-pharmacy.test/rx").body == \
        via_proxy(demo, "http://kangjian-pharmacy.test/rx.html").body


def test_head_answers_with_the_headers_of_get_and_no_body(demo: DemoWeb) -> None:
    get = by_host(demo, "xueya-wen.test", "/")
    head = by_host(demo, "xueya-wen.test", "/", method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers["Content-Length"] == str(len(get.body))
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_an_unknown_host_gets_an_immediate_404_and_nothing_is_forwarded(demo: DemoWeb) -> None:
    started = time.monotonic()
    for url in ("http://www.baidu.com/", "http://clients2.google.com/service/update2", "http://127.0.0.1:9/"):
        assert via_proxy(demo, url).status == 404, url
    assert time.monotonic() - started < 2


def test_connect_is_refused_with_501_and_the_connection_closed(demo: DemoWeb) -> None:
    answer = raw_exchange(demo, b"CONNECT kangjian-pharmacy.test:443 HTTP/1.1\r\n"
                                b"Host: kangjian-pharmacy.test:443\r\n\r\n")
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 501")
    assert b"Content-Length:" in rest and b"Connection: close" in rest


def test_the_server_own_address_shows_an_index_of_the_demo_sites(demo: DemoWeb) -> None:
    index = by_host(demo, f"127.0.0.1:{demo.port}")
    assert index.status == 200
    for site in SITES:
        assert f"http://{site.domain}/" in index.text
    assert "http://search.test/" in index.text


def test_unknown_paths_get_404_and_robots_txt_allows_everything_by_default(demo: DemoWeb) -> None:
    assert via_proxy(demo, "http://tongfeng-ling.test/no-such-page").status == 404
    robots = via_proxy(demo, "http://tongfeng-ling.test/robots.txt")
    assert robots.status == 200
    assert robots.text.splitlines() == ["User-agent: *", "Allow: /"]


def test_nothing_outside_a_site_folder_nor_its_site_yaml_is_served(demo: DemoWeb) -> None:
    for path in ("/../kangjian-pharmacy.test/index.html", "/%2e%2e/%2e%2e/server.py", "/site.yaml",
                 "/../../manifest.yaml", "/a%00b", "/" + "a" * 5000, "/%ff%fe"):
        assert by_host(demo, "gbk-yaofang.test", path).status == 404, path


def test_a_form_post_is_answered_with_the_static_page_of_its_action(demo: DemoWeb) -> None:
    page = by_host(demo, "kangjian-pharmacy.test", "/prescription-submitted", method="POST",
                   body=b"patient_name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert page.status == 200
    assert "处方已提交" in page.text


def test_the_server_is_quiet_by_default_and_logs_each_request_when_verbose(
        capfd: pytest.CaptureFixture[str]) -> None:
    with DemoWeb() as quiet:
        via_proxy(quiet, "http://js-shop.test/")
    assert capfd.readouterr().err == ""
    with DemoWeb(verbose=True) as loud:
        via_proxy(loud, "http://js-shop.test/")
        via_proxy(loud, "http://js-shop.test/app.js")
    lines = capfd.readouterr().err.splitlines()
    assert len(lines) == 2 and "GET http://js-shop.test/app.js" in lines[1]


# --------------------------------------------------------------------------------------------- search.test


def test_search_test_is_delegated_to_demo_search_engine_handle(
        demo: DemoWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def handle(path_and_query: str) -> tuple[int, list[tuple[str, str]], bytes]:
        calls.append(path_and_query)
        return 200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "999")], "结果".encode()

    monkeypatch.setitem(sys.modules, "demo.search_engine", types.SimpleNamespace(handle=handle))
    page = via_proxy(demo, "http://search.test/s?wd=%E9%99%8D%E7%B3%96&pn=10")
    assert calls == ["/s?wd=%E9%99%8D%E7%B3%96&pn=10"]
    assert page.status == 200 and page.text == "结果"
    assert page.headers.get_all("Content-Length") == [str(len("结果".encode()))]


def test_search_test_answers_503_while_the_search_engine_is_not_installed(
        demo: DemoWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "demo.search_engine", None)  # makes the import raise ImportError
    page = via_proxy(demo, "http://search.test/")
    assert page.status == 503 and "search engine not installed" in page.text


def test_the_manifest_names_the_search_engine_host_the_server_routes() -> None:
    from demo.server import SEARCH_ENGINE_HOST

    assert load_search_engine_host() == SEARCH_ENGINE_HOST == "search.test"


# --------------------------------------------------------------------------------------------- GBK and JS


def test_the_gbk_site_is_served_as_gbk_and_keeps_a_character_gb2312_lacks(demo: DemoWeb) -> None:
    site = next(s for s in SITES if s.domain == "gbk-yaofang.test")
    page = via_proxy(demo, site.start_url)
    assert page.headers["Content-Type"] == "text/html; charset=gbk"
    assert b'<meta charset="gb2312">' in page.body  # as real sites do: the tag understates the charset
    text = page.body.decode("gbk")
    assert site.evidence_phrase in text
    with pytest.raises(UnicodeDecodeError):
        page.body.decode("utf-8")
    with pytest.raises(UnicodeEncodeError):
        "堃".encode("gb2312")


def test_every_site_text_file_can_be_sent_in_its_site_charset() -> None:
    for site in discover_sites().values():
        for file in site.root.rglob("*"):
            if file.suffix in TEXT_TYPES:
                file.read_text(encoding="utf-8").encode(site.charset)  # raises if a character cannot be sent


def test_the_js_shop_home_page_is_an_empty_shell_whose_claim_only_scripts_add(demo: DemoWeb) -> None:
    site = next(s for s in SITES if s.domain == "js-shop.test")
    shell = via_proxy(demo, site.start_url)
    assert site.needs_js and shell.status == 200
    assert "加载中…" in shell.text
    for word in (site.evidence_phrase, "根治", "降糖神丸"):
        assert word not in shell.text
    script = via_proxy(demo, "http://js-shop.test/app.js")
    assert script.status == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert "setTimeout" in script.text and "/api/products.json" in script.text
    api = via_proxy(demo, "http://js-shop.test/api/products.json")
    assert api.headers["Content-Type"] == "application/json; charset=utf-8"
    assert site.evidence_phrase in api.text


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_chromium_through_the_proxy_finds_the_js_shop_claim_after_scripts_run(demo: DemoWeb) -> None:
    from playwright.sync_api import sync_playwright

    site = next(s for s in SITES if s.domain == "js-shop.test")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             proxy={"server": demo.url})
        try:
            page = browser.new_page()
            response = page.goto(site.start_url, wait_until="load", timeout=20_000)
            assert response is not None and response.status == 200
            assert site.evidence_phrase not in response.text()
            page.wait_for_function("phrase => document.body.innerText.includes(phrase)",
                                   arg=site.evidence_phrase, timeout=15_000)
            assert site.evidence_phrase in page.inner_text("body")
            assert page.locator("img[alt='降糖神丸']").count() == 1
        finally:
            browser.close()


# --------------------------------------------------------------------------------------------- fixture sites


def test_every_site_folder_has_a_manifest_entry_and_every_entry_a_folder() -> None:
    assert {site.domain for site in SITES} == set(discover_sites())


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.domain)
def test_every_site_start_url_answers_200_in_the_charset_the_manifest_states(
        demo: DemoWeb, site: DemoSite) -> None:
    page = via_proxy(demo, site.start_url)
    assert page.status == 200
    assert page.charset == site.encoding


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.domain)
def test_every_internal_link_of_every_site_resolves(demo: DemoWeb, site: DemoSite) -> None:
    crawl = crawl_site(demo, site)
    assert not crawl.broken, f"links that do not resolve inside the demo web: {crawl.broken}"
    html_pages = [u for u, p in crawl.pages.items() if p.headers.get_content_type() == "text/html"]
    assert len(html_pages) >= 3, f"{site.domain} gives a crawler too little depth: {html_pages}"


@pytest.mark.parametrize("site", [s for s in SITES if not s.needs_js and not s.needs_ocr], ids=lambda s: s.domain)
def test_every_evidence_phrase_sits_in_one_visible_text_node_of_its_page(
        demo: DemoWeb, site: DemoSite) -> None:
    page = via_proxy(demo, site.evidence_url)
    assert page.status == 200
    assert any(site.evidence_phrase in node for node in parse(page.text).text_nodes)


def test_every_image_has_alt_text_and_every_page_a_title(demo: DemoWeb) -> None:
    for site in SITES:
        for url, page in crawl_site(demo, site).pages.items():
            if page.headers.get_content_type() != "text/html":
                continue
            assert "<title>" in page.text, url
            for tag in page.text.split("<img ")[1:]:
                assert 'alt="' in tag.split(">")[0], f"{url}: <img> without alt"


def test_the_licensed_pharmacy_shows_its_licences_and_keeps_rx_apart_without_cure_claims(
        demo: DemoWeb) -> None:
    home = via_proxy(demo, "http://kangjian-pharmacy.test/").text
    for credential in ("（浙）-经营性-2023-0012", "药品经营许可证：浙AA5710086", "浙ICP备2023012345号-1",
                       "91330106MA2KJ8XQ3T"):
        assert credential in home
    rx_page = via_proxy(demo, "http://kangjian-pharmacy.test/rx-metformin").text
    assert "处方药须凭处方在药师指导下购买和使用" in rx_page and "上传处方" in rx_page
    site = next(s for s in SITES if s.domain == "kangjian-pharmacy.test")
    all_text = site_text(demo, site)
    for red_flag in ("根治", "治愈", "无效退款", "保证", "100%", "无副作用", "微信", "免处方", "无需处方"):
        assert red_flag not in all_text, red_flag


def test_the_unlicensed_seller_shows_no_licence_and_no_icp_number(demo: DemoWeb) -> None:
    site = next(s for s in SITES if s.domain == "yaoshun-rx.test")
    all_text = site_text(demo, site)
    for credential in ("ICP", "许可证", "资格证书", "经营性"):
        assert credential not in all_text
    for drug in ("西地那非片", "他达拉非片", "格列本脲片", "阿莫西林胶囊", "地高辛片"):
        assert drug in all_text


def test_the_image_only_shop_writes_its_claims_only_in_its_images(demo: DemoWeb) -> None:
    from demo.ocr_images import IMAGE_TEXTS, SITE

    site = next(s for s in SITES if s.needs_ocr)
    all_text = site_text(demo, site)
    for phrase in (site.evidence_phrase, "xmk2026", "微信", "降压"):
        assert phrase not in all_text, phrase
    assert any(site.evidence_phrase in line for lines in IMAGE_TEXTS.values() for line in lines)
    for name in IMAGE_TEXTS:
        image = via_proxy(demo, f"http://{site.domain}/img/{name}")
        assert image.status == 200 and image.body == (SITE / name).read_bytes()


def test_the_hard_negatives_quote_or_warn_against_the_claims_they_must_not_be_flagged_for(
        demo: DemoWeb) -> None:
    hospital = via_proxy(demo, "http://renmin-hospital.test/diabetes").text
    assert "切勿轻信“根治糖尿病”“停用胰岛素”等虚假广告" in hospital
    news = via_proxy(demo, "http://yaojian-news.test/news-20240315").text
    assert "某网站宣称“7天根治痛风，成功率99%”，已被依法查处" in news
    assert "提醒消费者谨防" in news


# --------------------------------------------------------------------------------------------- manifest


def test_the_manifest_loader_rejects_values_outside_the_schema(tmp_path: Path) -> None:
    good = (ROOT / "demo" / "manifest.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "manifest.yaml"
    broken = good.replace("[disease_cure_claim, forbidden_ad_claim]", "[cure_claim]", 1)
    bad.write_text(broken, encoding="utf-8")
    with pytest.raises(ManifestError, match="unknown categories"):
        load_manifest(bad)


def test_manifest_fields_have_their_documented_types() -> None:
    for site in SITES:
        assert site.start_url == f"http://{site.domain}/"
        assert site.flagged == (site.expected == "flagged")
        assert site.flagged or not site.expected_categories
        assert site.needs_js == (site.domain == "js-shop.test")
        assert site.needs_ocr == (site.domain == "xinmai-kang.test")
    assert SITES_DIR.is_dir()


# --------------------------------------------------------------------------------------------- lifecycle


def test_stop_closes_idle_keep_alive_connections_and_frees_the_port() -> None:
    web = DemoWeb()
    port = web.start()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/", headers={"Host": "fengshi-gutong.test"})
    assert connection.getresponse().read()  # the connection now idles in keep-alive
    started = time.monotonic()
    web.stop()
    assert time.monotonic() - started < 3
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("GET", "/", headers={"Host": "fengshi-gutong.test"})
        connection.getresponse()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    web.stop()  # a second stop is harmless
    assert not web.running


@pytest.mark.slow
def test_serve_writes_the_port_file_once_listening_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    port_file = tmp_path / "demo.port"
    command = [sys.executable, "-m", "demo.server", "--port", "0", "--port-file", str(port_file)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.05)
        port = int(port_file.read_text())
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{port}"}))
        with opener.open("http://shenkang-tang.test/", timeout=10) as response:
            assert response.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not port_file.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
