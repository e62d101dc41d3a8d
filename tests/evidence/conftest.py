"""Fixtures for evidence packages: captures' WARC files written by the crawler's own code
(crawler/warc.py), PNG screenshots, a demo case, and a real RFC 3161 authority (`openssl ts -reply` behind a
tiny HTTP handler on loopback, with a throwaway CA and TSA certificate)."""

from __future__ import annotations

import hashlib
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cases.evidence import KeyPair, PackageSummary, PageEntry, build_package, init_keys
from crawler.items import CaptureItem
from crawler.warc import capture_warc

CAPTURED_AT = datetime(2026, 3, 2, 1, 30, 5, tzinfo=UTC)
CURE_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>糖尿病克星 特效降糖胶囊</title></head>
<body><h1>特效降糖胶囊</h1><p>纯中药配方，三个疗程根治糖尿病，永不复发，告别胰岛素！</p>
<p>无需处方，货到付款，微信下单。</p></body></html>"""


def png(width: int, height: int, seed: int = 0) -> bytes:
    """A real PNG (stripes, so it compresses but is not trivial) without needing an imaging library."""
    rows = []
    for y in range(height):
        shade = (y * 7 + seed * 40) % 256
        rows.append(b"\x00" + bytes((shade, (shade + 80) % 256, 200)) * width)
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


USER_AGENT = "Mozilla/5.0 (PharmWatch test)"
EGRESS_PROXY = "http://127.0.0.1:8899"


def fetch_warc(url: str, body: bytes, *, at: datetime = CAPTURED_AT, ip: str = "203.0.113.7", status: int = 200,
               content_type: str = "text/html; charset=utf-8") -> bytes:
    """A plain fetch as the crawler stores it (crawler/warc.py): request + response + metadata."""
    host = urlsplit(url).netloc
    item = CaptureItem(url=url, site=host, final_url=url, status_code=status, body=body, server_ip=ip, fetched_at=at,
                       content_type=content_type, request_headers=[("Host", host), ("User-Agent", "Mozilla/5.0")],
                       response_headers=[("Content-Type", content_type), ("Server", "nginx")])
    return capture_warc(item, user_agent=USER_AGENT, proxy=EGRESS_PROXY)


def rendered_warc(url: str, dom: bytes, screenshot: bytes, *, at: datetime = CAPTURED_AT,
                  ip: str = "203.0.113.7") -> bytes:
    """A Chromium-rendered page as the crawler stores it: resource records of DOM and screenshot + metadata."""
    item = CaptureItem(url=url, site=urlsplit(url).netloc, final_url=url, rendered=True, status_code=200, body=dom,
                       screenshot=screenshot, server_ip=ip, fetched_at=at)
    return capture_warc(item, user_agent=USER_AGENT, proxy=EGRESS_PROXY)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class DemoCase:
    """Everything `build_package` takes for a demo case, as the lead's database side would hand it over."""

    warcs: list[bytes]
    pages: list[PageEntry]
    case: dict[str, Any]
    findings: list[dict[str, Any]]
    custody: list[dict[str, Any]]
    screenshots: dict[str, bytes]

    def build(self, out: Path, keys: KeyPair, **kwargs: Any) -> PackageSummary:
        return build_package(out, warcs=self.warcs, pages=self.pages, case=self.case, findings=self.findings,
                             custody=self.custody, screenshots=self.screenshots, keys=keys, exported_by="supervisor.li",
                             **kwargs)


def demo_case() -> DemoCase:
    site = "tangan-cure.test"
    home_url, shop_url = f"http://{site}/", f"http://{site}/shop?item=7"
    body = CURE_PAGE.encode("utf-8")
    screenshot = png(640, 2400, seed=1)
    dom = body.replace(b"</body>", b"<div id=cart>\xe5\xb7\xb2\xe5\x8a\xa0\xe5\x85\xa5\xe8\xb4\xad\xe7\x89\xa9\xe8"
                                   b"\xbd\xa6</div></body>")
    plain = fetch_warc(home_url, body)
    rendered = rendered_warc(home_url, dom, screenshot, at=CAPTURED_AT + timedelta(seconds=4))
    shop = fetch_warc(shop_url, "<html><body>处方药 西地那非 无需处方 现货</body></html>".encode(),
                      at=CAPTURED_AT + timedelta(seconds=9))
    pages = [
        PageEntry(url=home_url, fetched_at=CAPTURED_AT.replace(tzinfo=None), title="糖尿病克星 特效降糖胶囊",
                  server_ip="203.0.113.7", status_code=200, capture_id=11, warc_sha256=sha(plain)),
        PageEntry(url=home_url, fetched_at=CAPTURED_AT + timedelta(seconds=4), title="糖尿病克星 特效降糖胶囊",
                  server_ip="203.0.113.7", status_code=200, rendered=True, capture_id=12, warc_sha256=sha(rendered),
                  screenshot_sha256=sha(screenshot)),
        PageEntry(url=shop_url, fetched_at=CAPTURED_AT + timedelta(seconds=9), server_ip="203.0.113.7",
                  status_code=200, capture_id=13, warc_sha256=sha(shop)),
    ]
    findings = [
        {"id": 101, "capture_id": 11, "rule_id": "pw-zh-diabetes-cure-001", "rule_version": 1,
         "rule_sha256": "ab" * 32, "title": "宣称根治糖尿病、摆脱胰岛素或限期康复", "category": "disease_cure_claim",
         "severity": "high", "legal_basis": ["广告法 第十六条", "广告法 第二十八条", "药品管理法 第九十条"],
         "spans": [[80, 85]], "excerpt": "纯中药配方，三个疗程根治糖尿病，永不复发，告别胰岛素！",
         "matches": ["根治糖尿病", "永不复发", "告别胰岛素"]},
        {"id": 102, "capture_id": 13, "rule_id": "pw-zh-rx-without-prescription-001", "rule_version": 2,
         "title": "处方药无需处方即可购买", "category": "banned_online_sale", "severity": "critical",
         "legal_basis": ["药品网络销售监督管理办法 第八条"], "excerpt": "处方药 西地那非 无需处方 现货",
         "matches": ["无需处方"]},
    ]
    custody = [
        {"id": 501, "at": CAPTURED_AT, "actor": "crawler", "action": "captured", "subject": "capture:11",
         "details": {"url": home_url, "warc_sha256": sha(plain)}, "prev_hash": "0" * 64, "hash": "1" * 64},
        {"id": 502, "at": CAPTURED_AT + timedelta(seconds=4), "actor": "crawler", "action": "captured",
         "subject": "capture:12", "details": {"url": home_url, "warc_sha256": sha(rendered),
                                              "screenshot_sha256": sha(screenshot)},
         "prev_hash": "1" * 64, "hash": "2" * 64},
        {"id": 503, "at": CAPTURED_AT + timedelta(seconds=9), "actor": "crawler", "action": "captured",
         "subject": "capture:13", "details": {"url": shop_url, "warc_sha256": sha(shop)},
         "prev_hash": "2" * 64, "hash": "3" * 64},
        {"id": 504, "at": CAPTURED_AT + timedelta(minutes=3), "actor": "scheduler", "action": "case_opened",
         "subject": "case:7", "details": {"risk": "critical"}, "prev_hash": "3" * 64, "hash": "4" * 64},
    ]
    case = {"id": 7, "site": site, "status": "open", "risk": "critical",
            "categories": ["banned_online_sale", "disease_cure_claim"], "opened_at": CAPTURED_AT + timedelta(minutes=3)}
    return DemoCase(warcs=[plain, rendered, shop], pages=pages, case=case, findings=findings, custody=custody,
                    screenshots={sha(screenshot): screenshot})


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return init_keys(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return init_keys(tmp_path_factory.mktemp("other-home"))


@pytest.fixture(scope="session")
def demo() -> DemoCase:
    return demo_case()


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory, demo: DemoCase, keys: KeyPair) -> PackageSummary:
    """The demo case exported once, without a timestamp (tests copy it before changing it)."""
    return demo.build(tmp_path_factory.mktemp("pkg") / "case-7.wacz", keys)


# --- a real RFC 3161 timestamp authority on loopback ---------------------------------------------------------

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass
class Authority:
    url: str
    folder: Path
    ca_pem: Path
    tsa_pem: Path
    requests: list[bytes]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_authority_files(folder: Path, *, name: str = "PharmWatch Test TSA",
                         eku: str = "critical,timeStamping") -> None:
    """A throwaway root CA (EC P-256) and a TSA certificate (RSA 2048) it signed, with `eku`."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "3", "-subj", f"/CN={name} Root CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}",
             cwd=folder)
    (folder / "tsa.ext").write_text(f"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                    f"extendedKeyUsage={eku}\n")
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
             "tsa.pem", "-days", "2", "-extfile", "tsa.ext", cwd=folder)
    (folder / "serial").write_text("01\n")
    (folder / "tsa.cnf").write_text(TSA_CONFIG.format(folder=folder))


def serve_authority(folder: Path) -> Iterator[Authority]:
    lock = threading.Lock()
    seen: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            query = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                seen.append(query)
                (folder / "query.tsq").write_bytes(query)
                done = subprocess.run(["openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "query.tsq",
                                       "-out", "reply.tsr"], cwd=folder, capture_output=True, timeout=60)
                reply = (folder / "reply.tsr").read_bytes() if done.returncode == 0 else b""
            if not reply:
                self.send_response(500)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Authority(url=f"http://127.0.0.1:{server.server_address[1]}/tsr", folder=folder,
                        ca_pem=folder / "ca.pem", tsa_pem=folder / "tsa.pem", requests=seen)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Authority]:
    folder = tmp_path_factory.mktemp("tsa")
    make_authority_files(folder)
    yield from serve_authority(folder)


@pytest.fixture(scope="session")
def stamped(tmp_path_factory: pytest.TempPathFactory, demo: DemoCase, keys: KeyPair,
            authority: Authority) -> PackageSummary:
    """The demo case exported with an RFC 3161 timestamp from the loopback authority."""
    return demo.build(tmp_path_factory.mktemp("stamped") / "case-7-stamped.wacz", keys, tsa_url=authority.url)
